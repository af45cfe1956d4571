// What a job needs from the worker that claims it, and what a worker has. Today one resource: GPUs. A TRAIN job
// needs its trainer config's `gpus` (0 = any worker, CPU included); a worker has the `gpus` it registered with
// (capabilities.gpus, absent = 0). The queue stores a job's need in Job.gpus at enqueue and claim() matches it
// against the claimer's registered capabilities, so the rule holds for every claimer (GraphQL, in-process, tests).
import type { Database } from '../db/index.js';
import { badInput } from '../errors.js';

/** The trainer schema's bound on config.gpus (functions/trainer/config.schema.json); a worker may report more. */
const MAX_WORKER_GPUS = 1024;

/** GPUs a job of `kind` with `payload` needs. Only TRAIN jobs ask (their config was validated at createExperiment). */
export function gpusNeeded(kind: string, payload: unknown): number {
  if (kind !== 'TRAIN' || !payload || typeof payload !== 'object') return 0;
  const gpus = (payload as { config?: { gpus?: unknown } }).config?.gpus;
  return Number.isInteger(gpus) && (gpus as number) > 0 ? (gpus as number) : 0;
}

/** GPUs a worker has, from its stored capabilities JSON. Anything but a non-negative integer counts as none (fails closed). */
export function workerGpus(capabilitiesJson: string | null | undefined): number {
  if (!capabilitiesJson) return 0;
  try {
    const gpus = (JSON.parse(capabilitiesJson) as { gpus?: unknown }).gpus;
    return Number.isInteger(gpus) && (gpus as number) > 0 ? (gpus as number) : 0;
  } catch {
    return 0;
  }
}

/** Registration's check of a worker's capabilities: `gpus`, when given, is what the queue trusts, so it must be sane. */
export function checkCapabilities(caps: Record<string, unknown>): void {
  if (!('gpus' in caps) || caps.gpus === null) return;
  const gpus = caps.gpus;
  if (!Number.isInteger(gpus) || (gpus as number) < 0 || (gpus as number) > MAX_WORKER_GPUS) {
    throw badInput(`capabilities.gpus must be an integer 0..${MAX_WORKER_GPUS} (the GPUs this worker can give one job; 0 or absent: a CPU worker)`);
  }
}

/** A worker counts as present when it claimed or heartbeated this recently (the Python worker polls every few seconds). */
export const LIVE_WORKER_MS = 10 * 60_000;

/** The most GPUs any worker seen within LIVE_WORKER_MS has (0 when none, or only CPU workers). */
export async function liveGpuCapacity(db: Database, now = new Date()): Promise<number> {
  const live = await db.prisma.worker.findMany({ where: { lastSeenAt: { gte: new Date(now.getTime() - LIVE_WORKER_MS) } }, select: { capabilities: true } });
  return live.reduce((max, w) => Math.max(max, workerGpus(w.capabilities)), 0);
}

/** Why a QUEUED job needing `gpus` is not being claimed, when that is the reason; null when some live worker fits. */
export function waitingForGpus(gpus: number, capacity: number): string | null {
  if (gpus <= 0 || capacity >= gpus) return null;
  return `waiting for a worker with ${gpus} GPU${gpus === 1 ? '' : 's'} (none seen in the last ${LIVE_WORKER_MS / 60_000} minutes${capacity ? `; the largest has ${capacity}` : ''})`;
}
