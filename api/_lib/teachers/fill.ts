// Fills a teacher cache (TeacherResponse rows) by calling an ENDPOINT teacher's OpenAI-compatible
// chat-completions API, one request per (example, sample) pair, with the example's image sent inline as a
// data URL.
//
// Contract (BLUEPRINT "Teacher cache"): resumable, bounded concurrency, retries.
//   - Resumable: the work list is the pairs missing from the cache when the fill starts, so what is cached is
//     never asked again. Each answer is written as soon as it arrives, so a crash loses at most the requests
//     in flight. Writes are idempotent on (teacherId, exampleId, sample): if a concurrent fill wrote the pair
//     first, its row is kept and ours is dropped (counted as filled: the pair is cached either way).
//   - Retries: 408, 409, 429 (honouring Retry-After, capped), 5xx, network errors, per-request timeouts and
//     unusable 200s (non-JSON, no choices, empty content) are retried with exponential backoff and jitter.
//     Other 4xx (bad request, bad key, unknown model) would fail the same way again, so they are not.
//     A pair that runs out of attempts is counted as failed with a message, and the fill goes on.
//   - Secrets: the API key is read from the env var the teacher names, which must be one the operator allows
//     (RIL_SECRET_ENV_ALLOWLIST, checked here too: the row may predate the list), sent only as a bearer token, and
//     scrubbed from every message we produce. Remote bodies are never quoted in errors (a server can echo
//     anything into them): a failed request is described by its status and our own reason.
//   - Outbound rules (api/_lib/net/outbound.ts): every request goes through the guard, here in the process that
//     makes it (a fill runs wherever its job is drained): DNS-checked and pinned destination, no redirects,
//     size and time caps. A teacher whose host resolves to a refused address fails the fill before any request.
//
// Invariants of the result: filled + failed === requested (unless the fill is aborted, which rejects);
// requested + alreadyCached === examples covered x samplesPerExample.
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PrismaClient } from '../db/index.js';
import { badInput, notFound } from '../errors.js';
import type { BlobStore } from '../blobs/store.js';
import { loadEnv } from '../env.js';
import { OutboundError, outboundPolicyOf, outboundRequest, resolveDestination, type OutboundFailure, type OutboundSettings } from '../net/outbound.js';
import { checkSecretEnvName, type SecretSettings } from '../net/secrets.js';

export interface FillProgress {
  /** Pairs finished so far (filled + failed). */
  done: number;
  /** Pairs this fill asks for (the ones missing from the cache when it started). */
  total: number;
  filled: number;
  failed: number;
}

export interface FillDeps {
  prisma: PrismaClient;
  blobs: BlobStore;
  /** Where the teacher's API key variable is looked up (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** The operator's allowlists and caps (default: loaded from `env`). A drain passes its services' Env. */
  settings?: SecretSettings & OutboundSettings;
}

export interface FillOptions {
  datasetId: string;
  /** Teacher name (kind ENDPOINT, with a baseUrl). */
  teacher: string;
  /** Samples wanted per example, 1..64; sample k is requested with seed k. */
  samplesPerExample: number;
  /** Only examples of this split (default: all). */
  split?: 'train' | 'val' | 'test';
  /**
   * Only the first `limit` examples (by ordinal, within the split). The set of examples covered does not depend
   * on what is cached, so rerunning the same command resumes it, and a larger limit extends it.
   */
  limit?: number;
  /** Requests in flight at once, 1..64 (default 4). */
  concurrency?: number;
  /** Retries per pair after the first attempt, 0..20 (default 5). */
  maxRetries?: number;
  /** Per-request timeout in ms, including reading the body (default 120 000: large VLMs can be slow). */
  timeoutMs?: number;
  /** Sampling temperature, 0..2 (default 1: several samples per example should differ). */
  temperature?: number;
  /** max_tokens per answer (default 1024). */
  maxTokens?: number;
  /** First backoff delay in ms; doubles per retry, with jitter (default 1000). */
  backoffBaseMs?: number;
  /** Largest backoff delay in ms (default 60 000). */
  maxBackoffMs?: number;
  /** Largest wait taken from a Retry-After header, in ms (default 120 000). */
  maxRetryAfterMs?: number;
  /** Called once at the start (done = 0) and after each pair. */
  onProgress?: (p: FillProgress) => void;
  /** Aborting stops new requests, cancels those in flight and rejects with the signal's reason; what was
   *  written stays written, so the next fill resumes. */
  signal?: AbortSignal;
  /** A gentler stop (a time budget running out): no request is started after it aborts, those in flight finish and
   *  are cached, then the fill rejects with its reason (or resolves, if nothing was left). Nothing paid for is lost. */
  stopSignal?: AbortSignal;
}

export interface FillResult {
  /** Pairs that were missing and therefore asked for. */
  requested: number;
  filled: number;
  /** Pairs already cached when the fill started (not asked). */
  alreadyCached: number;
  failed: number;
  /** One line per failed pair (at most MAX_ERRORS; `failed` is the exact count). Never contains the API key. */
  errors: string[];
}

export const MAX_ERRORS = 100;

const DEFAULTS = {
  concurrency: 4,
  maxRetries: 5,
  timeoutMs: 120_000,
  temperature: 1,
  maxTokens: 1024,
  backoffBaseMs: 1000,
  maxBackoffMs: 60_000,
  maxRetryAfterMs: 120_000,
};

// ---------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------

function checkNumber(name: string, value: number | undefined, fallback: number, min: number, max: number, integer = true): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw badInput(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

interface Settings {
  samplesPerExample: number;
  limit?: number;
  concurrency: number;
  maxRetries: number;
  timeoutMs: number;
  temperature: number;
  maxTokens: number;
  backoffBaseMs: number;
  maxBackoffMs: number;
  maxRetryAfterMs: number;
}

function validateOptions(opts: FillOptions): Settings {
  if (opts.split !== undefined && !['train', 'val', 'test'].includes(opts.split)) {
    throw badInput(`split must be train, val or test (got ${String(opts.split)})`);
  }
  const samplesPerExample = checkNumber('samplesPerExample', opts.samplesPerExample, NaN, 1, 64);
  if (Number.isNaN(samplesPerExample)) throw badInput('samplesPerExample is required');
  return {
    samplesPerExample,
    limit: opts.limit === undefined ? undefined : checkNumber('limit', opts.limit, 0, 1, Number.MAX_SAFE_INTEGER),
    concurrency: checkNumber('concurrency', opts.concurrency, DEFAULTS.concurrency, 1, 64),
    maxRetries: checkNumber('maxRetries', opts.maxRetries, DEFAULTS.maxRetries, 0, 20),
    timeoutMs: checkNumber('timeoutMs', opts.timeoutMs, DEFAULTS.timeoutMs, 1, 3_600_000),
    temperature: checkNumber('temperature', opts.temperature, DEFAULTS.temperature, 0, 2, false),
    maxTokens: checkNumber('maxTokens', opts.maxTokens, DEFAULTS.maxTokens, 1, 1_000_000),
    backoffBaseMs: checkNumber('backoffBaseMs', opts.backoffBaseMs, DEFAULTS.backoffBaseMs, 0, 3_600_000),
    maxBackoffMs: checkNumber('maxBackoffMs', opts.maxBackoffMs, DEFAULTS.maxBackoffMs, 0, 3_600_000),
    maxRetryAfterMs: checkNumber('maxRetryAfterMs', opts.maxRetryAfterMs, DEFAULTS.maxRetryAfterMs, 0, 3_600_000),
  };
}

/** `${baseUrl}/chat/completions`, tolerating a trailing slash; baseUrl must be http(s). (The address checks are
 * the outbound guard's, where the request is made.) */
export function chatCompletionsUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw badInput('the teacher\'s baseUrl is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badInput('the teacher\'s baseUrl must be http(s)');
  return `${baseUrl.replace(/\/+$/, '')}/chat/completions`;
}

// ---------------------------------------------------------------------------------------------------------
// The chat-completions call
// ---------------------------------------------------------------------------------------------------------

/** Image MIME type from magic bytes; undefined if not a format chat endpoints accept. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...sig: number[]) => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x47, 0x49, 0x46, 0x38)) return 'image/gif';
  if (starts(0x52, 0x49, 0x46, 0x46) && bytes[8] === 0x57 && bytes[9] === 0x45 && bytes[10] === 0x42 && bytes[11] === 0x50) return 'image/webp';
  return undefined;
}

/** The answer text of a chat-completions body, or undefined if the body is not a usable answer. */
export function extractContent(body: unknown): string | undefined {
  const choices = (body as { choices?: unknown })?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return undefined;
  const content = (choices[0] as { message?: { content?: unknown } })?.message?.content;
  let text: string | undefined;
  if (typeof content === 'string') text = content;
  else if (Array.isArray(content)) {
    // Some servers return content as parts: [{type: 'text', text: '...'}, ...].
    text = content
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
      .join('');
  }
  return text !== undefined && text.trim() !== '' ? text : undefined;
}

/** Milliseconds to wait from a Retry-After value (delta-seconds or an HTTP date). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

type Attempt =
  | { ok: true; text: string }
  | { ok: false; retry: boolean; reason: string; retryAfterMs?: number };

const RETRYABLE_STATUS = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;

/** Guard failures that would fail the same way again. */
const FINAL_FAILURES: readonly OutboundFailure[] = ['url', 'blocked', 'redirect', 'too-large'];

// ---------------------------------------------------------------------------------------------------------
// The fill
// ---------------------------------------------------------------------------------------------------------

interface Pair {
  exampleId: string;
  externalId: string;
  question: string;
  imageSha256: string;
  sample: number;
}

/**
 * Everything about a fill that can be checked before it runs: the numbers, the dataset, an ENDPOINT teacher with
 * a usable baseUrl. The mutation that queues a fill calls it so that bad input fails there, not in a worker.
 * (The API key variable is not checked here: it must be set where the fill runs, which may be another process.)
 */
export async function checkFill(prisma: PrismaClient, opts: FillOptions) {
  const settings = validateOptions(opts);
  const dataset = await prisma.dataset.findUnique({ where: { id: opts.datasetId }, select: { id: true } });
  if (!dataset) throw notFound(`dataset ${opts.datasetId}`);
  const teacher = await prisma.teacher.findUnique({ where: { name: opts.teacher } });
  if (!teacher) throw notFound(`teacher ${opts.teacher}`);
  if (teacher.kind !== 'ENDPOINT') throw badInput(`teacher ${teacher.name} is ${teacher.kind}, not ENDPOINT: only ENDPOINT teachers can be called`);
  if (!teacher.baseUrl) throw badInput(`teacher ${teacher.name} has no baseUrl`);
  return { settings, dataset, teacher, endpoint: chatCompletionsUrl(teacher.baseUrl) };
}

export async function fillTeacherCache(deps: FillDeps, opts: FillOptions): Promise<FillResult> {
  const { prisma, blobs } = deps;
  const env = deps.env ?? process.env;
  const settings = deps.settings ?? loadEnv(env);
  const policy = outboundPolicyOf(settings);
  const { settings: s, dataset, teacher, endpoint } = await checkFill(prisma, opts);
  opts.signal?.throwIfAborted();
  let apiKey: string | undefined;
  if (teacher.apiKeyEnv) {
    checkSecretEnvName(`teacher ${teacher.name}'s apiKeyEnv`, teacher.apiKeyEnv, settings);
    apiKey = env[teacher.apiKeyEnv];
    // Name the variable, never a value.
    if (!apiKey) throw badInput(`teacher ${teacher.name} needs its API key in the environment variable ${teacher.apiKeyEnv}, which is not set`);
  }
  const redact = (text: string) => (apiKey ? text.split(apiKey).join('***') : text);
  // A refused destination fails the whole fill now, before any request (BAD_USER_INPUT: a drain does not retry
  // it). Each request checks again: the answer to this lookup is not trusted to hold.
  try {
    await resolveDestination(new URL(endpoint), policy);
  } catch (err) {
    if (err instanceof OutboundError && (err.failure === 'blocked' || err.failure === 'url')) throw badInput(`teacher ${teacher.name}: ${err.message}`);
    if (!(err instanceof OutboundError)) throw err;
    // DNS trouble may pass: the requests retry it
  }

  // --- Work list: examples covered (split, first `limit` by ordinal) x samples, minus what is cached. ---
  const examples = await prisma.example.findMany({
    where: { datasetId: dataset.id, ...(opts.split ? { split: opts.split } : {}) },
    orderBy: { ordinal: 'asc' },
    take: s.limit,
    select: { id: true, externalId: true, ordinal: true, question: true, imageSha256: true },
  });
  const cached = new Set<string>();
  if (examples.length > 0) {
    const lastOrdinal = examples[examples.length - 1].ordinal;
    const rows = await prisma.teacherResponse.findMany({
      where: {
        teacherId: teacher.id,
        sample: { lt: s.samplesPerExample },
        example: { datasetId: dataset.id, ordinal: { lte: lastOrdinal }, ...(opts.split ? { split: opts.split } : {}) },
      },
      select: { exampleId: true, sample: true },
    });
    for (const r of rows) cached.add(`${r.exampleId}/${r.sample}`);
  }
  const pairs: Pair[] = [];
  for (const e of examples) {
    for (let sample = 0; sample < s.samplesPerExample; sample++) {
      if (cached.has(`${e.id}/${sample}`)) continue;
      pairs.push({ exampleId: e.id, externalId: e.externalId, question: e.question, imageSha256: e.imageSha256, sample });
    }
  }

  const result: FillResult = { requested: pairs.length, filled: 0, alreadyCached: cached.size, failed: 0, errors: [] };
  const progress = () => opts.onProgress?.({ done: result.filled + result.failed, total: result.requested, filled: result.filled, failed: result.failed });
  progress();
  if (pairs.length === 0) return result;

  // Aborting `stop` cancels everything in flight: on the caller's abort, or on an unexpected error (e.g. the
  // database is gone), which then rejects the fill.
  const stop = new AbortController();
  const onCallerAbort = () => stop.abort(opts.signal!.reason);
  opts.signal?.addEventListener('abort', onCallerAbort, { once: true });

  // Data URLs, shared by the samples of one example. Pairs come in example order, so at most about
  // `concurrency` images are held; an entry is dropped when its last pair has taken it.
  const images = new Map<string, { pending: number; dataUrl?: Promise<string> }>();
  for (const p of pairs) {
    const entry = images.get(p.exampleId);
    if (entry) entry.pending++;
    else images.set(p.exampleId, { pending: 1 });
  }
  const dataUrlFor = (p: Pair): Promise<string> => {
    const entry = images.get(p.exampleId)!;
    if (!entry.dataUrl) {
      entry.dataUrl = blobs.read(p.imageSha256).then((bytes) => {
        const type = sniffImageType(bytes);
        if (!type) throw new PairError(`image ${p.imageSha256} is not PNG, JPEG, GIF or WebP`);
        return `data:${type};base64,${bytes.toString('base64')}`;
      }, (err: unknown) => {
        if ((err as { extensions?: { code?: unknown } })?.extensions?.code === 'NOT_FOUND') throw new PairError(`image blob ${p.imageSha256} is missing`);
        throw err;
      });
      entry.dataUrl.catch(() => {}); // handled by each awaiting pair
    }
    const dataUrl = entry.dataUrl;
    if (--entry.pending === 0) images.delete(p.exampleId);
    return dataUrl;
  };

  /** One HTTP attempt through the outbound guard; throws only on the caller's abort (or stop). */
  const attempt = async (body: string): Promise<Attempt> => {
    stop.signal.throwIfAborted();
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
      if (apiKey) headers.authorization = `Bearer ${apiKey}`;
      const res = await outboundRequest(endpoint, { method: 'POST', headers, body, signal: stop.signal, timeoutMs: s.timeoutMs }, policy);
      if (res.status < 200 || res.status >= 300) {
        // status and its standard name only: the body is the remote's words, not ours to pass on
        const reason = `HTTP ${res.status}${STATUS_CODES[res.status] ? ` ${STATUS_CODES[res.status]}` : ''}`;
        const retryAfter = res.status === 429 || res.status === 503 ? headerValue(res.headers['retry-after']) : null;
        return { ok: false, retry: RETRYABLE_STATUS(res.status), reason, retryAfterMs: parseRetryAfter(retryAfter) };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(res.body.toString('utf8'));
      } catch {
        return { ok: false, retry: true, reason: 'response is not JSON' };
      }
      const text = extractContent(parsed);
      if (text === undefined) return { ok: false, retry: true, reason: 'response has no answer text (choices[0].message.content missing or empty)' };
      return { ok: true, text };
    } catch (err) {
      if (stop.signal.aborted) throw stop.signal.reason;
      if (err instanceof OutboundError) return { ok: false, retry: !FINAL_FAILURES.includes(err.failure), reason: err.message };
      return { ok: false, retry: true, reason: 'network error' };
    }
  };

  const backoff = (retry: number, retryAfterMs?: number): number => {
    const ceiling = Math.min(s.maxBackoffMs, s.backoffBaseMs * 2 ** retry);
    const jittered = ceiling / 2 + Math.random() * (ceiling / 2); // "equal jitter": spreads retries, never ~0
    return Math.max(jittered, retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, s.maxRetryAfterMs));
  };

  const fail = (p: Pair, reason: string) => {
    result.failed++;
    if (result.errors.length < MAX_ERRORS) result.errors.push(redact(`example ${p.externalId} sample ${p.sample}: ${reason}`));
  };

  const runPair = async (p: Pair): Promise<void> => {
    let dataUrl: string;
    try {
      dataUrl = await dataUrlFor(p);
    } catch (err) {
      if (err instanceof PairError) return fail(p, err.message);
      throw err;
    }
    // One request per sample, with seed = sample index: `n > 1` is not supported by every OpenAI-compatible
    // server (several ignore it or reject it), and per-sample requests make each sample retryable on its own.
    const body = JSON.stringify({
      model: teacher.model,
      messages: [{ role: 'user', content: [{ type: 'text', text: p.question }, { type: 'image_url', image_url: { url: dataUrl } }] }],
      temperature: s.temperature,
      max_tokens: s.maxTokens,
      n: 1,
      seed: p.sample,
    });
    for (let tries = 0; ; tries++) {
      const outcome = await attempt(body);
      if (outcome.ok) {
        await saveResponse(prisma, { teacherId: teacher.id, exampleId: p.exampleId, sample: p.sample, text: outcome.text });
        result.filled++;
        return;
      }
      const attempts = tries + 1;
      if (!outcome.retry) return fail(p, `${outcome.reason} (not retried)`);
      if (tries >= s.maxRetries) return fail(p, `${outcome.reason} (gave up after ${attempts} attempt${attempts === 1 ? '' : 's'})`);
      // a soft stop ends the wait for a retry too: the pair stays missing and is asked by the next fill
      await sleep(backoff(tries, outcome.retryAfterMs), undefined, { signal: untilStopped }).catch(() => {
        throw stop.signal.aborted ? stop.signal.reason : new SoftStop();
      });
    }
  };

  // --- A small promise pool: `concurrency` workers take pairs in order. ---
  let next = 0;
  let fatal: { error: unknown } | undefined;
  const softStopped = () => opts.stopSignal?.aborted === true;
  const untilStopped = opts.stopSignal ? AbortSignal.any([stop.signal, opts.stopSignal]) : stop.signal;
  let unfinished = false;
  const worker = async () => {
    while (next < pairs.length && !stop.signal.aborted && !softStopped()) {
      const p = pairs[next++];
      try {
        await runPair(p);
        progress();
      } catch (error) {
        if (error instanceof SoftStop) { unfinished = true; return; }
        if (!fatal) fatal = { error: stop.signal.aborted ? stop.signal.reason : error };
        if (!stop.signal.aborted) stop.abort(error);
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(s.concurrency, pairs.length) }, worker));
  } finally {
    opts.signal?.removeEventListener('abort', onCallerAbort);
  }
  if (fatal) throw fatal.error;
  if (stop.signal.aborted) throw stop.signal.reason;
  if (softStopped() && (unfinished || next < pairs.length)) throw opts.stopSignal!.reason;
  return result;
}

const headerValue = (v: string | string[] | undefined): string | null => (Array.isArray(v) ? v[0] : v) ?? null;

/** A pair given up because of a soft stop (not a failure: it is asked again by the next fill). */
class SoftStop extends Error {}

/** A failure of one pair that is not worth retrying and must not stop the fill. */
class PairError extends Error {}

/**
 * Inserts one response; a row already there (a concurrent or earlier fill) wins and is kept. We insert and
 * swallow the unique violation rather than upsert: Prisma's upsert is a read-then-write that can itself race,
 * and createMany({ skipDuplicates }) does not exist on SQLite.
 */
async function saveResponse(prisma: PrismaClient, row: { teacherId: string; exampleId: string; sample: number; text: string }): Promise<void> {
  try {
    await prisma.teacherResponse.create({ data: row });
  } catch (err) {
    if ((err as { code?: unknown })?.code === 'P2002') return;
    throw err;
  }
}
