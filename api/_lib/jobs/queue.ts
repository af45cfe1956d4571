// The job queue. One status enum, written at every transition; every transition is a compare-and-set
// (`updateMany` guarded by the expected status / lease owner), so two workers never hold the same job on
// SQLite or PostgreSQL without any dialect-specific locking. A run's status mirrors its job's and is written
// in the same transaction.
//
//   QUEUED --claim--> LEASED --complete--> SUCCEEDED
//                       |  \--fail(retryable, attempts left) / lease expired--> QUEUED (availableAt = now + backoff)
//                       |  \--fail(final) / attempts exhausted--> FAILED
//                       \--cancel requested, acknowledged by the worker--> CANCELLED
//
// A job may need GPUs (Job.gpus, from a TRAIN job's config.gpus) or transformers (Job.needsTransformers, an hf student's
// TRAIN job): only a worker whose registered capabilities
// report at least that many claims it. The need is a filter on the QUEUED rows a claimer reads, so it changes
// who may take the lease, never what a lease is.
import type { Database, PrismaClient } from '../db/index.js';
import { badInput, conflict, notFound } from '../errors.js';
import { queueEventsOf } from '../observability/queueEvents.js';
import { gpusNeeded, transformersNeeded, workerGpus, workerTransformers } from './requirements.js';
import type { Job } from '../../../generated/sqlite/index.js';

export const JOB_KINDS = ['TRAIN', 'TEACHER_FILL', 'EVALUATE'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobStatus = 'QUEUED' | 'LEASED' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
export type Tx = Omit<PrismaClient, '$connect' | '$disconnect' | '$on' | '$transaction' | '$extends'>;

const RUN_STATUS: Record<JobStatus, RunStatus> = {
  QUEUED: 'QUEUED', LEASED: 'RUNNING', SUCCEEDED: 'SUCCEEDED', FAILED: 'FAILED', CANCELLED: 'CANCELLED',
};

export interface QueueOptions {
  /** Backoff before attempt n+1 is base * 2^(n-1), capped. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  now?: () => Date;
}

export const DEFAULT_QUEUE: QueueOptions = { backoffBaseMs: 5_000, backoffMaxMs: 300_000 };

/** The longest lease a claim or a heartbeat may ask for: a worker that dies is noticed within this. */
export const MAX_LEASE_SECONDS = 3600;

function checkLeaseSeconds(leaseSeconds: number) {
  if (!Number.isInteger(leaseSeconds) || leaseSeconds < 1 || leaseSeconds > MAX_LEASE_SECONDS) throw badInput(`leaseSeconds must be 1..${MAX_LEASE_SECONDS}`);
}

/**
 * The fencing token of a lease is the job's `attempts` at claim time: every claim increments it, so a worker
 * whose lease expired and was claimed again (even by the same worker) holds a stale token and is refused.
 * Callers outside this process must give it; the in-process worker may omit it (`undefined`: owner only).
 */
const leaseGuard = (workerId: string, attempt?: number) => ({ status: 'LEASED', leaseOwner: workerId, ...(attempt !== undefined ? { attempts: attempt } : {}) });

export function backoffMs(attempts: number, opts: QueueOptions): number {
  return Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
}

const addMs = (d: Date, ms: number) => new Date(d.getTime() + ms);

async function mirrorRun(tx: Tx, job: Pick<Job, 'runId' | 'id'>, status: JobStatus, now: Date, error?: string | null) {
  if (!job.runId) return;
  const runStatus = RUN_STATUS[status];
  await tx.run.updateMany({
    where: { id: job.runId, jobId: job.id },
    data: {
      status: runStatus,
      ...(runStatus === 'RUNNING' ? { startedAt: now } : {}),
      ...(['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(runStatus) ? { finishedAt: now } : { finishedAt: null }),
      ...(error !== undefined ? { error } : {}),
    },
  });
}

export async function enqueue(db: Database, input: { kind: JobKind; payload: unknown; priority?: number; maxAttempts?: number; runId?: string }, tx: Tx = db.prisma) {
  if (!(JOB_KINDS as readonly string[]).includes(input.kind)) throw badInput(`unknown job kind ${input.kind}`);
  const maxAttempts = input.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) throw badInput('maxAttempts must be 1..100');
  return tx.job.create({
    data: {
      kind: input.kind, payload: JSON.stringify(input.payload ?? {}), status: 'QUEUED', priority: input.priority ?? 0, maxAttempts, runId: input.runId ?? null,
      gpus: gpusNeeded(input.kind, input.payload), needsTransformers: transformersNeeded(input.kind, input.payload),
    },
  });
}

/** Returns expired leases to the queue (or fails them when out of attempts). Safe to call from anywhere, any time. */
export async function requeueExpired(db: Database, opts: QueueOptions = DEFAULT_QUEUE): Promise<number> {
  const now = opts.now?.() ?? new Date();
  const expired = await db.prisma.job.findMany({ where: { status: 'LEASED', leaseExpiresAt: { lt: now } } });
  let moved = 0;
  let counted = 0;
  for (const job of expired) {
    const final = job.attempts >= job.maxAttempts || job.cancelRequested;
    const status: JobStatus = job.cancelRequested ? 'CANCELLED' : final ? 'FAILED' : 'QUEUED';
    const error = job.cancelRequested ? 'cancelled (the worker stopped answering)' : `lease expired (attempt ${job.attempts} of ${job.maxAttempts})`;
    await db.prisma.$transaction(async (tx) => {
      const { count } = await tx.job.updateMany({
        where: { id: job.id, status: 'LEASED', leaseExpiresAt: { lt: now } },
        data: {
          status, error, leaseOwner: null, leaseExpiresAt: null,
          ...(status === 'QUEUED' ? { availableAt: addMs(now, backoffMs(job.attempts, opts)) } : { finishedAt: now }),
        },
      });
      if (count === 1) { moved += 1; await mirrorRun(tx, job, status, now, error); }
    });
    // counted once the move committed (ril_job_lease_expiries_total); a transaction that lost the race counts nothing
    if (moved > counted) {
      counted = moved;
      queueEventsOf(db)?.leaseExpired(job.kind, status === 'QUEUED' ? 'requeued' : status === 'FAILED' ? 'failed' : 'cancelled');
    }
  }
  return moved;
}

/** How many rows of the queue's head a claim reads at once (see claim). */
const CLAIM_WINDOW = 8;

/**
 * Atomically leases the next available job of `kinds` that `workerId` can run to it, or returns null. What it can run
 * is read here from its Worker row (capabilities.gpus; an unknown worker has none), not taken from the caller, so a
 * claimer cannot ask for jobs its registration does not cover.
 */
export async function claim(db: Database, workerId: string, kinds: readonly JobKind[], leaseSeconds: number, opts: QueueOptions = DEFAULT_QUEUE): Promise<Job | null> {
  if (kinds.length === 0) throw badInput('claim needs at least one job kind');
  checkLeaseSeconds(leaseSeconds);
  await requeueExpired(db, opts);
  const worker = await db.prisma.worker.findUnique({ where: { id: workerId }, select: { capabilities: true } });
  const gpus = workerGpus(worker?.capabilities);
  const transformers = workerTransformers(worker?.capabilities) !== null;
  // Read the head of the queue a few rows at a time and try them in order: a claimer that loses the race for a row
  // moves on to the next one instead of re-reading the head that every other claimer is also fighting over (which
  // cost ~3 lost races per claim with 8 claimers on PostgreSQL, and let a claim give up while jobs were waiting:
  // bench/queue.ts). A lone claimer still takes the head, so the order (priority, then age) is kept.
  for (let round = 0; round < 50; round++) {
    const now = opts.now?.() ?? new Date();
    const candidates = await db.prisma.job.findMany({
      where: { status: 'QUEUED', kind: { in: [...kinds] }, availableAt: { lte: now }, gpus: { lte: gpus }, ...(transformers ? {} : { needsTransformers: false }) },
      orderBy: [{ priority: 'desc' }, { createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
      take: CLAIM_WINDOW,
    });
    if (candidates.length === 0) return null;
    for (const candidate of candidates) {
      // the compare-and-set: one UPDATE statement, atomic on both databases; only one claimer finds the row QUEUED.
      // (No interactive transaction around it: on SQLite that would hold a read lock while waiting for the writer.)
      const { count } = await db.prisma.job.updateMany({
        where: { id: candidate.id, status: 'QUEUED' },
        data: { status: 'LEASED', leaseOwner: workerId, leaseExpiresAt: addMs(now, leaseSeconds * 1000), heartbeatAt: now, attempts: { increment: 1 }, startedAt: now, error: null },
      });
      if (count !== 1) continue;
      const claimed = await db.prisma.job.findUniqueOrThrow({ where: { id: candidate.id } });
      // the run mirror is guarded by (run, job) and repeated by every heartbeat, so a crash in between heals
      await mirrorRun(db.prisma, claimed, 'LEASED', now, null);
      return claimed;
    }
  }
  return null; // 50 windows all taken under our feet: extreme contention, the caller polls again
}

/** The job, if `workerId` holds its lease (with fencing token `attempt` when given); CONFLICT otherwise (lease lost or never held). */
export async function heldJob(db: Database, jobId: string, workerId: string, attempt?: number): Promise<Job> {
  const job = await db.prisma.job.findUnique({ where: { id: jobId } });
  if (!job) throw notFound(`job ${jobId}`);
  if (job.status !== 'LEASED' || job.leaseOwner !== workerId) throw conflict(`job ${jobId} is not leased to worker ${workerId} (status ${job.status})`);
  if (attempt !== undefined && job.attempts !== attempt) throw conflict(`job ${jobId}: the lease of attempt ${attempt} was lost (the job is on attempt ${job.attempts})`);
  return job;
}

/**
 * Re-checks the lease inside a transaction and locks the job's row until it commits (a write: PostgreSQL
 * holds the row lock, SQLite the database write lock), so nothing the lease holder writes in `tx` can commit
 * after the lease moved to someone else. CONFLICT when the lease is no longer (owner, attempt)'s.
 */
export async function lockLease(tx: Tx, jobId: string, workerId: string, attempt: number | undefined, now: Date) {
  const { count } = await tx.job.updateMany({ where: { id: jobId, ...leaseGuard(workerId, attempt) }, data: { heartbeatAt: now } });
  if (count !== 1) throw conflict(`job ${jobId} is not leased to worker ${workerId}${attempt !== undefined ? ` (attempt ${attempt})` : ''}: the lease expired or the job ended`);
}

export async function heartbeat(db: Database, jobId: string, workerId: string, input: { step?: number | null; totalSteps?: number | null; leaseSeconds: number; attempt?: number }, opts: QueueOptions = DEFAULT_QUEUE) {
  checkLeaseSeconds(input.leaseSeconds);
  const now = opts.now?.() ?? new Date();
  const leaseExpiresAt = addMs(now, input.leaseSeconds * 1000);
  const { count } = await db.prisma.job.updateMany({
    where: { id: jobId, ...leaseGuard(workerId, input.attempt) },
    data: { heartbeatAt: now, leaseExpiresAt },
  });
  if (count !== 1) throw conflict(`job ${jobId} is not leased to worker ${workerId}${input.attempt !== undefined ? ` (attempt ${input.attempt})` : ''}: the lease expired or the job ended`);
  const job = await db.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
  if (job.runId) {
    await db.prisma.run.updateMany({
      where: { id: job.runId, jobId },
      data: { status: 'RUNNING', ...(input.step != null ? { step: input.step } : {}), ...(input.totalSteps != null ? { totalSteps: input.totalSteps } : {}) },
    });
  } else if (input.step != null && input.totalSteps != null) {
    // a job without a run (a suite evaluation) shows its progress where watchers read it (reportJobProgress)
    await reportJobProgress(db, jobId, workerId, { done: input.step, total: input.totalSteps });
  }
  await db.prisma.worker.updateMany({ where: { id: workerId }, data: { lastSeenAt: now } });
  return { cancelRequested: job.cancelRequested, leaseExpiresAt };
}

/** Work that commits with a job's success (in its transaction): e.g. queueing the evaluation of a trained run. */
export type OnSucceeded = (tx: Tx, job: Job) => Promise<unknown>;

async function finish(db: Database, jobId: string, workerId: string, attempt: number | undefined, status: JobStatus, data: { error?: string | null; result?: string | null; availableAt?: Date }, now: Date, onSucceeded?: OnSucceeded) {
  return db.prisma.$transaction(async (tx) => {
    const { count } = await tx.job.updateMany({
      where: { id: jobId, ...leaseGuard(workerId, attempt) },
      data: {
        status, leaseOwner: null, leaseExpiresAt: null,
        ...(data.error !== undefined ? { error: data.error } : {}),
        ...(data.result !== undefined ? { result: data.result } : {}),
        ...(status === 'QUEUED' ? { availableAt: data.availableAt ?? now } : { finishedAt: now }),
      },
    });
    if (count !== 1) throw conflict(`job ${jobId} is not leased to worker ${workerId}`);
    const job = await tx.job.findUniqueOrThrow({ where: { id: jobId } });
    await mirrorRun(tx, job, status, now, data.error);
    if (status === 'SUCCEEDED' && job.runId) {
      const run = await tx.run.findUnique({ where: { id: job.runId } });
      if (run) await tx.run.update({ where: { id: run.id }, data: { step: run.totalSteps } });
    }
    if (status === 'SUCCEEDED' && onSucceeded) await onSucceeded(tx, job);
    return job;
  });
}

export async function complete(db: Database, jobId: string, workerId: string, result: unknown, opts: QueueOptions = DEFAULT_QUEUE, attempt?: number, onSucceeded?: OnSucceeded) {
  const now = opts.now?.() ?? new Date();
  const job = await heldJob(db, jobId, workerId, attempt);
  if (job.cancelRequested) return finish(db, jobId, workerId, attempt, 'CANCELLED', { error: 'cancelled' }, now);
  return finish(db, jobId, workerId, attempt, 'SUCCEEDED', { result: JSON.stringify(result ?? null), error: null }, now, onSucceeded);
}

export async function fail(db: Database, jobId: string, workerId: string, error: string, retryable: boolean, opts: QueueOptions = DEFAULT_QUEUE, attempt?: number) {
  const now = opts.now?.() ?? new Date();
  const message = error.trim().slice(0, 10_000) || 'failed without a message';
  const job = await heldJob(db, jobId, workerId, attempt);
  if (job.cancelRequested) return finish(db, jobId, workerId, attempt, 'CANCELLED', { error: 'cancelled' }, now);
  if (retryable && job.attempts < job.maxAttempts) {
    return finish(db, jobId, workerId, attempt, 'QUEUED', { error: message, availableAt: addMs(now, backoffMs(job.attempts, opts)) }, now);
  }
  return finish(db, jobId, workerId, attempt, 'FAILED', { error: message }, now);
}

/**
 * The holder stops working on a job without failing it (its time budget ran out, or it is shutting down): the job
 * stays LEASED, its lease made to expire now, so the next claim or sweep (requeueExpired) puts it back in the queue,
 * and the attempt it used is given back (a pause is not a failure). What the job had done is kept by the job's own
 * work (a teacher fill's answers are in the cache), so whoever claims it next resumes it.
 */
export async function yieldLease(db: Database, jobId: string, workerId: string, opts: QueueOptions = DEFAULT_QUEUE) {
  const now = opts.now?.() ?? new Date();
  const { count } = await db.prisma.job.updateMany({
    where: { id: jobId, status: 'LEASED', leaseOwner: workerId, attempts: { gt: 0 } },
    // requeueExpired takes leases that expired strictly before its `now`
    data: { leaseExpiresAt: new Date(now.getTime() - 1), attempts: { decrement: 1 } },
  });
  if (count !== 1) throw conflict(`job ${jobId} is not leased to worker ${workerId}`);
}

/**
 * Progress of a job in its `result` while it is leased (`{ progress: {...} }`), for watchers such as `ril teachers fill`
 * against a remote API; the final result replaces it. False when the lease is no longer held (nothing written).
 */
export async function reportJobProgress(db: Database, jobId: string, workerId: string, progress: Record<string, number>): Promise<boolean> {
  const { count } = await db.prisma.job.updateMany({
    where: { id: jobId, status: 'LEASED', leaseOwner: workerId },
    data: { result: JSON.stringify({ progress }) },
  });
  return count === 1;
}

/** The queue's backoff settings from the environment (RIL_JOB_BACKOFF_MS, RIL_JOB_BACKOFF_MAX_MS). */
export const queueOptionsOf = (env: { RIL_JOB_BACKOFF_MS: number; RIL_JOB_BACKOFF_MAX_MS: number }): QueueOptions =>
  ({ backoffBaseMs: env.RIL_JOB_BACKOFF_MS, backoffMaxMs: env.RIL_JOB_BACKOFF_MAX_MS });

/** Cancels a queued job at once; a leased one is flagged and ends at its worker's next heartbeat. */
export async function requestCancel(db: Database, jobId: string, opts: QueueOptions = DEFAULT_QUEUE) {
  const now = opts.now?.() ?? new Date();
  return db.prisma.$transaction(async (tx) => {
    const queued = await tx.job.updateMany({ where: { id: jobId, status: 'QUEUED' }, data: { status: 'CANCELLED', finishedAt: now, error: 'cancelled' } });
    const job = await tx.job.findUniqueOrThrow({ where: { id: jobId } });
    if (queued.count === 1) await mirrorRun(tx, job, 'CANCELLED', now, 'cancelled');
    else if (job.status === 'LEASED') await tx.job.update({ where: { id: jobId }, data: { cancelRequested: true } });
    return tx.job.findUniqueOrThrow({ where: { id: jobId } });
  });
}
