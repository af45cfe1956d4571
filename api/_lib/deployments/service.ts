// Artifacts, deployments and the inference service behind POST /v1/infer, /v1/chat/completions and the
// GraphQL `infer` field.
//
// A deploy loads the bundle first (unpack once, verify sha256s, create + warm up the sessions) and only then
// commits the new revision, so a bad bundle is refused and never goes live. Switching the live revision
// (deploy or rollback) swaps one pointer: a request resolves its runtime once at its start and finishes on
// it; the old runtime is released when its last in-flight request ends.
import { badInput, notFound } from '../errors.js';
import { inspectArchive, manifestSummary, unpackBundle } from '../inference/bundle.js';
import { preprocessImage } from '../inference/preprocess.js';
import { StudentRuntime } from '../inference/runtime.js';
import type { Services } from '../services.js';

export const ARTIFACT_KINDS = ['CHECKPOINT', 'BUNDLE', 'DISCRIMINATOR', 'OTHER'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** What the deployment service needs: the platform's services (api/context.ts). */
export type Deps = Services;

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

// ----------------------------------------------------------------------------------------------------------
// Artifacts
// ----------------------------------------------------------------------------------------------------------

export async function registerArtifact(deps: Deps, input: { blobSha256: string; kind: string; name: string; runId?: string | null; metadata?: unknown }) {
  if (!(ARTIFACT_KINDS as readonly string[]).includes(input.kind)) throw badInput(`unknown artifact kind ${input.kind}`);
  if (!input.name.trim()) throw badInput('an artifact needs a name');
  const blob = await deps.db.prisma.blob.findUnique({ where: { sha256: input.blobSha256 } });
  if (!blob || !(await deps.blobs.has(input.blobSha256))) throw badInput(`blob ${input.blobSha256} is not uploaded; upload it first (createBlobUpload + completeBlobUpload, or PUT /blobs/<sha256>)`);
  let metadata: Record<string, unknown> = input.metadata && typeof input.metadata === 'object' ? { ...(input.metadata as object) } : {};
  if (input.kind === 'BUNDLE') {
    const manifest = inspectArchive(await deps.blobs.read(input.blobSha256), input.blobSha256.slice(0, 12));
    metadata = { ...metadata, bundle: manifestSummary(manifest) };
  }
  return deps.db.prisma.artifact.create({
    data: { kind: input.kind, name: input.name.trim(), blobSha256: input.blobSha256, size: blob.size, runId: input.runId ?? null, metadata: JSON.stringify(metadata) },
  });
}

// ----------------------------------------------------------------------------------------------------------
// Inference requests
// ----------------------------------------------------------------------------------------------------------

export interface InferRequest {
  deployment: string;
  image: Buffer;
  question: string;
  maxTokens?: number | null;
  /** 0 = greedy (default). */
  temperature?: number | null;
  topP?: number | null;
  topK?: number | null;
  repetitionPenalty?: number | null;
  seed?: number | null;
  onToken?: (id: number, text: string) => void;
  signal?: AbortSignal;
}

export interface InferResult {
  deployment: string;
  revision: number;
  answer: string;
  tokenIds: number[];
  /** Generated tokens, the final <eos> included when the answer ended with one. */
  tokens: number;
  finishReason: 'stop' | 'length' | 'cancelled';
  timings: { preprocessMs: number; ttftMs: number; decodeTokensPerSecond: number | null; totalMs: number };
}

const DEFAULT_MAX_TOKENS = 64;

function checkNumber(name: string, v: number | null | undefined, lo: number, hi: number, integer = false) {
  if (v == null) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw badInput(`${name} must be ${integer ? 'an integer' : 'a number'} in ${lo}..${hi}`);
  }
}

// ----------------------------------------------------------------------------------------------------------
// The service: deployments + runtimes of this process
// ----------------------------------------------------------------------------------------------------------

interface LiveEntry {
  revisionId: string;
  revision: number;
  sha: string;
  runtime: Promise<StudentRuntime>;
  checkedAt: number;
}

export class InferenceService {
  /** Loaded runtimes by bundle blob sha256 (revisions of the same artifact share one). */
  private readonly runtimes = new Map<string, Promise<StudentRuntime>>();
  /** Deployment name -> its live revision as this process last saw it. */
  private readonly live = new Map<string, LiveEntry>();
  private readonly failures = new Map<string, string>();

  constructor(private readonly deps: Deps) {}

  /** Unpacks (once), verifies and loads the bundle blob; the same promise for every caller. */
  runtimeFor(sha: string): Promise<StudentRuntime> {
    let rt = this.runtimes.get(sha);
    if (!rt) {
      rt = (async () => {
        const dir = await unpackBundle(await this.deps.blobs.read(sha), sha, this.deps.env.bundleDir);
        return StudentRuntime.load(dir, { threads: this.deps.env.RIL_INFER_THREADS });
      })();
      this.runtimes.set(sha, rt);
      rt.catch(() => this.runtimes.delete(sha));
    }
    return rt;
  }

  private setLive(name: string, entry: Omit<LiveEntry, 'checkedAt'>) {
    const before = this.live.get(name);
    this.live.set(name, { ...entry, checkedAt: Date.now() });
    this.failures.delete(name);
    if (before && before.sha !== entry.sha) this.retireIfUnused(before.sha);
  }

  private retireIfUnused(sha: string) {
    if ([...this.live.values()].some((e) => e.sha === sha)) return;
    const rt = this.runtimes.get(sha);
    this.runtimes.delete(sha);
    void rt?.then((r) => r.retire(), () => undefined);
  }

  /** The live runtime of a deployment (NOT_FOUND for an unknown name or one without a live revision). */
  async resolve(name: string): Promise<{ runtime: StudentRuntime; revision: number }> {
    const cached = this.live.get(name);
    if (cached && Date.now() - cached.checkedAt <= this.deps.env.RIL_DEPLOYMENT_REFRESH_MS) {
      return { runtime: await cached.runtime, revision: cached.revision };
    }
    const dep = await this.deps.db.prisma.deployment.findUnique({ where: { name } });
    if (!dep) throw notFound(`deployment ${name}`);
    if (!dep.liveRevisionId) throw notFound(`a live revision of deployment ${name}`);
    if (cached && cached.revisionId === dep.liveRevisionId) {
      cached.checkedAt = Date.now();
      return { runtime: await cached.runtime, revision: cached.revision };
    }
    const rev = await this.deps.db.prisma.deploymentRevision.findUniqueOrThrow({ where: { id: dep.liveRevisionId }, include: { artifact: true } });
    const runtime = this.runtimeFor(rev.artifact.blobSha256);
    try {
      await runtime;
    } catch (err) {
      this.failures.set(name, (err as Error).message);
      throw err;
    }
    this.setLive(name, { revisionId: rev.id, revision: rev.revision, sha: rev.artifact.blobSha256, runtime });
    return { runtime: await runtime, revision: rev.revision };
  }

  /** Deploys a BUNDLE artifact as a new revision of `name` and makes it live. */
  async deploy(input: { name: string; artifactId: string; note?: string | null }) {
    const { prisma } = this.deps.db;
    if (!NAME_RE.test(input.name)) throw badInput('a deployment name is 1-63 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
    const artifact = await prisma.artifact.findUnique({ where: { id: input.artifactId } });
    if (!artifact) throw notFound(`artifact ${input.artifactId}`);
    if (artifact.kind !== 'BUNDLE') throw badInput(`artifact ${artifact.id} is a ${artifact.kind}; only BUNDLE artifacts can be deployed`);
    const runtime = this.runtimeFor(artifact.blobSha256);
    await runtime; // refuses a bad bundle before anything is written
    const rev = await prisma.$transaction(async (tx) => {
      const dep = await tx.deployment.upsert({ where: { name: input.name }, create: { name: input.name, status: 'LIVE' }, update: {} });
      const last = await tx.deploymentRevision.findFirst({ where: { deploymentId: dep.id }, orderBy: { revision: 'desc' } });
      const created = await tx.deploymentRevision.create({
        data: { deploymentId: dep.id, revision: (last?.revision ?? 0) + 1, artifactId: artifact.id, note: input.note ?? null },
      });
      await tx.deployment.update({ where: { id: dep.id }, data: { liveRevisionId: created.id, status: 'LIVE' } });
      return created;
    });
    this.setLive(input.name, { revisionId: rev.id, revision: rev.revision, sha: artifact.blobSha256, runtime });
    return prisma.deployment.findUniqueOrThrow({ where: { name: input.name } });
  }

  /** Makes `revision` (default: the newest revision older than the live one) live again. */
  async rollback(name: string, revision?: number | null) {
    const { prisma } = this.deps.db;
    const dep = await prisma.deployment.findUnique({ where: { name } });
    if (!dep) throw notFound(`deployment ${name}`);
    const current = dep.liveRevisionId ? await prisma.deploymentRevision.findUnique({ where: { id: dep.liveRevisionId } }) : null;
    const target = revision != null
      ? await prisma.deploymentRevision.findUnique({ where: { deploymentId_revision: { deploymentId: dep.id, revision } }, include: { artifact: true } })
      : await prisma.deploymentRevision.findFirst({
        where: { deploymentId: dep.id, revision: { lt: current?.revision ?? Number.MAX_SAFE_INTEGER } }, orderBy: { revision: 'desc' }, include: { artifact: true },
      });
    if (!target) throw revision != null ? notFound(`revision ${revision} of deployment ${name}`) : badInput(`deployment ${name} has no revision before the live one to roll back to`);
    const runtime = this.runtimeFor(target.artifact.blobSha256);
    await runtime;
    const updated = await prisma.deployment.update({ where: { id: dep.id }, data: { liveRevisionId: target.id, status: 'LIVE' } });
    this.setLive(name, { revisionId: target.id, revision: target.revision, sha: target.artifact.blobSha256, runtime });
    return updated;
  }

  /** What this process sees of a deployment: LIVE (its live revision is loaded here), STANDBY (loads on
   * the first request), FAILED (the last load here failed), EMPTY (no live revision). */
  observed(dep: { name: string; liveRevisionId: string | null }) {
    if (!dep.liveRevisionId) return { status: 'EMPTY' as const, error: null };
    const failure = this.failures.get(dep.name);
    if (failure) return { status: 'FAILED' as const, error: failure };
    const entry = this.live.get(dep.name);
    return { status: entry && entry.revisionId === dep.liveRevisionId ? 'LIVE' as const : 'STANDBY' as const, error: null };
  }

  /** Latency figures of the deployment's live runtime in this process. */
  async latency(name: string) {
    const entry = this.live.get(name);
    const rt = entry ? await entry.runtime.catch(() => null) : null;
    return rt?.latency.snapshot() ?? { requests: 0, p50Ms: null, p95Ms: null, ttftP50Ms: null, decodeTokensPerSecond: null };
  }

  /** One request: validate, resolve the live runtime, preprocess, generate, record timings. */
  async infer(req: InferRequest): Promise<InferResult> {
    const t0 = performance.now();
    if (typeof req.question !== 'string' || !req.question.trim()) throw badInput('question is required (a non-empty string)');
    checkNumber('max_tokens', req.maxTokens, 1, this.deps.env.RIL_INFER_MAX_TOKENS, true);
    checkNumber('temperature', req.temperature, 0, 2);
    checkNumber('top_p', req.topP, 0, 1);
    checkNumber('top_k', req.topK, 0, 100_000, true);
    checkNumber('repetition_penalty', req.repetitionPenalty, 0.1, 10);
    checkNumber('seed', req.seed, 0, 2 ** 32 - 1, true);
    if (req.topP === 0) throw badInput('top_p must be greater than 0');
    if (!req.image?.length) throw badInput('image is required (base64 of a PNG, JPEG or WebP)');
    const { runtime, revision } = await this.resolve(req.deployment);
    const promptIds = runtime.tokenizer.encodePrompt(req.question);
    const budget = runtime.budget(promptIds.length);
    if (budget <= 0) throw badInput(`the question is too long for this model (${promptIds.length} prompt tokens)`);
    if (req.maxTokens != null && req.maxTokens > budget) {
      throw badInput(`max_tokens ${req.maxTokens} is more than this model can generate after this question (${budget})`);
    }
    const pixelValues = await preprocessImage(req.image, runtime.manifest.preprocessing);
    const t1 = performance.now();
    const g = await runtime.generate({
      pixelValues, promptIds, maxTokens: req.maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, budget), onToken: req.onToken, signal: req.signal,
      sampling: { temperature: req.temperature ?? 0, topP: req.topP ?? 1, topK: req.topK ?? 0, repetitionPenalty: req.repetitionPenalty ?? 1, seed: req.seed ?? undefined },
    });
    const totalMs = performance.now() - t0;
    const ttftMs = t1 - t0 + g.firstTokenMs;
    runtime.latency.record(totalMs, ttftMs, g.tokenIds.length, g.decodeMs);
    return {
      deployment: req.deployment, revision, answer: runtime.tokenizer.decode(g.tokenIds), tokenIds: g.tokenIds, tokens: g.tokenIds.length,
      finishReason: g.finishReason,
      timings: {
        preprocessMs: t1 - t0, ttftMs,
        decodeTokensPerSecond: g.tokenIds.length > 1 && g.decodeMs > 0 ? (g.tokenIds.length - 1) / (g.decodeMs / 1000) : null, totalMs,
      },
    };
  }

  async close() {
    const all = [...this.runtimes.values()];
    this.runtimes.clear();
    this.live.clear();
    await Promise.all(all.map((p) => p.then((r) => r.retire(), () => undefined)));
  }
}

