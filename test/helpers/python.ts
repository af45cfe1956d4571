// The trainer's interpreter (scripts/python.sh: $RIL_PYTHON or the first python3 that imports torch), or null.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WORKER_DIR = path.join(REPO, 'functions', 'worker');

let found: string | null | undefined;
export function trainerPython(): string | null {
  if (found !== undefined) return found;
  try {
    found = execFileSync('bash', [path.join(REPO, 'scripts', 'python.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    found = null;
  }
  return found;
}
