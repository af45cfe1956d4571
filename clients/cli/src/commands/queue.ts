// `ril workers` and `ril jobs`: what the queue's consumers registered with and what its jobs wait for, on a running
// platform through the SDK (RIL_API_URL / RIL_API_KEY). A WORKER key sees only its own workers and held jobs.
import type { Command } from 'commander';
import { JobsDocument, RilError, WorkersDocument, describeNeeds, describeWorker, type JobKind, type JobStatus } from '../../../sdk/src/index.js';
import { fail, intOption, print, table } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

const JOB_STATUSES = ['QUEUED', 'LEASED', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
const JOB_KINDS = ['TRAIN', 'TEACHER_FILL', 'EVALUATE'];

function oneOf(name: string, value: string | undefined, allowed: string[]): string | undefined {
  if (value === undefined) return undefined;
  const v = value.toUpperCase();
  if (!allowed.includes(v)) throw new RilError('BAD_USER_INPUT', `${name} must be one of ${allowed.join(', ')}`);
  return v;
}

/** `ril workers`: each worker's GPUs (count, memory, bf16), software and when it was last seen. */
export function workersCommand(workers: Command) {
  remoteOptions(workers)
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { workers: rows } = await remote(opts).request(WorkersDocument, {});
        print(opts, rows, () => (rows.length
          ? table(['id', 'name', 'gpus', 'capabilities', 'last seen'], rows.map((w) => [w.id, w.name, w.gpus, describeWorker(w), w.lastSeenAt]))
          : 'no workers registered'));
      } catch (err) { fail(err); }
    });
}

/** `ril jobs`: the queue, newest first, with what each job needs and why a queued one is not being picked up. */
export function jobsCommand(jobs: Command) {
  remoteOptions(jobs)
    .option('--status <status>', `only this status: ${JOB_STATUSES.join(' | ')}`)
    .option('--kind <kind>', `only this kind: ${JOB_KINDS.join(' | ')}`)
    .option('--limit <n>', 'at most this many (newest first)', intOption, 50)
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const status = oneOf('--status', opts.status, JOB_STATUSES) as JobStatus | undefined;
        const kind = oneOf('--kind', opts.kind, JOB_KINDS) as JobKind | undefined;
        const { jobs: rows } = await remote(opts).request(JobsDocument, { status, kind, first: opts.limit });
        print(opts, rows, () => (rows.length
          ? table(['id', 'kind', 'status', 'needs', 'attempts', 'run', 'worker', 'note'], rows.map((j) => [
            j.id, j.kind, j.status, describeNeeds(j.requirements), `${j.attempts}/${j.maxAttempts}`,
            j.run ? `${j.run.experiment.name} (${j.run.id})` : '', j.leaseOwner?.name ?? '', j.waitingFor ?? j.error ?? '',
          ]))
          : 'no jobs'));
      } catch (err) { fail(err); }
    });
}
