// The trainer's Python side as seen from Node: where it lives, which interpreter runs it (scripts/python.sh:
// $RIL_PYTHON, else the first python3 that can import torch) and how a training worker is started.
import { spawn, spawnSync, type ChildProcess, type StdioOptions } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TRAINER_DIR = path.join(REPO_ROOT, 'functions', 'trainer');

/** The interpreter, or why there is none (callers that can do without it skip with this reason). */
export function findTrainerPython(): { python?: string; reason?: string } {
  const r = spawnSync('bash', [path.join(REPO_ROOT, 'scripts', 'python.sh')], { encoding: 'utf8' });
  if (r.status !== 0) return { reason: `no python with torch: ${r.stderr.trim() || 'scripts/python.sh failed'} (set RIL_PYTHON)` };
  return { python: r.stdout.trim() };
}

export function trainerPython(): string {
  const { python, reason } = findTrainerPython();
  if (!python) throw new Error(reason);
  return python;
}

/** Starts `python3 -m ril_trainer worker` against an API with a WORKER key (passed in the environment, not argv). */
export function spawnPythonWorker(python: string, apiUrl: string, apiKey: string, args: string[], stdio: StdioOptions): ChildProcess {
  return spawn(python, ['-m', 'ril_trainer', 'worker', '--api', apiUrl, ...args], {
    cwd: TRAINER_DIR, env: { ...process.env, RIL_API_KEY: apiKey }, stdio,
  });
}
