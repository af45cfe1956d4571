import type { Command } from 'commander';
import { spawnPythonWorker, trainerPython } from '../../../../api/_lib/index.js';
import { fail } from '../output.js';

/** `ril worker`: starts the Python training worker (python3 -m ril_trainer worker) against an API. */
export function workerCommand(program: Command) {
  program.command('worker').description('start a Python training worker that claims TRAIN/EVALUATE jobs from an API')
    .option('--api <url>', 'API base URL (default $RIL_API_URL or http://127.0.0.1:$PORT)')
    .option('--key <key>', 'a WORKER key (default $RIL_API_KEY)')
    .option('--once', 'exit after one job')
    .option('--exit-when-idle', 'exit when the queue is empty')
    .option('--threads <n>', 'torch CPU threads')
    .allowUnknownOption(true)
    .action((opts, cmd: Command) => {
      try {
        const python = trainerPython();
        const api = opts.api ?? process.env.RIL_API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 4000}`;
        const key = opts.key ?? process.env.RIL_API_KEY;
        if (!key) throw new Error('a WORKER key is needed: --key or RIL_API_KEY (create one with `ril keys create --role WORKER`)');
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
