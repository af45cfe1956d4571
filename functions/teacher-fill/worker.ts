// The TypeScript worker that runs inside `ril serve`: it claims TEACHER_FILL jobs from the same queue the
// GPU workers use (so fills are resumable, retried and visible), heartbeats while it works, and honours
// cancellation. TRAIN and EVALUATE jobs wait for a Python worker (`ril worker`).
import type { Platform } from '../../api/_lib/index.js';
import { claim, complete, fail, heartbeat, type QueueOptions } from '../../api/_lib/index.js';
import { fillTeacherCache } from '../../api/_lib/index.js';

export interface InProcessWorker { stop(): Promise<void>; workerId: string }

const LEASE_SECONDS = 60;

export async function startInProcessWorker(platform: Platform, opts: { pollMs: number; queue: QueueOptions }): Promise<InProcessWorker> {
  const { db, blobs } = platform;
  const worker = await db.prisma.worker.create({ data: { name: `ril-serve-${process.pid}`, keyId: null, capabilities: JSON.stringify({ kinds: ['TEACHER_FILL'], runtime: 'node' }) } });
  let stopping = false;
  let current: Promise<void> = Promise.resolve();

  async function runOne(): Promise<boolean> {
    const job = await claim(db, worker.id, ['TEACHER_FILL'], LEASE_SECONDS, opts.queue);
    if (!job) return false;
    const abort = new AbortController();
    const beat = setInterval(() => {
      heartbeat(db, job.id, worker.id, { leaseSeconds: LEASE_SECONDS }, opts.queue)
        .then((r) => { if (r.cancelRequested) abort.abort(new Error('cancelled')); })
        .catch(() => abort.abort(new Error('lease lost')));
    }, (LEASE_SECONDS * 1000) / 3);
    try {
      const input = JSON.parse(job.payload);
      const result = await fillTeacherCache({ prisma: db.prisma, blobs }, {
        datasetId: input.datasetId, teacher: input.teacher, samplesPerExample: input.samplesPerExample ?? 1,
        split: input.split ?? undefined, limit: input.limit ?? undefined, concurrency: input.concurrency ?? 4, signal: abort.signal,
      });
      if (result.failed > 0) await fail(db, job.id, worker.id, `${result.failed} of ${result.requested} requests failed: ${result.errors.slice(0, 3).join('; ')}`, true, opts.queue);
      else await complete(db, job.id, worker.id, result, opts.queue);
    } catch (err) {
      await fail(db, job.id, worker.id, (err as Error).message, !abort.signal.aborted, opts.queue).catch(() => undefined);
    } finally {
      clearInterval(beat);
    }
    return true;
  }

  const loop = async () => {
    while (!stopping) {
      let worked = false;
      current = runOne().then((w) => { worked = w; }).catch((err) => console.error('[worker] error:', (err as Error).message));
      await current;
      if (!worked && !stopping) await new Promise((r) => setTimeout(r, opts.pollMs));
    }
  };
  void loop();
  return {
    workerId: worker.id,
    async stop() { stopping = true; await current; },
  };
}
