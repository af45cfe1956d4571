// The inference service behind POST /v1/infer, /v1/chat/completions and the GraphQL `infer` field: the student
// runtimes loaded in this process (onnxruntime-node sessions, one per bundle), each deployment's live revision as
// this process last saw it, and one request's validate -> preprocess -> generate.
//
// A request resolves its runtime once at its start and finishes on it; when the live revision switches, the old
// runtime is released when its last in-flight request ends.
import { badInput, notFound } from '../errors.js';
import { unpackBundle } from './bundle.js';
import { preprocessImage } from './preprocess.js';
import { StudentRuntime } from './runtime.js';
import type { BundleCheck } from '../deployments/service.js';
import type { Services } from '../services.js';
import type { InferencePort, InferRequest, InferResult } from './port.js';

type Deps = Services;

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

export class InferenceService implements InferencePort {
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

  /** The deploy-time check of a process that serves students: load and warm the sessions here, and make
   * the new revision live in this process at once (other instances follow within RIL_DEPLOYMENT_REFRESH_MS). */
  bundleCheck(): BundleCheck {
    return {
      check: async (sha) => { await this.runtimeFor(sha); },
      switched: (name, live) => this.setLive(name, { revisionId: live.revisionId, revision: live.revision, sha: live.sha256, runtime: this.runtimeFor(live.sha256) }),
    };
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

