// Workers and the scoping rule: a worker is bound to the API key it registered with, and a worker may touch
// only the jobs (and the runs of the jobs) it holds, and only while its lease (owner + fencing token, see
// queue.ts) is current. ADMIN keys may act for any worker (operations), except registering a run's
// CHECKPOINT or BUNDLE: those come only from the lease holder's own key (checkpoints are code-adjacent: the
// next worker resumes from them).
import type { Database } from '../db/index.js';
import { badInput, forbidden, notFound } from '../errors.js';
import type { Principal } from '../auth/keys.js';
import { heldJob } from './queue.js';
import { checkCapabilities } from './requirements.js';

export async function registerWorker(db: Database, principal: Principal, input: { name: string; capabilities?: unknown }) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw badInput('worker name: 1-200 characters');
  const caps = input.capabilities ?? {};
  if (typeof caps !== 'object' || Array.isArray(caps)) throw badInput('capabilities must be a JSON object');
  checkCapabilities(caps as Record<string, unknown>);
  return db.prisma.worker.create({ data: { name, keyId: principal.keyId, capabilities: JSON.stringify(caps) } });
}

/**
 * The Worker row of a process that reaches the database directly (no API key): `ril serve`'s loop, `ril worker
 * --kind teacher-fill`, the cron function. Found by name so that a cron function called every minute keeps one row.
 */
export async function localWorker(db: Database, name: string, capabilities: Record<string, unknown>) {
  const existing = await db.prisma.worker.findFirst({ where: { name, keyId: null }, orderBy: { createdAt: 'asc' } });
  if (existing) return db.prisma.worker.update({ where: { id: existing.id }, data: { lastSeenAt: new Date(), capabilities: JSON.stringify(capabilities) } });
  return db.prisma.worker.create({ data: { name, keyId: null, capabilities: JSON.stringify(capabilities) } });
}

/** The worker, if the caller's key registered it. Unknown and foreign workers look the same (FORBIDDEN). */
export async function ownWorker(db: Database, principal: Principal, workerId: string) {
  const worker = await db.prisma.worker.findUnique({ where: { id: workerId } });
  if (!worker || (principal.role !== 'ADMIN' && worker.keyId !== principal.keyId)) throw forbidden(`worker ${workerId} does not belong to this key`);
  return worker;
}

/** The run's current job must be leased to one of this key's workers (`workerId`), on lease `attempt`. */
export async function assertHoldsRun(db: Database, principal: Principal, workerId: string, runId: string, attempt?: number) {
  await ownWorker(db, principal, workerId);
  const run = await db.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw notFound(`run ${runId}`);
  if (!run.jobId) throw forbidden(`run ${runId} has no job`);
  await heldJob(db, run.jobId, workerId, attempt);
  return { ...run, jobId: run.jobId };
}

/** Job ids held by this key's workers (what a WORKER key may see). */
export async function heldJobIds(db: Database, principal: Principal): Promise<string[]> {
  const workers = await db.prisma.worker.findMany({ where: { keyId: principal.keyId }, select: { id: true } });
  if (!workers.length) return [];
  const jobs = await db.prisma.job.findMany({ where: { leaseOwner: { in: workers.map((w) => w.id) }, status: 'LEASED' }, select: { id: true } });
  return jobs.map((j) => j.id);
}

/** Which workers a caller may list: a WORKER key its own, every other reader all of them. */
export const visibleWorkers = (principal: Principal) => (principal.role === 'WORKER' ? { keyId: principal.keyId } : {});

/** The lease an artifact is registered under: the run's current job, its worker and the fencing token. */
export interface ArtifactLease { runId: string; jobId: string; workerId: string; attempt: number }

/**
 * Who may attach an artifact to a run. A CHECKPOINT (a worker resumes from it) and a run's BUNDLE (what the
 * run trained) come only from the worker holding the run's CURRENT lease, named by `workerId` and `attempt`
 * (the fencing token claimJob returned as Job.attempts) and registered by the caller's own key; a WORKER key
 * attaches nothing to a run it does not hold. Returns the lease to write under (null: no lease needed, e.g.
 * an EDITOR's BUNDLE without a run). FORBIDDEN for the wrong caller, CONFLICT for a lease that moved on.
 */
export async function artifactLease(db: Database, principal: Principal, input: { kind: string; runId?: string | null; workerId?: string | null; attempt?: number | null }): Promise<ArtifactLease | null> {
  const runBound = input.kind === 'CHECKPOINT' || (input.kind === 'BUNDLE' && !!input.runId);
  if (!runBound && principal.role !== 'WORKER') return null;
  if (!input.runId) {
    if (principal.role === 'WORKER') throw forbidden('a worker key may only register artifacts of a run it is training');
    throw badInput('a CHECKPOINT belongs to a run: give runId');
  }
  const what = runBound ? `run ${input.runId}'s ${input.kind} artifacts` : `artifacts of run ${input.runId}`;
  if (!input.workerId || input.attempt == null) throw forbidden(`only the worker holding the lease of run ${input.runId} may register ${what} (give workerId and attempt)`);
  const worker = await db.prisma.worker.findUnique({ where: { id: input.workerId } });
  // strict for every role: an ADMIN key may not plant a checkpoint through a worker it did not register
  if (!worker || worker.keyId !== principal.keyId) throw forbidden(`worker ${input.workerId} does not belong to this key`);
  const run = await db.prisma.run.findUnique({ where: { id: input.runId } });
  if (!run) throw notFound(`run ${input.runId}`);
  if (!run.jobId) throw forbidden(`run ${input.runId} has no job`);
  await heldJob(db, run.jobId, worker.id, input.attempt);
  return { runId: run.id, jobId: run.jobId, workerId: worker.id, attempt: input.attempt };
}
