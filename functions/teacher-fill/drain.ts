// The one code path that works TEACHER_FILL jobs, whoever runs it: `ril serve`'s in-process loop, a standalone
// `ril worker --kind teacher-fill`, and the cron function api/cron/teacher-fill.ts. It claims jobs one at a time and
// fills until the queue is empty or its time budget is nearly spent.
//
// Stopping mid-job is cheap and loses nothing: every answer is in the cache as soon as it arrives, and a fill only
// asks for what is missing. So when the budget runs out (or the caller aborts, e.g. on SIGTERM) the job is paused,
// not failed: it stays LEASED with its lease expiring now (yieldLease), the next claim or sweep re-queues it, and
// whoever claims it next resumes where this one stopped.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  claim, complete, fail, faultSummary, fillOptionsOf, fillTeacherCache, heartbeat, localWorker, queueOptionsOf, reportJobProgress, yieldLease,
  type FillProgress, type FillResult, type QueueOptions, type Services,
} from '../../api/_lib/index.js';

export interface DrainOptions {
  services: Services;
  /** How long this drain may work, in ms (Infinity: until the queue is empty or `signal` aborts). */
  budgetMs: number;
  /** Aborting pauses the current job (as when the budget runs out) and ends the drain. */
  signal?: AbortSignal;
  /** The Worker row's name (one row per name; shown as the job's leaseOwner). */
  workerName: string;
  /** Lease length; heartbeats renew it every third of it (default 60). */
  leaseSeconds?: number;
  /** Default: from the environment (RIL_JOB_BACKOFF_MS, RIL_JOB_BACKOFF_MAX_MS). */
  queue?: QueueOptions;
  /** Progress of the job being filled (the CLI's progress bar). */
  onProgress?: (jobId: string, progress: FillProgress) => void;
  /** Called as each claimed job is settled (before the next claim). */
  onJobDone?: (job: DrainedJob) => void;
}

/** What became of one claimed job. PAUSED: left leased for a later drain; LOST: the lease was taken from us. */
export type DrainOutcome = 'SUCCEEDED' | 'QUEUED' | 'FAILED' | 'CANCELLED' | 'PAUSED' | 'LOST';

export interface DrainedJob { id: string; outcome: DrainOutcome; result?: FillResult; error?: string }

export interface DrainSummary {
  workerId: string;
  jobs: DrainedJob[];
  /** empty: no job was available; budget: the time budget ran out; signal: the caller aborted. */
  stoppedBy: 'empty' | 'budget' | 'signal';
  elapsedMs: number;
}

const DEFAULT_LEASE_SECONDS = 60;
/** The job's `result.progress` is written at most this often (watchers poll it). */
const PROGRESS_EVERY_MS = 1000;
/** Retries of a failed heartbeat start at this delay and double, for as long as the lease still holds. */
const HEARTBEAT_RETRY_MS = 250;

/**
 * Time kept back from the budget to stop cleanly: 10% of it, at most 5 s. At budget - reserve no request is started
 * (those in flight may finish and be cached: they are paid for); at budget - reserve/4 whatever is still in flight is
 * cancelled, and the rest is left for pausing the job.
 */
export const reserveMs = (budgetMs: number) => (Number.isFinite(budgetMs) ? Math.min(5000, budgetMs * 0.1) : 0);

type StopReason = 'budget' | 'signal' | 'cancelled' | 'lost';

export async function drainTeacherFills(opts: DrainOptions): Promise<DrainSummary> {
  const started = Date.now();
  const { db, env } = opts.services;
  const queue = opts.queue ?? queueOptionsOf(env);
  const leaseSeconds = opts.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  const stopAt = started + opts.budgetMs - reserveMs(opts.budgetMs);
  const cancelAt = started + opts.budgetMs - reserveMs(opts.budgetMs) / 4;
  const worker = await localWorker(db, opts.workerName, { kinds: ['TEACHER_FILL'], runtime: 'node' });
  const jobs: DrainedJob[] = [];
  const summary = (stoppedBy: DrainSummary['stoppedBy']): DrainSummary => ({ workerId: worker.id, jobs, stoppedBy, elapsedMs: Date.now() - started });

  for (;;) {
    if (opts.signal?.aborted) return summary('signal');
    if (Date.now() >= stopAt) return summary('budget');
    const job = await claim(db, worker.id, ['TEACHER_FILL'], leaseSeconds, queue);
    if (!job) return summary('empty');
    const done = await workOne(job, worker.id, { stopAt, cancelAt }, leaseSeconds, queue, opts);
    jobs.push(done);
    opts.onJobDone?.(done);
    if (done.outcome === 'PAUSED') return summary(opts.signal?.aborted ? 'signal' : 'budget');
  }
}

async function workOne(
  job: { id: string; payload: string }, workerId: string, deadlines: { stopAt: number; cancelAt: number }, leaseSeconds: number, queue: QueueOptions, opts: DrainOptions,
): Promise<DrainedJob> {
  const { db, blobs } = opts.services;
  const stop = new AbortController(); // cancels requests in flight
  const soft = new AbortController(); // starts no more requests
  let why: StopReason | undefined;
  const halt = (reason: StopReason) => {
    if (why && why !== 'budget') return;
    why = reason;
    stop.abort(new Error(`teacher fill stopped: ${reason}`));
  };
  const onSignal = () => halt('signal');
  opts.signal?.addEventListener('abort', onSignal, { once: true });
  const timers = Number.isFinite(deadlines.stopAt) ? [
    setTimeout(() => { why ??= 'budget'; soft.abort(new Error('teacher fill stopped: budget')); }, Math.max(0, deadlines.stopAt - Date.now())),
    setTimeout(() => halt('budget'), Math.max(0, deadlines.cancelAt - Date.now())),
  ] : [];

  // Heartbeats: a failed one is retried with backoff while the lease still holds (a database blip must not cost the
  // job); a CONFLICT means the lease is gone (expired and re-queued, or the job ended), so we stop at once.
  let leaseUntil = Date.now() + leaseSeconds * 1000;
  let beating = false;
  const beat = async () => {
    if (beating || why) return;
    beating = true;
    try {
      for (let retry = 0; !why; retry++) {
        try {
          const r = await heartbeat(db, job.id, workerId, { leaseSeconds }, queue);
          leaseUntil = r.leaseExpiresAt.getTime();
          if (r.cancelRequested) halt('cancelled');
          return;
        } catch (err) {
          if ((err as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT') return halt('lost');
          // back off, but never past the lease: the last try lands just before it runs out, not never
          const delay = Math.min(HEARTBEAT_RETRY_MS * 2 ** retry, leaseUntil - Date.now() - HEARTBEAT_RETRY_MS);
          if (delay <= 0) return halt('lost');
          console.error(`[teacher-fill] heartbeat of job ${job.id} failed (retrying in ${delay} ms):`, faultSummary(err));
          await sleep(delay);
        }
      }
    } finally {
      beating = false;
    }
  };
  const beats = setInterval(() => void beat(), (leaseSeconds * 1000) / 3);

  const settle = async (finish: () => Promise<{ status: string }>, extra: Omit<DrainedJob, 'id' | 'outcome'>): Promise<DrainedJob> => {
    try {
      return { id: job.id, outcome: (await finish()).status as DrainOutcome, ...extra };
    } catch (err) {
      if ((err as { extensions?: { code?: string } }).extensions?.code === 'CONFLICT') return { id: job.id, outcome: 'LOST', ...extra };
      throw err;
    }
  };

  // Progress goes to the job's result for watchers, throttled; a write that fails is only a stale progress bar.
  let lastWrite = 0;
  let latest: FillProgress | undefined;
  let writing: Promise<unknown> = Promise.resolve();
  const writeProgress = (p: FillProgress) => {
    writing = writing.then(() => reportJobProgress(db, job.id, workerId, { ...p })).catch(() => undefined);
  };
  const onProgress = (p: FillProgress) => {
    opts.onProgress?.(job.id, p);
    latest = p;
    const now = Date.now();
    if (now - lastWrite < PROGRESS_EVERY_MS && p.done !== p.total && p.done !== 0) return;
    lastWrite = now;
    writeProgress(p);
  };

  try {
    let result: FillResult;
    try {
      // the operator's key and host allowlists of this process's configuration: the guard applies where the requests are made
      result = await fillTeacherCache({ prisma: db.prisma, blobs, settings: opts.services.env }, { ...fillOptionsOf(job.payload), signal: stop.signal, stopSignal: soft.signal, onProgress });
      await writing;
    } catch (err) {
      if (why === 'budget' || why === 'signal') {
        if (latest) writeProgress(latest); // what a watcher sees while the job waits to be resumed
        await writing;
        return await settle(async () => { await yieldLease(db, job.id, workerId, queue); return { status: 'PAUSED' }; }, {});
      }
      await writing;
      if (why === 'lost') return { id: job.id, outcome: 'LOST' };
      const message = why === 'cancelled' ? 'cancelled' : (err as Error).message;
      // Bad input (teacher deleted or turned IMPORTED, key variable unset) fails the same way again: not retried.
      const code = (err as { extensions?: { code?: string } }).extensions?.code;
      const retryable = why !== 'cancelled' && code !== 'BAD_USER_INPUT' && code !== 'NOT_FOUND';
      return await settle(() => fail(db, job.id, workerId, message, retryable, queue), { error: message });
    }
    if (result.failed > 0) {
      // Retried as a whole: the next attempt asks only for the pairs that failed.
      const message = `${result.failed} of ${result.requested} requests failed: ${result.errors.slice(0, 3).join('; ')}`;
      return await settle(() => fail(db, job.id, workerId, message, true, queue), { result, error: message });
    }
    return await settle(() => complete(db, job.id, workerId, result, queue), { result });
  } finally {
    clearInterval(beats);
    for (const t of timers) clearTimeout(t);
    opts.signal?.removeEventListener('abort', onSignal);
  }
}
