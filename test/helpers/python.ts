// The trainer's interpreter for tests, or null (tests skip with a reason); see api/_lib/jobs/python.ts.
import { findTrainerPython, REPO_ROOT, TRAINER_DIR } from '../../api/_lib/jobs/python.js';

export const REPO = REPO_ROOT;
export { TRAINER_DIR };

let found: string | null | undefined;
export function trainerPython(): string | null {
  if (found === undefined) found = findTrainerPython().python ?? null;
  return found;
}
