// Evaluation suites: named, versioned sets of (dataset, split, judge, sample limit) entries; the subjects they score
// (a run, a deployment at one revision, an external model); and the results EVALUATE jobs write. A version is frozen
// by its first result (in the same transaction), and a frozen version is never edited: a table's numbers always
// trace back to exactly what was scored. Results are written only by the worker holding the EVALUATE job that names
// the version and the subject (the same lease rule as metrics and checkpoints: jobs/workers.ts).
import type { Database } from '../db/index.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { checkOutboundUrl, OutboundError, outboundPolicyOf, type OutboundSettings } from '../net/outbound.js';
import { checkSecretEnvName, type SecretSettings } from '../net/secrets.js';
import { enqueue, heldJob, lockLease, type Tx } from '../jobs/queue.js';
import { ownWorker } from '../jobs/workers.js';
import { runStudentFamily } from '../experiments/student.js';
import type { Principal } from '../auth/keys.js';
import type { Dataset, EvalSubject, EvalSuiteDataset } from '../../../generated/sqlite/index.js';

export const JUDGES = ['RULE', 'LLM'] as const;
export const SUBJECT_KINDS = ['RUN', 'DEPLOYMENT', 'EXTERNAL', 'TEACHER'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];
const SPLITS = ['train', 'val', 'test'];
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Columns of one version: a table wider than this is not read by anyone. */
export const MAX_SUITE_DATASETS = 50;

/** What endpoint settings are checked against: the operator's host and key-variable allowlists. */
export type EvalSettings = OutboundSettings & SecretSettings;

export interface SuiteDatasetInput {
  datasetId?: string | null;
  /** A dataset name (its newest version, pinned now) or `name@version`. */
  dataset?: string | null;
  split?: string | null;
  judge?: string | null;
  judgeEndpoint?: string | null;
  judgeModel?: string | null;
  judgeApiKeyEnv?: string | null;
  sampleLimit?: number | null;
}

export interface SubjectInput {
  kind: string;
  runId?: string | null;
  deployment?: string | null;
  revision?: number | null;
  endpoint?: string | null;
  model?: string | null;
  apiKeyEnv?: string | null;
  teacher?: string | null;
}

/** The typed refusal of an edit to a version that results refer to: CONFLICT with reason EVAL_SUITE_VERSION_FROZEN. */
export const frozenVersion = (suite: string, version: number) =>
  new AppError('CONFLICT', `suite ${suite} version ${version} is frozen: results refer to it; add a new version instead (addEvalSuiteVersion)`,
    { reason: 'EVAL_SUITE_VERSION_FROZEN' });

function checkEndpoint(field: string, url: string, env: EvalSettings) {
  try {
    checkOutboundUrl(url, outboundPolicyOf(env));
  } catch (err) {
    // our own words (scheme, credentials, a refused address range), never the URL's secrets
    if (err instanceof OutboundError) throw badInput(`${field}: ${err.message}`);
    throw err;
  }
}

/** A column's label: `name@version/split`, with the judge model for an LLM judge. */
export const columnLabel = (entry: Pick<EvalSuiteDataset, 'split' | 'judge' | 'judgeModel'>, dataset: Pick<Dataset, 'name' | 'version'>) =>
  `${dataset.name}@${dataset.version}/${entry.split}${entry.judge === 'LLM' ? ` [${entry.judgeModel}]` : ''}`;

type EntryData = Omit<EvalSuiteDataset, 'id' | 'versionId'>;

/** Validates a version's dataset list and resolves dataset names to ids (pinned: a later import does not move it). */
async function resolveEntries(db: Database, inputs: readonly SuiteDatasetInput[], env: EvalSettings): Promise<EntryData[]> {
  if (inputs.length < 1 || inputs.length > MAX_SUITE_DATASETS) throw badInput(`a suite version has 1 to ${MAX_SUITE_DATASETS} datasets`);
  const out: EntryData[] = [];
  for (const [position, input] of inputs.entries()) {
    const at = `datasets[${position}]`;
    if ((input.datasetId == null) === (input.dataset == null)) throw badInput(`${at}: give exactly one of datasetId or dataset (a name, or name@version)`);
    let dataset;
    if (input.datasetId != null) {
      dataset = await db.prisma.dataset.findUnique({ where: { id: input.datasetId } });
      if (!dataset) throw notFound(`dataset ${input.datasetId}`);
    } else {
      const m = /^([^@]+?)(?:@(\d{1,9}))?$/.exec(input.dataset!.trim());
      if (!m) throw badInput(`${at}: dataset must be a name or name@version`);
      dataset = await db.prisma.dataset.findFirst({ where: { name: m[1], ...(m[2] ? { version: Number(m[2]) } : {}) }, orderBy: { version: 'desc' } });
      if (!dataset) throw notFound(`dataset ${input.dataset}`);
    }
    const split = input.split ?? 'test';
    if (!SPLITS.includes(split)) throw badInput(`${at}: split must be one of ${SPLITS.join(', ')}`);
    // a column nobody can ever fill is a mistake made now, not at the first EVALUATE job
    if (!(await db.prisma.example.count({ where: { datasetId: dataset.id, split } }))) throw badInput(`${at}: dataset ${dataset.name} v${dataset.version} has no ${split} examples`);
    const judge = input.judge ?? 'RULE';
    if (!(JUDGES as readonly string[]).includes(judge)) throw badInput(`${at}: judge must be one of ${JUDGES.join(', ')}`);
    const endpoint = input.judgeEndpoint?.trim() || null;
    const model = input.judgeModel?.trim() || null;
    const keyEnv = input.judgeApiKeyEnv?.trim() || null;
    if (judge === 'RULE' && (endpoint || model || keyEnv)) throw badInput(`${at}: the RULE judge takes no endpoint, model or key variable`);
    if (judge === 'LLM') {
      if (!endpoint || !model) throw badInput(`${at}: an LLM judge needs judgeEndpoint (an OpenAI-compatible base URL) and judgeModel`);
      if (model.length > 200) throw badInput(`${at}: judgeModel is at most 200 characters`);
      checkEndpoint(`${at}.judgeEndpoint`, endpoint, env);
      if (keyEnv) checkSecretEnvName(`${at}.judgeApiKeyEnv`, keyEnv, env);
    }
    const limit = input.sampleLimit ?? null;
    if (limit !== null && (!Number.isInteger(limit) || limit < 1 || limit > 1_000_000)) throw badInput(`${at}: sampleLimit must be 1..1000000`);
    const entry: EntryData = { position, datasetId: dataset.id, split, judge, judgeEndpoint: endpoint, judgeModel: model, judgeApiKeyEnv: keyEnv, sampleLimit: limit };
    // two identical columns would only split one number in two
    if (out.some((e) => e.datasetId === entry.datasetId && e.split === split && e.judge === judge && e.judgeModel === model && e.judgeEndpoint === endpoint)) {
      throw badInput(`${at}: the same dataset, split and judge appear twice`);
    }
    out.push(entry);
  }
  return out;
}

export async function getSuite(db: Database, name: string) {
  const suite = await db.prisma.evalSuite.findUnique({ where: { name } });
  if (!suite) throw notFound(`evaluation suite ${name}`);
  return suite;
}

/** A suite's version, the newest when `version` is null. */
export async function getVersion(db: Database, suiteName: string, version?: number | null) {
  const suite = await getSuite(db, suiteName);
  const row = await db.prisma.evalSuiteVersion.findFirst({ where: { suiteId: suite.id, ...(version != null ? { version } : {}) }, orderBy: { version: 'desc' } });
  if (!row) throw notFound(`version ${version ?? '(newest)'} of evaluation suite ${suiteName}`);
  return { suite, version: row };
}

export async function createSuite(db: Database, input: { name: string; description?: string | null; datasets: readonly SuiteDatasetInput[] }, env: EvalSettings) {
  const name = input.name.trim();
  if (!NAME_RE.test(name)) throw badInput('suite name: 1-100 of letters, digits, ".", "_", "-"');
  const description = input.description?.trim() || null;
  if (description && description.length > 2000) throw badInput('description: at most 2000 characters');
  const entries = await resolveEntries(db, input.datasets, env);
  if (await db.prisma.evalSuite.findUnique({ where: { name } })) throw conflict(`an evaluation suite named ${name} exists; add a version to it (addEvalSuiteVersion)`);
  // a concurrent create of the same name loses on the unique index (P2002 -> CONFLICT in formatError)
  return db.prisma.evalSuite.create({
    data: { name, description, versions: { create: { version: 1, datasets: { create: entries } } } },
  });
}

export async function addSuiteVersion(db: Database, input: { suite: string; datasets: readonly SuiteDatasetInput[] }, env: EvalSettings) {
  const suite = await getSuite(db, input.suite);
  const entries = await resolveEntries(db, input.datasets, env);
  const last = await db.prisma.evalSuiteVersion.findFirst({ where: { suiteId: suite.id }, orderBy: { version: 'desc' }, select: { version: true } });
  // two concurrent adds pick the same number; the unique (suite, version) index refuses the second (CONFLICT)
  return db.prisma.evalSuiteVersion.create({ data: { suiteId: suite.id, version: (last?.version ?? 0) + 1, datasets: { create: entries } } });
}

/**
 * Replaces the datasets of a version no result refers to yet (a typo fixed before anyone scored it). The version row
 * is claimed with a compare-and-set on `frozen = false` inside the transaction, and the first result sets `frozen` in
 * its own transaction: whichever commits first wins, so no result can ever refer to entries an edit replaced.
 */
export async function updateSuiteVersion(db: Database, input: { suite: string; version: number; datasets: readonly SuiteDatasetInput[] }, env: EvalSettings) {
  const { suite, version } = await getVersion(db, input.suite, input.version);
  if (version.frozen) throw frozenVersion(suite.name, version.version);
  const entries = await resolveEntries(db, input.datasets, env);
  return db.prisma.$transaction(async (tx) => {
    const { count } = await tx.evalSuiteVersion.updateMany({ where: { id: version.id, frozen: false }, data: { updatedAt: new Date() } });
    if (count !== 1) throw frozenVersion(suite.name, version.version);
    await tx.evalSuiteDataset.deleteMany({ where: { versionId: version.id } });
    await tx.evalSuiteDataset.createMany({ data: entries.map((e) => ({ ...e, versionId: version.id })) });
    return tx.evalSuiteVersion.findUniqueOrThrow({ where: { id: version.id } });
  });
}

// ---------------------------------------------------------------------------------------------------- subjects

type SubjectData = Omit<EvalSubject, 'id' | 'createdAt'>;

/**
 * The canonical identity of a subject, checked: a run that exists, a deployment at a revision it has (the live one
 * when none is given: a deployment's name alone is not a model, its revisions are), an external endpoint the outbound
 * guard accepts with an allowlisted key variable.
 */
export async function resolveSubject(db: Database, input: SubjectInput, env: EvalSettings): Promise<SubjectData> {
  const none = { runId: null, deploymentName: null, revision: null, endpoint: null, model: null, apiKeyEnv: null, teacherName: null };
  const extra = (fields: (keyof SubjectInput)[]) => fields.filter((f) => input[f] != null);
  switch (input.kind) {
    case 'RUN': {
      if (!input.runId || extra(['deployment', 'revision', 'endpoint', 'model', 'apiKeyEnv', 'teacher']).length) throw badInput('a RUN subject is a runId (and nothing else)');
      const run = await db.prisma.run.findUnique({ where: { id: input.runId } });
      if (!run) throw notFound(`run ${input.runId}`);
      return { ...none, kind: 'RUN', key: `run:${run.id}`, runId: run.id };
    }
    case 'DEPLOYMENT': {
      if (!input.deployment || extra(['runId', 'endpoint', 'model', 'apiKeyEnv', 'teacher']).length) throw badInput('a DEPLOYMENT subject is a deployment name and optionally a revision');
      const deployment = await db.prisma.deployment.findUnique({ where: { name: input.deployment } });
      if (!deployment) throw notFound(`deployment ${input.deployment}`);
      const revision = input.revision != null
        ? await db.prisma.deploymentRevision.findUnique({ where: { deploymentId_revision: { deploymentId: deployment.id, revision: input.revision } } })
        : deployment.liveRevisionId ? await db.prisma.deploymentRevision.findUnique({ where: { id: deployment.liveRevisionId } }) : null;
      if (!revision) throw notFound(input.revision != null ? `revision ${input.revision} of deployment ${deployment.name}` : `a live revision of deployment ${deployment.name}`);
      return { ...none, kind: 'DEPLOYMENT', key: `deployment:${deployment.name}@${revision.revision}`, deploymentName: deployment.name, revision: revision.revision };
    }
    case 'EXTERNAL': {
      const endpoint = input.endpoint?.trim();
      const model = input.model?.trim();
      if (!endpoint || !model || extra(['runId', 'deployment', 'revision', 'teacher']).length) throw badInput('an EXTERNAL subject is an endpoint (OpenAI-compatible base URL) and a model');
      if (model.length > 200) throw badInput('model: at most 200 characters');
      checkEndpoint('endpoint', endpoint, env);
      const apiKeyEnv = input.apiKeyEnv?.trim() || null;
      if (apiKeyEnv) checkSecretEnvName('apiKeyEnv', apiKeyEnv, env);
      // the key variable is how it is reached, not what it is: not part of the identity
      return { ...none, kind: 'EXTERNAL', key: `external:${endpoint.replace(/\/+$/, '')}#${model}`, endpoint, model, apiKeyEnv };
    }
    case 'TEACHER': {
      if (!input.teacher || extra(['runId', 'deployment', 'revision', 'endpoint', 'model', 'apiKeyEnv']).length) throw badInput('a TEACHER subject is a teacher name (and nothing else)');
      const teacher = await db.prisma.teacher.findUnique({ where: { name: input.teacher } });
      if (!teacher) throw notFound(`teacher ${input.teacher}`);
      return { ...none, kind: 'TEACHER', key: `teacher:${teacher.name}`, teacherName: teacher.name };
    }
    default:
      throw badInput(`subject kind must be one of ${SUBJECT_KINDS.join(', ')}`);
  }
}

/** The subject's row, made on first use (idempotent on the unique key). */
export async function ensureSubject(db: Database, input: SubjectInput, env: EvalSettings, tx: Tx = db.prisma) {
  const data = await resolveSubject(db, input, env);
  return tx.evalSubject.upsert({ where: { key: data.key }, create: data, update: {} });
}

// ---------------------------------------------------------------------------------------------------- jobs and results

/** One dataset of a suite version as a worker receives it (a suite EVALUATE job, or a TRAIN job scoring a suite). */
export interface SuitePayloadEntry {
  entryId: string;
  datasetId: string;
  split: string;
  sampleLimit: number | null;
  /** The column's label (name@version/split). */
  label: string;
  /** A metric-name-safe key of the column: eval/suite/<suite>/<metricKey> during training. */
  metricKey: string;
  judge: { kind: string; endpoint: string | null; model: string | null; apiKeyEnv: string | null };
}

/**
 * The payload of an EVALUATE job over a suite: everything a worker needs to score one subject on one suite version,
 * entry by entry. `suiteVersionId` and `subjectId` are also what recordEvalExamples / recordEvalResult are scoped to.
 * Resuming: before scoring an entry the worker reads the records already stored (evalExamples) and scores only the
 * examples missing. A DEPLOYMENT subject carries the revision's bundle artifact (pinned when queued).
 */
export interface SuiteEvaluationPayload {
  suite: string;
  suiteVersionId: string;
  version: number;
  subjectId: string;
  subject: {
    kind: string; runId: string | null; deployment: string | null; revision: number | null; artifactId: string | null; bundleSha256: string | null;
    endpoint: string | null; model: string | null; apiKeyEnv: string | null; teacher: string | null;
  };
  datasets: SuitePayloadEntry[];
  /** A RUN subject's student family: its checkpoint is answered in PyTorch (predict), an hf one with transformers, so
   * the job needs a worker that has it (jobs/requirements.ts). Absent for the other subjects. */
  studentFamily?: 'hf' | 'builtin';
}

/** A version's entries as workers receive them, in column order. */
export async function suiteEntries(db: Database, versionId: string, tx: Tx = db.prisma): Promise<SuitePayloadEntry[]> {
  const entries = await tx.evalSuiteDataset.findMany({ where: { versionId }, orderBy: { position: 'asc' }, include: { dataset: { select: { name: true, version: true } } } });
  return entries.map((e) => ({
    entryId: e.id, datasetId: e.datasetId, split: e.split, sampleLimit: e.sampleLimit, label: columnLabel(e, e.dataset),
    metricKey: `${e.position}-${e.dataset.name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60)}-v${e.dataset.version}-${e.split}${e.judge === 'LLM' ? '-llm' : ''}`,
    judge: { kind: e.judge, endpoint: e.judgeEndpoint, model: e.judgeModel, apiKeyEnv: e.judgeApiKeyEnv },
  }));
}

async function subjectPayload(db: Database, subject: EvalSubject, tx: Tx): Promise<SuiteEvaluationPayload['subject']> {
  let artifactId: string | null = null;
  let bundleSha256: string | null = null;
  if (subject.kind === 'DEPLOYMENT') {
    const revision = await tx.deploymentRevision.findFirst({
      where: { revision: subject.revision!, deployment: { name: subject.deploymentName! } }, include: { artifact: { select: { id: true, blobSha256: true } } },
    });
    if (!revision) throw notFound(`revision ${subject.revision} of deployment ${subject.deploymentName}`);
    artifactId = revision.artifact.id;
    bundleSha256 = revision.artifact.blobSha256;
  }
  return {
    kind: subject.kind, runId: subject.runId, deployment: subject.deploymentName, revision: subject.revision, artifactId, bundleSha256,
    endpoint: subject.endpoint, model: subject.model, apiKeyEnv: subject.apiKeyEnv, teacher: subject.teacherName,
  };
}

/** Queues an EVALUATE job of one subject over a suite version (the newest when none is named). A RUN is scored on
 * the newest checkpoint it has when the job runs (the job's result names its step). */
export async function queueSuiteEvaluation(db: Database, input: { suite: string; version?: number | null; subject: SubjectInput; priority?: number | null }, env: EvalSettings) {
  const { suite, version } = await getVersion(db, input.suite, input.version);
  const subject = await ensureSubject(db, input.subject, env);
  return enqueueSuiteJob(db, { suite: suite.name, versionId: version.id, version: version.version, subject, priority: input.priority ?? 0 });
}

async function enqueueSuiteJob(db: Database, input: { suite: string; versionId: string; version: number; subject: EvalSubject; priority: number }, tx: Tx = db.prisma) {
  const payload: SuiteEvaluationPayload = {
    suite: input.suite, suiteVersionId: input.versionId, version: input.version, subjectId: input.subject.id,
    subject: await subjectPayload(db, input.subject, tx), datasets: await suiteEntries(db, input.versionId, tx),
    ...(input.subject.kind === 'RUN' && input.subject.runId ? { studentFamily: await runStudentFamily(tx, input.subject.runId) } : {}),
  };
  return enqueue(db, { kind: 'EVALUATE', payload, priority: input.priority }, tx);
}

/**
 * After a TRAIN job that scored a suite during training succeeds: queue the suite EVALUATE job of its run, so the
 * run's final checkpoint lands in the suite's table without anyone asking. Runs in the job's completing transaction.
 */
export async function queueTrainedRunEvaluation(db: Database, tx: Tx, payload: { runId?: string; evalSuite?: { versionId?: string } | null }) {
  const versionId = payload.evalSuite?.versionId;
  if (!versionId || !payload.runId) return null;
  const version = await tx.evalSuiteVersion.findUnique({ where: { id: versionId }, include: { suite: true } });
  if (!version) return null; // the suite was deleted meanwhile: nothing to score
  const subject = await tx.evalSubject.upsert({
    where: { key: `run:${payload.runId}` }, update: {},
    create: { kind: 'RUN', key: `run:${payload.runId}`, runId: payload.runId, deploymentName: null, revision: null, endpoint: null, model: null, apiKeyEnv: null, teacherName: null },
  });
  return enqueueSuiteJob(db, { suite: version.suite.name, versionId, version: version.version, subject, priority: 0 }, tx);
}

/** The worker rule for suite writes: the caller's worker holds an EVALUATE job over a suite, on lease `attempt`. */
async function heldSuiteJob(db: Database, principal: Principal, input: { jobId: string; workerId: string; attempt: number; entryId: string }) {
  await ownWorker(db, principal, input.workerId);
  const job = await heldJob(db, input.jobId, input.workerId, input.attempt);
  const payload = JSON.parse(job.payload) as Partial<SuiteEvaluationPayload>;
  if (job.kind !== 'EVALUATE' || typeof payload.suiteVersionId !== 'string' || typeof payload.subjectId !== 'string') {
    throw badInput(`job ${job.id} is not an evaluation over a suite`);
  }
  const entry = await db.prisma.evalSuiteDataset.findUnique({ where: { id: input.entryId } });
  if (!entry || entry.versionId !== payload.suiteVersionId) throw badInput(`entry ${input.entryId} is not a dataset of the suite version job ${job.id} evaluates`);
  return { job, entry, versionId: payload.suiteVersionId, subjectId: payload.subjectId };
}

export const MAX_EXAMPLES_PER_CALL = 500;
const MAX_RESPONSE_CHARS = 20_000;

export interface RecordEvalExamples {
  jobId: string;
  workerId: string;
  attempt: number;
  entryId: string;
  examples: readonly { externalId: string; response: string; correct: boolean; responseTokens?: number | null }[];
}

/**
 * Records scored examples of the held job's subject on one entry. Only examples of the entry's dataset and split, and
 * within its sample limit (the first sampleLimit in dataset order), are accepted. First write wins: a replay, or a
 * resumed attempt re-sending what it found, changes nothing and counts duplicates.
 */
export async function recordEvalExamples(db: Database, principal: Principal, input: RecordEvalExamples) {
  const { job, entry, versionId, subjectId } = await heldSuiteJob(db, principal, input);
  if (input.examples.length < 1 || input.examples.length > MAX_EXAMPLES_PER_CALL) throw badInput(`send 1 to ${MAX_EXAMPLES_PER_CALL} examples per call`);
  const ids = input.examples.map((e) => e.externalId);
  if (new Set(ids).size !== ids.length) throw badInput('an example appears twice in one call');
  for (const e of input.examples) {
    if (e.response.length > MAX_RESPONSE_CHARS) throw badInput(`example ${e.externalId}: response is over ${MAX_RESPONSE_CHARS} characters`);
    if (e.responseTokens != null && (!Number.isInteger(e.responseTokens) || e.responseTokens < 0)) throw badInput(`example ${e.externalId}: responseTokens must be a non-negative integer`);
  }
  const examples = await db.prisma.example.findMany({ where: { datasetId: entry.datasetId, split: entry.split, externalId: { in: ids } }, select: { id: true, externalId: true, ordinal: true } });
  const byExternal = new Map(examples.map((e) => [e.externalId, e]));
  const unknown = ids.filter((id) => !byExternal.has(id));
  if (unknown.length) throw badInput(`not examples of this entry's dataset split: ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}`);
  if (entry.sampleLimit != null) {
    // the entry's examples are the first sampleLimit of the split in dataset order: nothing past them counts
    const last = await db.prisma.example.findFirst({ where: { datasetId: entry.datasetId, split: entry.split }, orderBy: { ordinal: 'asc' }, skip: entry.sampleLimit - 1, select: { ordinal: true } });
    const beyond = examples.filter((e) => last && e.ordinal > last.ordinal).map((e) => e.externalId);
    if (beyond.length) throw badInput(`past the entry's sampleLimit ${entry.sampleLimit}: ${beyond.slice(0, 5).join(', ')}`);
  }
  return db.prisma.$transaction(async (tx) => {
    await lockLease(tx, job.id, input.workerId, input.attempt, new Date());
    await tx.evalSuiteVersion.updateMany({ where: { id: versionId, frozen: false }, data: { frozen: true } });
    const existing = new Set((await tx.evalExampleResult.findMany({
      where: { versionId, subjectId, entryId: entry.id, exampleId: { in: examples.map((e) => e.id) } }, select: { exampleId: true },
    })).map((r) => r.exampleId));
    const fresh = input.examples.filter((e) => !existing.has(byExternal.get(e.externalId)!.id));
    if (fresh.length) {
      await tx.evalExampleResult.createMany({
        data: fresh.map((e) => ({
          versionId, subjectId, entryId: entry.id, exampleId: byExternal.get(e.externalId)!.id, response: e.response, correct: e.correct,
          responseTokens: e.responseTokens ?? null, jobId: job.id,
        })),
      });
    }
    return { written: fresh.length, duplicates: input.examples.length - fresh.length };
  });
}

export interface RecordEvalResult {
  jobId: string;
  workerId: string;
  attempt: number;
  entryId: string;
  accuracy: number;
  n: number;
  meanResponseLength?: number | null;
}

/**
 * Records one result. Scoped like every worker write: the caller's key registered `workerId` (ADMIN may act for
 * any worker), that worker holds `jobId` on lease `attempt`, and the job is an EVALUATE job whose payload names the
 * version and subject written (a worker cannot score anything it was not asked to). The write and the version's
 * freeze happen in one transaction that re-checks and locks the lease, so a worker whose lease just expired writes
 * nothing. Idempotent: the (version, subject, entry) row is rewritten by a replay or a resumed attempt.
 */
export async function recordEvalResult(db: Database, principal: Principal, input: RecordEvalResult) {
  const { job, entry, versionId, subjectId } = await heldSuiteJob(db, principal, input);
  if (!Number.isFinite(input.accuracy) || input.accuracy < 0 || input.accuracy > 1) throw badInput('accuracy must be in [0, 1]');
  if (!Number.isInteger(input.n) || input.n < 1) throw badInput('n (examples scored) must be a positive integer');
  if (entry.sampleLimit != null && input.n > entry.sampleLimit) throw badInput(`n is ${input.n}, over the entry's sampleLimit ${entry.sampleLimit}`);
  // when the examples were recorded, the result is their summary: a number that disagrees with them is refused
  const where = { versionId, subjectId, entryId: entry.id };
  const [stored, correct] = await Promise.all([db.prisma.evalExampleResult.count({ where }), db.prisma.evalExampleResult.count({ where: { ...where, correct: true } })]);
  if (stored > 0 && (stored !== input.n || Math.abs(correct / stored - input.accuracy) > 1e-9)) {
    throw badInput(`the result (n ${input.n}, accuracy ${input.accuracy}) disagrees with the ${stored} recorded examples (accuracy ${correct / stored})`);
  }
  const length = input.meanResponseLength ?? null;
  if (length !== null && (!Number.isFinite(length) || length < 0)) throw badInput('meanResponseLength must be a non-negative number');
  return db.prisma.$transaction(async (tx) => {
    await lockLease(tx, job.id, input.workerId, input.attempt, new Date());
    // the freeze and the result commit together; an edit that claimed the version first makes the entry vanish and
    // this insert fail (a foreign key), never a result that points at replaced datasets
    await tx.evalSuiteVersion.updateMany({ where: { id: versionId, frozen: false }, data: { frozen: true } });
    const values = { accuracy: input.accuracy, n: input.n, meanResponseLength: length, jobId: job.id };
    return tx.evalResult.upsert({
      where: { versionId_subjectId_entryId: { versionId, subjectId, entryId: entry.id } },
      create: { versionId, subjectId, entryId: entry.id, ...values },
      update: values,
    });
  });
}
