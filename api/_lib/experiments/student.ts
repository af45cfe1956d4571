// The student an experiment trains: the trainer config's `student` block (family builtin | hf, model, lora, dtype,
// disc_backbone, sharding) and the experiment's `studentSize`, checked together, and read back as one description.
//
// Decided here (the issue left it open): `studentSize` is the built-in family's size and nothing else. A built-in
// experiment needs one (as before); a Hugging Face experiment must leave it out, is stored with studentSize "" and
// reads studentSize null, its student being config.student.model. Experiment.student describes both families the
// same way (BUILTIN's model is its size), so clients show one thing for every experiment.
import { badInput } from '../errors.js';
import type { Tx } from '../jobs/queue.js';

export type StudentFamily = 'BUILTIN' | 'HF';

export interface StudentInfo {
  family: StudentFamily;
  model: string;
  loraRank: number;
  dtype: string;
  discBackbone: string;
  gradientCheckpointing: boolean;
  sharding: string;
}

interface StudentConfig {
  family?: string;
  model?: string;
  lora?: { r?: number };
  dtype?: string;
  disc_backbone?: string;
  gradient_checkpointing?: boolean;
  sharding?: string;
}

const MAX_MODEL_CHARS = 500;

/**
 * What is wrong with an hf model reference, or null. It is a local directory on the worker or a hub id already in the
 * worker's Hugging Face cache (the platform never downloads weights), so a URL is refused, and so is a path that
 * climbs out of where it points ('..' segments) or carries a NUL or another control character (a C string ends there).
 */
function modelProblem(model: string): string | null {
  if (model.length > MAX_MODEL_CHARS) return `config.student.model: at most ${MAX_MODEL_CHARS} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(model)) return 'config.student.model must not contain NUL or other control characters';
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(model)) {
    return `config.student.model must be a local directory or a hub id (org/name), not a URL (${JSON.stringify(model.slice(0, 60))}): workers load weights they already have, the platform never downloads them`;
  }
  if (model.split(/[\\/]/).includes('..')) return "config.student.model must not contain '..' path segments (give the model directory itself)";
  if (model.trim() !== model) return 'config.student.model must not start or end with spaces';
  return null;
}

/**
 * The semantic checks the config schema cannot express, over the validated config (defaults filled in). Returns the
 * studentSize to store ("" for an hf student). BAD_USER_INPUT with every problem (extensions.problems), like
 * validateConfig, before anything is written.
 */
export function checkStudent(config: Record<string, unknown>, studentSize: string | null | undefined, sizes: readonly string[]): string {
  const student = (config.student ?? {}) as StudentConfig;
  const family = student.family ?? 'builtin';
  const model = student.model ?? '';
  const loraRank = student.lora?.r ?? 0;
  const size = studentSize ?? '';
  const problems: string[] = [];
  if (model.trim()) { // a blank one is "required" below (hf) or nothing (builtin: the default is "")
    const p = modelProblem(model);
    if (p) problems.push(p);
  }
  if (student.disc_backbone === 'lora' && !(loraRank > 0)) {
    problems.push('config.student.disc_backbone "lora" needs LoRA adapters: set config.student.lora.r > 0 (or disc_backbone "copy")');
  }
  if (student.sharding === 'fsdp') {
    if (family !== 'hf') problems.push('config.student.sharding "fsdp" is for hf students (a built-in student is small enough to sit whole on every rank)');
    // the trainer refuses it too (students/hf.py): D's adapter would sit inside the sharded policy
    else if (student.disc_backbone === 'lora') problems.push('config.student.sharding "fsdp" with disc_backbone "lora" is not supported: use disc_backbone "copy" (sharded like the policy)');
  }
  if (family === 'hf') {
    if (!model.trim()) problems.push('config.student.model is required for an hf student: a local model directory or a hub id such as org/name (already in the workers\' Hugging Face cache)');
    if (size) problems.push(`studentSize names a built-in size; an hf student is config.student.model: leave studentSize out (got ${JSON.stringify(size)})`);
  } else {
    if (!size) problems.push(`studentSize is required for the built-in student family (one of ${sizes.join(', ')})`);
    else if (!sizes.includes(size)) problems.push(`studentSize must be one of ${sizes.join(', ')}`);
    if (model && model !== size) problems.push(`config.student.model is for hf students; a built-in student's size is studentSize (leave config.student.model out, or set config.student.family "hf")`);
    if (loraRank > 0) problems.push('config.student.lora.r > 0: LoRA adapters are for hf students (a built-in student trains every weight)');
  }
  if (problems.length) throw badInput(problems.length === 1 ? problems[0] : `invalid student: ${problems.join('; ')}`, { problems });
  return family === 'hf' ? '' : size;
}

/** The student of a stored experiment. Configs from before the student block existed read as the built-in family. */
export function studentOf(experiment: { studentSize: string }, config: Record<string, unknown>): StudentInfo {
  const student = (config.student ?? {}) as StudentConfig;
  const hf = student.family === 'hf';
  return {
    family: hf ? 'HF' : 'BUILTIN',
    model: hf ? (student.model ?? '') : experiment.studentSize,
    loraRank: hf ? (student.lora?.r ?? 0) : 0,
    dtype: student.dtype ?? 'auto',
    discBackbone: student.disc_backbone ?? 'copy',
    gradientCheckpointing: student.gradient_checkpointing ?? false,
    sharding: student.sharding ?? 'none',
  };
}

/** GPUs a run of this config needs (config.gpus; 0 when absent). */
export const gpusOfConfig = (config: Record<string, unknown>): number => (Number.isInteger(config.gpus) ? (config.gpus as number) : 0);

/** The student family of a config: "hf" or "builtin" (configs from before the student block existed). */
export const familyOfConfig = (config: Record<string, unknown>): 'hf' | 'builtin' =>
  ((config.student ?? {}) as StudentConfig).family === 'hf' ? 'hf' : 'builtin';

/**
 * The student family of a run's experiment. An EVALUATE job that scores the run's checkpoint in PyTorch (eval, or a
 * suite's RUN subject through predict) carries it as payload.studentFamily: an hf checkpoint is loaded with
 * transformers, so only a worker that has it may claim the job (jobs/requirements.ts).
 */
export async function runStudentFamily(tx: Tx, runId: string): Promise<'hf' | 'builtin'> {
  const run = await tx.run.findUnique({ where: { id: runId }, select: { experiment: { select: { config: true } } } });
  return run ? familyOfConfig(JSON.parse(run.experiment.config) as Record<string, unknown>) : 'builtin';
}
