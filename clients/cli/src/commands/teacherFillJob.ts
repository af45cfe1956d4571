// How `ril teachers fill` follows the TEACHER_FILL job it queued: locally it drains the queue in this process (the
// same drain as `ril serve` and the cron function) until its job is settled; against an API it watches the job,
// whose `result.progress` the draining worker keeps current.
import { setTimeout as sleep } from 'node:timers/promises';
import { JobDocument, type RilClient } from '../../../sdk/src/index.js';
import { drainTeacherFills } from '../../../../functions/teacher-fill/drain.js';
import type { Local } from '../local.js';

export interface FillJobView { id: string; status: string; error?: string | null; result?: unknown }
interface Bar { update(done: number, total: number, extra?: string): void }
interface Progress { done: number; total: number; filled: number; failed: number }

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);
const POLL_MS = 1000;

const show = (bar: Bar, p: Progress) => bar.update(p.done, p.total, `filled ${p.filled} failed ${p.failed}`);

/** Drains until the job is settled (retries included); Ctrl-C pauses it (the next drain, anywhere, resumes it). */
export async function drainLocally(local: Local, jobId: string, bar: Bar): Promise<FillJobView> {
  const interrupted = new AbortController();
  const onSigint = () => interrupted.abort();
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      const ours = new AbortController();
      const signal = AbortSignal.any([interrupted.signal, ours.signal]);
      await drainTeacherFills({
        services: local, budgetMs: Infinity, signal, workerName: `ril-cli-${process.pid}`,
        onProgress: (id, p) => { if (id === jobId) show(bar, p); },
        // stop claiming once our job is settled: other queued fills are for the servers' workers
        onJobDone: (done) => { if (done.id === jobId && TERMINAL.has(done.outcome)) ours.abort(); },
      });
      const job = await local.db.prisma.job.findUniqueOrThrow({ where: { id: jobId } });
      const view = { id: job.id, status: job.status, error: job.error, result: job.result == null ? null : JSON.parse(job.result) };
      if (TERMINAL.has(job.status) || interrupted.signal.aborted) return view;
      // queued again after a failed attempt (backoff), or held by another worker: wait, then drain again
      await sleep(POLL_MS, undefined, { signal: interrupted.signal }).catch(() => undefined);
    }
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Polls the job until it is settled, showing the progress its worker reports. */
export async function watchRemotely(client: RilClient, jobId: string, bar: Bar): Promise<FillJobView> {
  for (;;) {
    const { job } = await client.request(JobDocument, { id: jobId });
    if (!job) throw new Error(`job ${jobId} disappeared`);
    const progress = (job.result as { progress?: Progress } | null)?.progress;
    if (progress) show(bar, progress);
    if (TERMINAL.has(job.status)) {
      const r = job.result as { requested?: number; filled?: number; failed?: number } | null;
      if (job.status === 'SUCCEEDED' && r?.requested != null) show(bar, { done: r.requested, total: r.requested, filled: r.filled ?? 0, failed: r.failed ?? 0 });
      return job;
    }
    await sleep(POLL_MS);
  }
}
