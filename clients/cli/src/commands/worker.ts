import os from 'node:os';
import type { Command } from 'commander';
import { loadEnv, openCore, queueOptionsOf, spawnPythonWorker, trainerPython } from '../../../../api/_lib/index.js';
import { fail } from '../output.js';
import { workerKey } from '../keyFile.js';
import { runDrainLoop } from '../../../../functions/teacher-fill/worker.js';

const KINDS = ['train', 'teacher-fill'] as const;

/**
 * `ril worker`: `--kind train` (default) starts the Python training worker (python3 -m ril_trainer worker), which
 * claims TRAIN/EVALUATE jobs over the API with a WORKER key
 * (from RIL_API_KEY or --key-file; it reaches the Python worker in its environment, never on its command line). `--kind teacher-fill` drains TEACHER_FILL jobs in this
 * process, connected to the database directly like `ril serve` (RIL_HOME / DATABASE_URL), with the same drain as the
 * server's in-process worker and the cron function.
 */
export function workerCommand(worker: Command) {
  worker
    .option('--kind <kind>', `${KINDS.join(' | ')}`, 'train')
    .option('--api <url>', 'train: API base URL (default $RIL_API_URL or http://127.0.0.1:$PORT)')
    .option('--key-file <file>', 'train: a file holding a WORKER key (mode 600; default: $RIL_API_KEY)')
    .option('--key <key>', 'train: a WORKER key (deprecated: visible to other users in ps; use RIL_API_KEY or --key-file)')
    .option('--once', 'train: exit after one job')
    .option('--exit-when-idle', 'exit when the queue is empty')
    .option('--threads <n>', 'train: torch CPU threads')
    .option('--name <name>', 'teacher-fill: the worker\'s name (default teacher-fill@<host>-<pid>)')
    .allowUnknownOption(true)
    .action(async (opts, cmd: Command) => {
      try {
        if (!(KINDS as readonly string[]).includes(opts.kind)) throw new Error(`--kind must be one of ${KINDS.join(', ')} (got ${opts.kind})`);
        if (opts.kind === 'teacher-fill') return await teacherFillWorker(opts);
        const python = trainerPython();
        const api = opts.api ?? process.env.RIL_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`;
        const key = workerKey(opts);
        if (!key) throw new Error('a WORKER key is needed: RIL_API_KEY or --key-file (create one with `ril keys create --role WORKER`)');
        const args = [...(opts.once ? ['--once'] : []), ...(opts.exitWhenIdle ? ['--exit-when-idle'] : []),
          ...(opts.threads ? ['--threads', String(opts.threads)] : []), ...cmd.args];
        const child = spawnPythonWorker(python, api, key, args, 'inherit');
        const forward = (sig: NodeJS.Signals) => child.kill(sig);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        child.on('exit', (code) => process.exit(code ?? 1));
      } catch (err) { fail(err); }
    });
}

async function teacherFillWorker(opts: { exitWhenIdle?: boolean; name?: string }) {
  const env = loadEnv();
  const core = await openCore(env);
  const abort = new AbortController();
  // SIGINT/SIGTERM pause the fill in progress (its answers are cached; the next drain resumes it), then exit.
  const stop = () => abort.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const workerName = opts.name ?? `teacher-fill@${os.hostname()}-${process.pid}`;
  console.error(`[teacher-fill] ${workerName} draining TEACHER_FILL jobs (database: ${core.db.provider})`);
  try {
    await runDrainLoop({
      services: core, workerName, signal: abort.signal, queue: queueOptionsOf(env), exitWhenIdle: opts.exitWhenIdle,
      pollMs: env.RIL_TS_WORKER_POLL_MS > 0 ? env.RIL_TS_WORKER_POLL_MS : 1000,
      onJobDone: (job) => console.error(`[teacher-fill] job ${job.id}: ${job.outcome}${job.result ? ` (asked ${job.result.requested}, filled ${job.result.filled}, failed ${job.result.failed})` : ''}`),
    });
  } finally {
    await core.close();
  }
}
