// Experiments and runs. An experiment is a validated recipe; a run is one seed of it, executed by a TRAIN job.
import type { Database } from '../db/index.js';
import { badInput, conflict, notFound } from '../errors.js';
import { enqueue, requestCancel, type Tx } from '../jobs/queue.js';
import { getVersion, suiteEntries, type SuitePayloadEntry } from '../evals/service.js';
import { coverage } from '../teachers/service.js';
import { checkStudent } from './student.js';
import { checkOutboundConfig, trainerSchema, validateConfig, type OutboundConfigSettings } from './trainerConfig.js';

export const ALGORITHMS = ['SFT', 'GRPO', 'DR_GRPO', 'RIL'] as const;
export type Algorithm = (typeof ALGORITHMS)[number];

export interface CreateExperiment {
  name: string;
  datasetId: string;
  /** The built-in family's size; absent for an hf student (student.ts). */
  studentSize?: string | null;
  algorithm: string;
  teachers?: string[] | null;
  config?: unknown;
}

/** `env`: the operator's allowlists, which a config's judge endpoint and key variable are checked against. */
export async function createExperiment(db: Database, input: CreateExperiment, env: OutboundConfigSettings) {
  const name = input.name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw badInput('experiment name: 1-100 of letters, digits, ".", "_", "-"');
  if (!(ALGORITHMS as readonly string[]).includes(input.algorithm)) throw badInput(`algorithm must be one of ${ALGORITHMS.join(', ')}`);
  const schema = trainerSchema();
  const sizes = schema.sizes ?? (schema.fields.model?.enum as string[] | undefined) ?? ['nano', 'small', 'base'];
  const config = validateConfig(schema.fields, input.config ?? {}, schema.platformKeys);
  const studentSize = checkStudent(config, input.studentSize, sizes);
  checkOutboundConfig(config, env);
  if (config.eval_suite) config.eval_suite = await pinTrainingSuite(db, String(config.eval_suite));
  const dataset = await db.prisma.dataset.findUnique({ where: { id: input.datasetId } });
  if (!dataset) throw notFound(`dataset ${input.datasetId}`);
  const teachers = [...new Set(input.teachers ?? [])];
  if (input.algorithm === 'RIL' && teachers.length === 0) throw badInput('RIL needs at least one teacher (its responses are the imitation target)');
  if (teachers.length) {
    const rows = await db.prisma.teacher.findMany({ where: { name: { in: teachers } } });
    const unknown = teachers.filter((t) => !rows.some((r) => r.name === t));
    if (unknown.length) throw badInput(`unknown teacher(s): ${unknown.join(', ')}`);
    const cov = await coverage(db, dataset.id, 1);
    const empty = rows.filter((r) => !cov.some((c) => c.teacherId === r.id && c.covered > 0)).map((r) => r.name);
    if (empty.length) throw badInput(`teacher(s) with no cached responses on dataset ${dataset.name}: ${empty.join(', ')}`);
  }
  if (await db.prisma.experiment.findUnique({ where: { name } })) throw conflict(`an experiment named ${name} exists`);
  return db.prisma.experiment.create({
    data: { name, datasetId: dataset.id, studentSize, algorithm: input.algorithm, teachers: JSON.stringify(teachers), config: JSON.stringify(config) },
  });
}

/**
 * `eval_suite` names a suite scored during training: pinned here to `name@version` (a later version does not move an
 * experiment's curves), and only rule-judged datasets (an LLM judge every N steps is a bill nobody meant to run up;
 * score with it after training: queueSuiteEvaluation).
 */
async function pinTrainingSuite(db: Database, value: string) {
  const m = /^([^@]+?)(?:@(\d{1,9}))?$/.exec(value.trim());
  if (!m) throw badInput('eval_suite: a suite name, or name@version');
  const { suite, version } = await getVersion(db, m[1], m[2] ? Number(m[2]) : null);
  const llm = (await suiteEntries(db, version.id)).filter((e) => e.judge.kind !== 'RULE');
  if (llm.length) throw badInput(`eval_suite: ${suite.name} v${version.version} has LLM-judged datasets (${llm.map((e) => e.label).join(', ')}); training-time scoring uses the rule judge. Score LLM-judged suites after training (queueSuiteEvaluation)`);
  return `${suite.name}@${version.version}`;
}

/** The suite a run scores during training, as its TRAIN job carries it; null when the config names none. */
async function trainingSuite(db: Database, config: Record<string, unknown>, tx: Tx): Promise<{ name: string; version: number; versionId: string; datasets: SuitePayloadEntry[] } | null> {
  const pinned = typeof config.eval_suite === 'string' && config.eval_suite ? /^(.+)@(\d+)$/.exec(config.eval_suite) : null;
  if (!pinned) return null;
  const { suite, version } = await getVersion(db, pinned[1], Number(pinned[2]));
  return { name: suite.name, version: version.version, versionId: version.id, datasets: await suiteEntries(db, version.id, tx) };
}

/** What a TRAIN job carries: everything the worker needs besides the data. */
export async function trainPayload(db: Database, tx: Tx, exp: { id: string; datasetId: string; algorithm: string; studentSize: string; teachers: string; config: string }, run: { id: string; seed: number }) {
  const config = JSON.parse(exp.config) as Record<string, unknown>;
  return {
    runId: run.id,
    experimentId: exp.id,
    datasetId: exp.datasetId,
    algorithm: exp.algorithm.toLowerCase(),
    // the built-in size; an hf student has none (its model is config.student.model), so the trainer's default stays
    ...(exp.studentSize ? { model: exp.studentSize } : {}),
    teachers: JSON.parse(exp.teachers) as string[],
    seed: run.seed,
    config,
    evalSuite: await trainingSuite(db, config, tx),
  };
}

const totalStepsOf = (config: Record<string, unknown>) => {
  const n = Number(config.max_steps ?? config.total_steps ?? 0);
  return Number.isInteger(n) && n > 0 ? n : 0;
};

export async function startRun(db: Database, input: { experimentId: string; seed?: number | null; priority?: number | null; maxAttempts?: number | null }) {
  const exp = await db.prisma.experiment.findUnique({ where: { id: input.experimentId } });
  if (!exp) throw notFound(`experiment ${input.experimentId}`);
  const seed = input.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 2 ** 31 - 1) throw badInput('seed must be a non-negative 32-bit integer');
  return db.prisma.$transaction(async (tx) => {
    const run = await tx.run.create({ data: { experimentId: exp.id, seed, status: 'QUEUED', totalSteps: totalStepsOf(JSON.parse(exp.config)) } });
    const job = await enqueue(db, { kind: 'TRAIN', payload: await trainPayload(db, tx, exp, run), priority: input.priority ?? 0, maxAttempts: input.maxAttempts ?? 3, runId: run.id }, tx);
    return tx.run.update({ where: { id: run.id }, data: { jobId: job.id } });
  });
}

export async function getRun(db: Database, id: string) {
  const run = await db.prisma.run.findUnique({ where: { id } });
  if (!run) throw notFound(`run ${id}`);
  return run;
}

export async function cancelRun(db: Database, id: string) {
  const run = await getRun(db, id);
  if (!run.jobId || !['QUEUED', 'RUNNING'].includes(run.status)) throw conflict(`run ${id} is ${run.status}; only queued or running runs can be cancelled`);
  await requestCancel(db, run.jobId);
  return getRun(db, id);
}

export async function retryRun(db: Database, id: string) {
  const run = await getRun(db, id);
  if (!['FAILED', 'CANCELLED'].includes(run.status)) throw conflict(`run ${id} is ${run.status}; only failed or cancelled runs can be retried`);
  const exp = await db.prisma.experiment.findUniqueOrThrow({ where: { id: run.experimentId } });
  const previous = run.jobId ? await db.prisma.job.findUnique({ where: { id: run.jobId } }) : null;
  return db.prisma.$transaction(async (tx) => {
    const job = await enqueue(db, { kind: 'TRAIN', payload: await trainPayload(db, tx, exp, run), priority: previous?.priority ?? 0, maxAttempts: previous?.maxAttempts ?? 3, runId: run.id }, tx);
    return tx.run.update({ where: { id: run.id }, data: { jobId: job.id, status: 'QUEUED', error: null, finishedAt: null } });
  });
}
