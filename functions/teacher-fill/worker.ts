// Long-lived drains of the TEACHER_FILL queue: `ril serve`'s in-process worker and `ril worker --kind teacher-fill`.
// Both call drainTeacherFills (./drain.ts) again and again with no time budget, and wait `pollMs` when the queue is
// empty. TRAIN and EVALUATE jobs wait for a Python worker (`ril worker`).
import { setTimeout as sleep } from 'node:timers/promises';
import type { QueueOptions, Services } from '../../api/_lib/index.js';
import { drainTeacherFills, type DrainOptions } from './drain.js';

export interface DrainLoopOptions {
  services: Services;
  workerName: string;
  /** Wait between drains when the queue is empty. */
  pollMs: number;
  /** Aborting pauses the current job (it is resumed by the next drain, here or elsewhere) and ends the loop. */
  signal: AbortSignal;
  queue?: QueueOptions;
  /** Return once a drain finds the queue empty (`ril worker --exit-when-idle`). */
  exitWhenIdle?: boolean;
  onProgress?: DrainOptions['onProgress'];
  onJobDone?: DrainOptions['onJobDone'];
}

export async function runDrainLoop(opts: DrainLoopOptions): Promise<void> {
  while (!opts.signal.aborted) {
    try {
      const summary = await drainTeacherFills({
        services: opts.services, budgetMs: Infinity, signal: opts.signal, workerName: opts.workerName, queue: opts.queue, onProgress: opts.onProgress, onJobDone: opts.onJobDone,
      });
      for (const j of summary.jobs) if (j.error) console.error(`[teacher-fill] job ${j.id}: ${j.outcome}: ${j.error}`);
      if (opts.exitWhenIdle && summary.stoppedBy === 'empty') return;
    } catch (err) {
      // e.g. the database is unreachable: say so, and try again after the poll interval
      console.error('[teacher-fill] drain failed:', (err as Error).message);
    }
    await sleep(opts.pollMs, undefined, { signal: opts.signal }).catch(() => undefined);
  }
}

export interface InProcessWorker { stop(): Promise<void>; workerName: string }

/** `ril serve`'s worker: the drain loop in the server's process, stopped with the server. */
export function startInProcessWorker(platform: Services, opts: { pollMs: number; queue: QueueOptions }): InProcessWorker {
  const workerName = `ril-serve-${process.pid}`;
  const abort = new AbortController();
  const loop = runDrainLoop({ services: platform, workerName, pollMs: opts.pollMs, signal: abort.signal, queue: opts.queue });
  return {
    workerName,
    async stop() { abort.abort(); await loop; },
  };
}
