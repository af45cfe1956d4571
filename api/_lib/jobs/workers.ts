// Workers and the scoping rule: a worker is bound to the API key it registered with, and a worker may touch
// only the jobs (and the runs of the jobs) it holds. ADMIN keys may act for any worker (operations).
import type { Database } from '../db/index.js';
import { badInput, forbidden, notFound } from '../errors.js';
import type { Principal } from '../auth/keys.js';
import { heldJob } from './queue.js';

export async function registerWorker(db: Database, principal: Principal, input: { name: string; capabilities?: unknown }) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw badInput('worker name: 1-200 characters');
  const caps = input.capabilities ?? {};
  if (typeof caps !== 'object' || Array.isArray(caps)) throw badInput('capabilities must be a JSON object');
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

/** The run's current job must be leased to one of this key's workers (`workerId`). */
export async function assertHoldsRun(db: Database, principal: Principal, workerId: string, runId: string) {
  await ownWorker(db, principal, workerId);
  const run = await db.prisma.run.findUnique({ where: { id: runId } });
  if (!run) throw notFound(`run ${runId}`);
  if (!run.jobId) throw forbidden(`run ${runId} has no job`);
  await heldJob(db, run.jobId, workerId);
  return run;
}

/** Job ids held by this key's workers (what a WORKER key may see). */
export async function heldJobIds(db: Database, principal: Principal): Promise<string[]> {
  const workers = await db.prisma.worker.findMany({ where: { keyId: principal.keyId }, select: { id: true } });
  if (!workers.length) return [];
  const jobs = await db.prisma.job.findMany({ where: { leaseOwner: { in: workers.map((w) => w.id) }, status: 'LEASED' }, select: { id: true } });
  return jobs.map((j) => j.id);
}

/** For WORKER keys: some worker of this key must hold the run's current job (artifact uploads carry no worker id). */
export async function assertKeyHoldsRun(db: Database, principal: Principal, runId: string | null | undefined) {
  if (principal.role !== 'WORKER') return;
  if (!runId) throw forbidden('a worker key may only register artifacts of a run it is training');
  const run = await db.prisma.run.findUnique({ where: { id: runId } });
  const held = run?.jobId ? await db.prisma.job.findUnique({ where: { id: run.jobId } }) : null;
  const owner = held?.status === 'LEASED' && held.leaseOwner ? await db.prisma.worker.findUnique({ where: { id: held.leaseOwner } }) : null;
  if (!owner || owner.keyId !== principal.keyId) throw forbidden(`run ${runId} is not being trained by this key's workers`);
}
