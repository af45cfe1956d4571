// What a job needs from the worker that claims it, and what a worker has. Two needs: GPUs and Hugging Face transformers.
// A TRAIN job needs its trainer config's `gpus` (0 = any worker, CPU included); a worker has the `gpus` it registered
// with (capabilities.gpus, absent = 0). A TRAIN job of an hf student (config.student.family "hf") needs transformers
// (it trains and exports the model with it), and so does an EVALUATE job scoring an hf run's checkpoint (payload
// studentFamily "hf": eval / predict load the model with it); a worker has it when its capabilities name a transformers version. The
// queue stores a job's needs in Job.gpus / Job.needsTransformers at enqueue and claim() matches them against the
// claimer's registered capabilities, so the rule holds for every claimer (GraphQL, in-process, tests).
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

/**
 * Whether a job of `kind` with `payload` needs transformers: a TRAIN job of a Hugging Face student (its config), or an
 * EVALUATE job that loads an hf run's checkpoint in PyTorch (`studentFamily: "hf"`, set at enqueue from the run's
 * experiment: a run's checkpoint, or a suite job whose subject is the run). An EVALUATE job of a BUNDLE artifact or a
 * deployment runs the ONNX graphs and needs none.
 */
export function transformersNeeded(kind: string, payload: unknown): boolean {
  if (!payload || typeof payload !== 'object') return false;
  if (kind === 'TRAIN') return (payload as { config?: { student?: { family?: unknown } } }).config?.student?.family === 'hf';
  if (kind === 'EVALUATE') return (payload as { studentFamily?: unknown }).studentFamily === 'hf';
  return false;
}

/** The transformers version a worker registered with, or null (none, or anything but a version string: fails closed). */
export function workerTransformers(capabilitiesJson: string | null | undefined): string | null {
  if (!capabilitiesJson) return null;
  try {
    const v = (JSON.parse(capabilitiesJson) as { transformers?: unknown }).transformers;
    return typeof v === 'string' && v.trim() ? v : null;
  } catch {
    return null;
  }
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
  const tf = caps.transformers;
  if (tf != null && (typeof tf !== 'string' || !/^[0-9A-Za-z.+_-]{1,64}$/.test(tf))) {
    throw badInput('capabilities.transformers must be the installed transformers version (e.g. "5.24.0"), or absent');
  }
  if (!('gpus' in caps) || caps.gpus === null) return;
  const gpus = caps.gpus;
  if (!Number.isInteger(gpus) || (gpus as number) < 0 || (gpus as number) > MAX_WORKER_GPUS) {
    throw badInput(`capabilities.gpus must be an integer 0..${MAX_WORKER_GPUS} (the GPUs this worker can give one job; 0 or absent: a CPU worker)`);
  }
}

/** A worker counts as present when it claimed or heartbeated this recently (the Python worker polls every few seconds). */
export const LIVE_WORKER_MS = 10 * 60_000;

/** What the workers seen within LIVE_WORKER_MS offer: the most GPUs any has, and whether any has transformers. */
export interface LiveCapacity { gpus: number; transformers: boolean }

export async function liveCapacity(db: Database, now = new Date()): Promise<LiveCapacity> {
  const live = await db.prisma.worker.findMany({ where: { lastSeenAt: { gte: new Date(now.getTime() - LIVE_WORKER_MS) } }, select: { capabilities: true } });
  return {
    gpus: live.reduce((max, w) => Math.max(max, workerGpus(w.capabilities)), 0),
    transformers: live.some((w) => workerTransformers(w.capabilities) !== null),
  };
}

/** Why a QUEUED job with these needs is not being claimed, when no live worker meets one of them; null otherwise. */
export function waitingFor(needs: { gpus: number; needsTransformers: boolean }, capacity: LiveCapacity): string | null {
  const minutes = LIVE_WORKER_MS / 60_000;
  if (needs.gpus > 0 && capacity.gpus < needs.gpus) {
    return `waiting for a worker with ${needs.gpus} GPU${needs.gpus === 1 ? '' : 's'} (none seen in the last ${minutes} minutes${capacity.gpus ? `; the largest has ${capacity.gpus}` : ''})`;
  }
  if (needs.needsTransformers && !capacity.transformers) {
    return `waiting for a worker with Hugging Face transformers (an hf student; none seen in the last ${minutes} minutes: run \`ril worker\` with the trainer's [hf] extra, e.g. the .venv-hf of scripts/ensure-hf.sh)`;
  }
  return null;
}
