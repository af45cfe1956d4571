// The inference service behind POST /v1/infer, /v1/chat/completions and the GraphQL `infer` field: the student
// runtimes loaded in this process (onnxruntime-node sessions, one per bundle), each deployment's live revision as
// this process last saw it, and one request's validate -> preprocess -> generate.
//
// A request resolves its runtime once at its start and finishes on it: it holds the runtime from that moment
// (StudentRuntime.use), so when the live revision switches, the old runtime is released only when the last request
// that resolved it ends, even one still waiting for its turn or preprocessing. At most RIL_INFER_MAX_RUNTIMES
// runtimes stay loaded (least recently used idle ones go first; a deployment whose runtime went loads it again on
// its next request), and a bundle loaded for a deploy that then failed is released at once.
//
// Every request waits for its turn at the process's one AdmissionGate (RIL_INFER_CONCURRENCY running,
// RIL_INFER_QUEUE waiting, 503 beyond), whichever route it came by.
import { badInput, httpStatus, notFound } from '../errors.js';
import { AdmissionGate } from './admission.js';
import { DEFAULT_MAX_TOKENS } from './generation.js';
import { isHfManifest, readManifest, unpackBundle } from './bundle.js';
import { checkVariant } from '../deployments/service.js';
import { HfRuntime, type HfGenerateResult } from './hfRuntime.js';
import { preprocessImage } from './preprocess.js';
import { StudentRuntime } from './runtime.js';
import type { AppError } from '../errors.js';
import type { BundleCheck } from '../deployments/service.js';
import type { InferenceMetrics, InferenceOutcome } from '../observability/metrics.js';
import type { Services } from '../services.js';
import { CHAT_ROLES, type ChatMessage, type InferencePort, type InferRequest, type InferResult } from './port.js';
import { StopFilter, stopSequences } from './stop.js';
import type { SamplingParams } from './sampler.js';

type Deps = Services;

/** What a family's generation gives the request path: the ids, their text, the timings (an hf generation's result)
 * and how many rows shared its session runs (built-in batching; 1 for an hf student). */
type FamilyGeneration = HfGenerateResult & { batchSize: number };

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
  /** The runtime it runs: runtimeKey(sha, variant). */
  key: string;
  sha: string;
  variant: string | null;
  checkedAt: number;
}

/** Loaded runtimes of either family. */
export type LoadedRuntime = StudentRuntime | HfRuntime;

/** A runtime per bundle blob and variant: revisions of the same artifact and variant share one. A built-in bundle
 * (no variants) is keyed by its sha256 alone. */
export const runtimeKey = (sha: string, variant: string | null | undefined) => (variant ? `${sha}#${variant}` : sha);

/** Loads an unpacked bundle with the runtime of its family. The manifest alone says which (readManifest: parsed and
 * checked, no file hashed here), and the runtime's load verifies every file's sha256 once, before it opens any. */
async function loadRuntime(dir: string, variant: string | null, env: Services['env']): Promise<LoadedRuntime> {
  const manifest = readManifest(dir);
  if (isHfManifest(manifest)) {
    return HfRuntime.load(dir, { threads: env.RIL_INFER_THREADS, variant, maxImagePixels: env.RIL_INFER_MAX_IMAGE_PIXELS });
  }
  checkVariant(manifest, variant);
  return StudentRuntime.load(dir, {
    threads: env.RIL_INFER_THREADS,
    batch: env.RIL_INFER_BATCH === '1' ? { waitMs: env.RIL_INFER_BATCH_WAIT_MS, maxBatch: env.RIL_INFER_BATCH_MAX } : null,
  });
}

/**
 * The prompt of a conversation (or of a question: a conversation of one user message) and how many tokens may
 * follow it: the endpoint's step before preprocessing and generation (also used by
 * functions/evaluate/bundle-answers.ts, which scores a bundle the way the endpoint runs it). The student's tokenizer
 * applies its family's template (StudentTokenizer.encodeChat), so this stays one call whatever the family.
 */
export function promptOf(runtime: StudentRuntime, conversation: string | readonly ChatMessage[], maxTokens?: number | null): { promptIds: number[]; budget: number } {
  const messages = typeof conversation === 'string' ? [{ role: 'user' as const, text: conversation }] : conversation;
  const promptIds = runtime.tokenizer.encodeChat(messages);
  const budget = runtime.budget(promptIds.length);
  if (budget <= 0) throw badInput(`the question is too long for this model (${promptIds.length} prompt tokens)`);
  if (maxTokens != null && maxTokens > budget) throw badInput(`max_tokens ${maxTokens} is more than this model can generate after this question (${budget})`);
  return { promptIds, budget };
}

/** The request's conversation, checked: `messages`, or `question` as one user message. */
function conversationOf(req: InferRequest): ChatMessage[] {
  if (req.messages != null) {
    if (req.question != null) throw badInput('give question or messages, not both');
    if (!Array.isArray(req.messages) || req.messages.length === 0) throw badInput('messages must be a non-empty array');
    for (const [i, m] of req.messages.entries()) {
      if (!m || !CHAT_ROLES.includes(m.role)) throw badInput(`messages[${i}].role must be one of ${CHAT_ROLES.join(', ')}`);
      if (typeof m.text !== 'string') throw badInput(`messages[${i}].text must be a string`);
    }
    // the student answers the user: a conversation that ends with an assistant turn would ask it to continue one
    const last = req.messages.at(-1)!;
    if (last.role !== 'user') throw badInput('the last message must be the user\'s (the student answers it)');
    if (!last.text.trim()) throw badInput('the last user message needs text (the question)');
    return req.messages;
  }
  if (typeof req.question !== 'string' || !req.question.trim()) throw badInput('question is required (a non-empty string)');
  return [{ role: 'user', text: req.question }];
}

/** What Deployment.error shows for a load that failed with an internal error (onnxruntime's and the file
 * system's messages name paths and internals; they go to the server log instead). */
export const LOAD_FAILED = 'the bundle could not be loaded by this instance (see the server log)';

/** The ril_inference_requests_total outcome of a request that failed after it resolved its deployment. */
function failureOutcome(err: unknown): Exclude<InferenceOutcome, 'ok' | 'cancelled' | 'load_failed'> {
  const code = (err as AppError).extensions?.code;
  if (code === 'SERVICE_UNAVAILABLE') return 'overloaded';
  return typeof code === 'string' && httpStatus(code) < 500 ? 'rejected' : 'error';
}

export class InferenceService implements InferencePort {
  /** Runtimes loaded or loading, by runtimeKey (revisions of the same artifact and variant share one). */
  private readonly runtimes = new Map<string, Promise<LoadedRuntime>>();
  /** The loaded ones (the LRU is over these). */
  private readonly loaded = new Map<string, LoadedRuntime>();
  /** Deployment name -> its live revision as this process last saw it. */
  private readonly live = new Map<string, LiveEntry>();
  private readonly failures = new Map<string, string>();
  /** The one admission gate of this process's inference. */
  readonly gate: AdmissionGate;

  /** `metrics`: where finished requests are counted (ril_inference_*), `ril serve` only; synchronous calls, no awaits. */
  constructor(private readonly deps: Deps, private readonly metrics?: InferenceMetrics) {
    this.gate = new AdmissionGate(deps.env.RIL_INFER_CONCURRENCY, deps.env.RIL_INFER_QUEUE);
  }

  /** Unpacks (once), verifies and loads the bundle blob (that variant of it); the same promise for every caller. */
  runtimeFor(sha: string, variant: string | null = null): Promise<LoadedRuntime> {
    const key = runtimeKey(sha, variant);
    let rt = this.runtimes.get(key);
    if (!rt) {
      const { blobs, env } = this.deps;
      const loading = (async () => {
        const dir = await unpackBundle(() => blobs.openRead(sha), sha, env.bundleDir, env.RIL_MAX_BUNDLE_BYTES);
        return loadRuntime(dir, variant, env);
      })();
      rt = loading;
      this.runtimes.set(key, loading);
      loading.then((runtime) => {
        if (this.runtimes.get(key) !== loading) return void runtime.retire(); // dropped while it loaded
        this.loaded.set(key, runtime);
        this.evictIdle(key);
      }, () => { if (this.runtimes.get(key) === loading) this.runtimes.delete(key); });
    }
    return rt;
  }

  /** The runtimes loaded in this process (runtime keys: a bundle's blob sha256, #variant for a Hugging Face bundle's
   * non-default variant; least recently used first). */
  loadedRuntimes(): string[] {
    return [...this.loaded.entries()].sort((a, b) => a[1].lastUsedAt - b[1].lastUsedAt).map(([sha]) => sha);
  }

  /** Forgets a runtime: it takes no new requests and its sessions go when its last request ends. */
  private drop(sha: string) {
    const pending = this.runtimes.get(sha);
    this.runtimes.delete(sha);
    const rt = this.loaded.get(sha);
    this.loaded.delete(sha);
    if (rt) rt.retire();
    else void pending?.then((r) => r.retire(), () => undefined);
  }

  /** Over RIL_INFER_MAX_RUNTIMES: releases the least recently used runtimes that no request holds. */
  private evictIdle(keep?: string) {
    const max = this.deps.env.RIL_INFER_MAX_RUNTIMES;
    if (this.loaded.size <= max) return;
    const idle = [...this.loaded.entries()].filter(([sha, rt]) => sha !== keep && rt.busy === 0).sort((a, b) => a[1].lastUsedAt - b[1].lastUsedAt);
    for (const [sha] of idle) {
      if (this.loaded.size <= max) break;
      this.drop(sha);
    }
  }

  private isLive(key: string) {
    return [...this.live.values()].some((e) => e.key === key);
  }

  private setLive(name: string, entry: Omit<LiveEntry, 'checkedAt'>) {
    const before = this.live.get(name);
    this.live.set(name, { ...entry, checkedAt: Date.now() });
    this.failures.delete(name);
    if (before && before.key !== entry.key && !this.isLive(before.key)) this.drop(before.key);
  }

  /** The message Deployment.error shows for a failed load: ours for an expected refusal (a bundle that fails its
   * checks), a generic one for anything else (logged here with its details). */
  private failureMessage(name: string, err: unknown): string {
    const code = (err as AppError).extensions?.code;
    if (typeof code === 'string' && httpStatus(code) < 500) return (err as Error).message;
    console.error(`[inference] loading deployment ${name} failed:`, err);
    return LOAD_FAILED;
  }

  /** The deployment's live revision (cached for RIL_DEPLOYMENT_REFRESH_MS). */
  private async liveRevision(name: string): Promise<Omit<LiveEntry, 'checkedAt'>> {
    const cached = this.live.get(name);
    if (cached && Date.now() - cached.checkedAt <= this.deps.env.RIL_DEPLOYMENT_REFRESH_MS) return cached;
    const dep = await this.deps.db.prisma.deployment.findUnique({ where: { name } });
    if (!dep) throw notFound(`deployment ${name}`);
    if (!dep.liveRevisionId) throw notFound(`a live revision of deployment ${name}`);
    if (cached && cached.revisionId === dep.liveRevisionId) {
      cached.checkedAt = Date.now();
      return cached;
    }
    const rev = await this.deps.db.prisma.deploymentRevision.findUniqueOrThrow({ where: { id: dep.liveRevisionId }, include: { artifact: true } });
    return { revisionId: rev.id, revision: rev.revision, key: runtimeKey(rev.artifact.blobSha256, rev.variant), sha: rev.artifact.blobSha256, variant: rev.variant };
  }

  /** The live runtime of a deployment (NOT_FOUND for an unknown name or one without a live revision), held for
   * the caller until it calls `release`. */
  async resolve(name: string): Promise<{ runtime: LoadedRuntime; revision: number; release: () => void }> {
    for (let attempt = 0; ; attempt++) {
      const live = await this.liveRevision(name);
      let runtime: LoadedRuntime;
      try {
        runtime = await this.runtimeFor(live.sha, live.variant);
      } catch (err) {
        this.failures.set(name, this.failureMessage(name, err));
        this.metrics?.inferenceFailed(name, 'load_failed'); // the name is a deployment's (liveRevision found it)
        throw err;
      }
      // taken synchronously after the load settles: nothing can retire it in between
      const release = runtime.use();
      if (release) {
        if (this.live.get(name)?.revisionId !== live.revisionId) this.setLive(name, live);
        return { runtime, revision: live.revision, release };
      }
      // retired between loading and now (a switch or an eviction): look again
      if (attempt >= 3) throw new Error(`deployment ${name}: its runtime was retired ${attempt + 1} times while resolving`);
    }
  }

  /** The deploy-time check of a process that serves students: load and warm the sessions here, and make
   * the new revision live in this process at once (other instances follow within RIL_DEPLOYMENT_REFRESH_MS). */
  bundleCheck(): BundleCheck {
    return {
      check: async (sha, variant) => { await this.runtimeFor(sha, variant); },
      switched: (name, live) => this.setLive(name, {
        revisionId: live.revisionId, revision: live.revision, key: runtimeKey(live.sha256, live.variant), sha: live.sha256, variant: live.variant,
      }),
      abandoned: (sha, variant) => { const key = runtimeKey(sha, variant); if (!this.isLive(key)) this.drop(key); },
    };
  }

  /** What this process sees of a deployment: LIVE (its live revision is loaded here), STANDBY (loads on
   * the first request), FAILED (the last load here failed), EMPTY (no live revision). */
  observed(dep: { name: string; liveRevisionId: string | null }) {
    if (!dep.liveRevisionId) return { status: 'EMPTY' as const, error: null };
    const failure = this.failures.get(dep.name);
    if (failure) return { status: 'FAILED' as const, error: failure };
    const entry = this.live.get(dep.name);
    return { status: entry && entry.revisionId === dep.liveRevisionId && this.loaded.has(entry.key) ? 'LIVE' as const : 'STANDBY' as const, error: null };
  }

  /** Latency figures of the deployment's live runtime in this process. */
  async latency(name: string) {
    const entry = this.live.get(name);
    const rt = entry ? this.loaded.get(entry.key) : undefined;
    return rt?.latency.snapshot() ?? { requests: 0, p50Ms: null, p95Ms: null, ttftP50Ms: null, decodeTokensPerSecond: null };
  }

  /** One request: validate, resolve the live runtime, preprocess, generate, record timings. */
  async infer(req: InferRequest): Promise<InferResult> {
    const t0 = performance.now();
    const messages = conversationOf(req);
    const stop = stopSequences(req.stop);
    checkNumber('max_tokens', req.maxTokens, 1, this.deps.env.RIL_INFER_MAX_TOKENS, true);
    checkNumber('temperature', req.temperature, 0, 2);
    checkNumber('top_p', req.topP, 0, 1);
    checkNumber('top_k', req.topK, 0, 100_000, true);
    checkNumber('repetition_penalty', req.repetitionPenalty, 0.1, 10);
    checkNumber('seed', req.seed, 0, 2 ** 32 - 1, true);
    if (req.topP === 0) throw badInput('top_p must be greater than 0');
    if (!req.image?.length) throw badInput('image is required (base64 of an image)');
    const { runtime, revision, release } = await this.resolve(req.deployment);
    try {
      return await this.run(req, messages, stop, runtime, revision, t0);
    } catch (err) {
      // counted only once the name is known to be a deployment's: a caller's made-up name never becomes a label
      this.metrics?.inferenceFailed(req.deployment, req.signal?.aborted ? 'cancelled' : failureOutcome(err));
      throw err;
    } finally {
      release();
      this.evictIdle(); // a runtime kept past the cap because it was busy may go now
    }
  }

  private async run(req: InferRequest, messages: ChatMessage[], stop: string[], runtime: LoadedRuntime, revision: number, t0: number): Promise<InferResult> {
    // With stop sequences every token goes through the filter (streamed or not): it holds back text that may
    // become a stop sequence, and on a match aborts generation at once (no decode steps past the stop).
    const stopped = stop.length ? new AbortController() : null;
    const filter = stopped ? new StopFilter(stop, (id, text) => req.onToken?.(id, text)) : null;
    const onToken = filter ? (id: number, text: string) => { if (filter.push(id, text)) stopped!.abort(); } : req.onToken;
    const signal = stopped ? (req.signal ? AbortSignal.any([req.signal, stopped.signal]) : stopped.signal) : req.signal;
    const sampling = { temperature: req.temperature ?? 0, topP: req.topP ?? 1, topK: req.topK ?? 0, repetitionPenalty: req.repetitionPenalty ?? 1, seed: req.seed ?? undefined };
    const g = runtime.family === 'hf'
      ? await this.generateHf(req, messages, runtime, onToken, signal, sampling, t0)
      : await this.generateBuiltin(req, messages, runtime, onToken, signal, sampling, t0);
    let { tokenIds, finishReason } = g;
    let answer: string;
    if (filter?.matched) {
      // the runtime saw our abort as a cancellation; to the caller it is a stop sequence
      tokenIds = tokenIds.slice(0, filter.tokenCount);
      finishReason = 'stop';
      answer = filter.text;
    } else {
      filter?.end();
      answer = g.text;
    }
    const totalMs = performance.now() - t0;
    const ttftMs = g.preprocessMs + g.firstTokenMs;
    runtime.latency.record(totalMs, ttftMs, tokenIds.length, g.decodeMs);
    const tokensPerSecond = tokenIds.length > 1 && g.decodeMs > 0 ? (tokenIds.length - 1) / (g.decodeMs / 1000) : null;
    this.metrics?.inferred(req.deployment, finishReason === 'cancelled' ? 'cancelled' : 'ok', ttftMs / 1000, tokensPerSecond, g.batchSize);
    return {
      deployment: req.deployment, revision, answer, tokenIds, tokens: tokenIds.length, promptTokens: g.promptTokens,
      finishReason,
      timings: {
        preprocessMs: g.preprocessMs, ttftMs, decodeTokensPerSecond: tokensPerSecond, totalMs,
      },
    };
  }

  /** A built-in student: its byte/BPE prompt template, our preprocessing, the onnxruntime sessions (batched or not). */
  private async generateBuiltin(req: InferRequest, messages: ChatMessage[], runtime: StudentRuntime, onToken: InferRequest['onToken'],
    signal: AbortSignal | undefined, sampling: SamplingParams, t0: number): Promise<FamilyGeneration> {
    const { promptIds, budget } = promptOf(runtime, messages, req.maxTokens);
    const turn = await this.gate.acquire(req.signal);
    try {
      const pixelValues = await preprocessImage(req.image, runtime.manifest.preprocessing, {
        fastPng: this.deps.env.RIL_INFER_FAST_PNG === '1', maxPixels: this.deps.env.RIL_INFER_MAX_IMAGE_PIXELS,
      });
      const t1 = performance.now();
      const g = await runtime.generate({ pixelValues, promptIds, maxTokens: req.maxTokens ?? Math.min(DEFAULT_MAX_TOKENS, budget), onToken, signal, sampling });
      return { ...g, text: runtime.tokenizer.decode(g.tokenIds), preprocessMs: t1 - t0, promptTokens: promptIds.length };
    } finally {
      turn();
    }
  }

  /** A Hugging Face student: transformers.js runs its processor, chat template and graphs (hfRuntime.ts). */
  private async generateHf(req: InferRequest, messages: ChatMessage[], runtime: HfRuntime, onToken: InferRequest['onToken'],
    signal: AbortSignal | undefined, sampling: SamplingParams, t0: number): Promise<FamilyGeneration> {
    const turn = await this.gate.acquire(req.signal);
    try {
      const waited = performance.now() - t0; // the request's time before its turn counts as preprocessing, as above
      const g = await runtime.generate({
        image: req.image, turns: messages, maxTokens: req.maxTokens ?? DEFAULT_MAX_TOKENS, strictMaxTokens: req.maxTokens != null, sampling, onToken, signal,
      });
      return { ...g, preprocessMs: waited + g.preprocessMs, batchSize: 1 };
    } finally {
      turn();
    }
  }

  async close() {
    const all = [...this.runtimes.values()];
    this.runtimes.clear();
    this.loaded.clear();
    this.live.clear();
    await Promise.all(all.map((p) => p.then((r) => r.retire(), () => undefined)));
  }
}

