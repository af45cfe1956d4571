// Evaluation suites (issue 16): a suite of two datasets, results recorded by a worker for two seeds of one experiment,
// a deployment and an external model, and the comparison table checked cell by cell against numbers worked out by
// hand here; immutability of a scored version; who may create and who may record. Then the table's text formats
// (Markdown, CSV, LaTeX) as pure functions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, errorCode, type TestServer } from './helpers/server.js';
import { writeDataset } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import type { SubjectInput } from '../api/_lib/evals/service.js';
import { leaseSuiteEvaluation } from './helpers/evals.js';
import { meanInterval, t975 } from '../api/_lib/evals/stats.js';
import { csvField, latexEscape, parseDatasetSpec, toCsv, toLatex, toMarkdown, type TableText } from '../clients/cli/src/evalTable.js';

let t: TestServer;
let keys: { editor: string; viewer: string; worker: string; otherWorker: string };
let workerId: string;
let otherWorkerId: string;
let runs: { seed1: string; seed2: string; experiment: string };
let entries: string[];

const TABLE = `query($s: String!, $v: Int, $subjects: [EvalSubjectInput!]) { evaluationTable(suite: $s, version: $v, subjects: $subjects) {
  version { version frozen } columns { label entry { id } }
  rows { label kind experiment { name } subjects { kind label } cells { mean halfWidth low high n best } } } }`;

async function ok(query: string, variables?: Record<string, unknown>, key = t.adminKey) {
  const r = await t.gql(query, variables, key);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data;
}

const DEPLOYMENT: SubjectInput = { kind: 'DEPLOYMENT', deployment: 'fm-student' };
const EXTERNAL: SubjectInput = { kind: 'EXTERNAL', endpoint: 'https://api.example.com/v1', model: 'big-vlm' };

/** Queues an EVALUATE job of `subject` over suite `bench` and leases it to `worker` (with that worker's key). */
const leaseEvaluation = (subject: SubjectInput, worker = workerId, key = keys.worker, suite = 'bench') =>
  leaseSuiteEvaluation(t, { id: worker, key }, suite, subject);

const RECORD = `mutation($i: RecordEvalResultInput!) { recordEvalResult(input: $i) { id accuracy n meanResponseLength subject { kind label } entry { position } } }`;
function record(lease: { jobId: string; attempt: number }, entryId: string, accuracy: number, opts: { worker?: string; key?: string; n?: number } = {}) {
  return t.gql(RECORD, { i: { jobId: lease.jobId, workerId: opts.worker ?? workerId, attempt: lease.attempt, entryId, accuracy, n: opts.n ?? 2, meanResponseLength: 12.5 } }, opts.key ?? keys.worker);
}

before(async () => {
  t = await startTestServer({ RIL_SECRET_ENV_ALLOWLIST: 'JUDGE_KEY' });
  keys = { editor: await t.keyFor('EDITOR'), viewer: await t.keyFor('VIEWER'), worker: await t.keyFor('WORKER'), otherWorker: await t.keyFor('WORKER') };
  // two small datasets, imported like every other test imports them (8 examples: 4 train, 2 val, 2 test)
  for (const name of ['fm-a', 'fm-b']) {
    const ds = await writeDataset(8);
    await ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { name, path: ds.file } });
  }
  const tiny = await writeDataset(2); // train examples only
  await ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { name: 'fm-tiny', path: tiny.file } });
  const datasetA = (await ok(`{ datasets(name: "fm-a") { edges { node { id } } } }`)).datasets.edges[0].node.id;
  const experiment = (await ok(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id name } }`,
    { i: { name: 'sft-small', datasetId: datasetA, studentSize: 'nano', algorithm: 'SFT' } })).createExperiment;
  const start = async (seed: number) => (await ok(`mutation($e: ID!, $s: Int) { startRun(input: { experimentId: $e, seed: $s }) { id } }`, { e: experiment.id, s: seed })).startRun.id as string;
  runs = { seed1: await start(1), seed2: await start(2), experiment: experiment.name };
  // a deployment at revision 1: rows as a deploy leaves them (deploying a real bundle would load onnxruntime; the
  // table only needs the deployment and its revision to exist)
  const { prisma } = t.platform.db;
  const artifact = await prisma.artifact.create({ data: { kind: 'BUNDLE', name: 'student', blobSha256: 'f'.repeat(64), size: 1 } });
  const deployment = await prisma.deployment.create({ data: { name: 'fm-student', status: 'LIVE' } });
  const revision = await prisma.deploymentRevision.create({ data: { deploymentId: deployment.id, revision: 1, artifactId: artifact.id } });
  await prisma.deployment.update({ where: { id: deployment.id }, data: { liveRevisionId: revision.id } });
  workerId = (await ok(`mutation { registerWorker(input: { name: "eval-box" }) { id } }`, undefined, keys.worker)).registerWorker.id;
  otherWorkerId = (await ok(`mutation { registerWorker(input: { name: "other-box" }) { id } }`, undefined, keys.otherWorker)).registerWorker.id;
});

after(async () => { await t?.close(); });

const CREATE = `mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { name latest { version frozen datasets { id position label split judge sampleLimit dataset { name } } } } }`;
const BENCH = { name: 'bench', description: 'two splits', datasets: [{ dataset: 'fm-a' }, { dataset: 'fm-b@1', split: 'val', sampleLimit: 2 }] };

test('a VIEWER cannot create a suite; an EDITOR creates version 1, datasets in order', async () => {
  assert.equal(errorCode(await t.gql(CREATE, { i: BENCH }, keys.viewer)), 'FORBIDDEN');
  const suite = (await ok(CREATE, { i: BENCH }, keys.editor)).createEvalSuite;
  assert.equal(suite.latest.version, 1);
  assert.equal(suite.latest.frozen, false);
  assert.deepEqual(suite.latest.datasets.map((d: any) => [d.position, d.dataset.name, d.split, d.judge, d.sampleLimit, d.label]),
    [[0, 'fm-a', 'test', 'RULE', null, 'fm-a@1/test'], [1, 'fm-b', 'val', 'RULE', 2, 'fm-b@1/val']]);
  entries = suite.latest.datasets.map((d: any) => d.id);
  assert.equal(errorCode(await t.gql(CREATE, { i: BENCH }, keys.editor)), 'CONFLICT', 'names are unique');
  const evalSuites = (await ok(`{ evalSuites { name latest { version } } }`, undefined, keys.viewer)).evalSuites;
  assert.deepEqual(evalSuites, [{ name: 'bench', latest: { version: 1 } }]);
});

test('suite datasets are checked: judge settings, the outbound guard, the key allowlist, empty splits', async () => {
  const bad = async (dataset: Record<string, unknown>) => errorCode(await t.gql(CREATE, { i: { name: 'bad', datasets: [{ dataset: 'fm-a', ...dataset }] } }, keys.editor));
  assert.equal(await bad({ judge: 'LLM' }), 'BAD_USER_INPUT', 'an LLM judge needs an endpoint and a model');
  assert.equal(await bad({ judge: 'LLM', judgeEndpoint: 'http://127.0.0.1:9/v1', judgeModel: 'j' }), 'BAD_USER_INPUT', 'loopback refused');
  assert.equal(await bad({ judge: 'LLM', judgeEndpoint: 'http://169.254.169.254/v1', judgeModel: 'j' }), 'BAD_USER_INPUT', 'metadata address refused');
  assert.equal(await bad({ judge: 'LLM', judgeEndpoint: 'https://judge.example.com/v1', judgeModel: 'j', judgeApiKeyEnv: 'DATABASE_URL' }), 'BAD_USER_INPUT', 'not an allowlisted key variable');
  assert.equal(await bad({ judgeModel: 'j' }), 'BAD_USER_INPUT', 'the rule judge takes no model');
  assert.equal(await bad({ sampleLimit: 0 }), 'BAD_USER_INPUT');
  assert.equal(await bad({ dataset: 'nope' }), 'NOT_FOUND');
  assert.equal(await bad({ dataset: 'fm-tiny' }), 'BAD_USER_INPUT', 'a split without examples is a column nobody can fill');
  const llm = (await ok(CREATE, { i: { name: 'judged', datasets: [{ dataset: 'fm-a', judge: 'LLM', judgeEndpoint: 'https://judge.example.com/v1', judgeModel: 'j-1', judgeApiKeyEnv: 'JUDGE_KEY' }] } }, keys.editor)).createEvalSuite;
  assert.equal(llm.latest.datasets[0].label, 'fm-a@1/test [j-1]');
});

test('an unscored version can be edited; addEvalSuiteVersion adds version n + 1', async () => {
  const UPDATE = `mutation($i: UpdateEvalSuiteVersionInput!) { updateEvalSuiteVersion(input: $i) { version datasets { label sampleLimit } } }`;
  const edited = (await ok(UPDATE, { i: { suite: 'judged', version: 1, datasets: [{ dataset: 'fm-a', sampleLimit: 1 }] } }, keys.editor)).updateEvalSuiteVersion;
  assert.deepEqual(edited.datasets, [{ label: 'fm-a@1/test', sampleLimit: 1 }]);
  const added = (await ok(`mutation($i: AddEvalSuiteVersionInput!) { addEvalSuiteVersion(input: $i) { version frozen } }`,
    { i: { suite: 'judged', datasets: [{ dataset: 'fm-b' }] } }, keys.editor)).addEvalSuiteVersion;
  assert.deepEqual(added, { version: 2, frozen: false });
});

// The numbers, by hand. Columns: fm-a/test (A), fm-b/val (B).
//   run seed 1: A 0.60, B 0.40 (its average 0.50)      run seed 2: A 0.70, B 0.50 (average 0.60)
//   grouped: A mean 0.65, B mean 0.45, average 0.55; each pair differs by 0.10, so s = sqrt(2 * 0.05^2 / 1)
//   = 0.0707107, s / sqrt(2) = 0.05 and the half-width is t(0.975, 1 dof) * 0.05 = 12.7062 * 0.05 = 0.63531
//   deployment: A 0.80, B 0.30 (average 0.55)            external: A 0.75, B 0.45 (average 0.60)
//   best: A the deployment (0.80); B the seeds and the external model tie (0.45); average the external model (0.60).
const SCORES: [SubjectInput | 'seed1' | 'seed2', number, number][] = [
  ['seed1', 0.6, 0.4], ['seed2', 0.7, 0.5], [DEPLOYMENT, 0.8, 0.3], [EXTERNAL, 0.75, 0.45],
];
const HALF = 12.7062 * 0.05;
/** Means of hand-picked decimals, compared without the last bits of floating point. */
const round = (v: number | null) => (v === null ? null : Number(v.toFixed(9)));

test('a worker records the results of the EVALUATE jobs it holds; the first result freezes the version', async () => {
  for (const [who, a, b] of SCORES) {
    const subject: SubjectInput = typeof who === 'string' ? { kind: 'RUN', runId: runs[who] } : who;
    const lease = await leaseEvaluation(subject);
    assert.deepEqual(lease.payload.datasets.map((d: any) => [d.entryId, d.split, d.sampleLimit, d.judge.kind]), [[entries[0], 'test', null, 'RULE'], [entries[1], 'val', 2, 'RULE']]);
    assert.equal(lease.payload.suite, 'bench');
    const first = await record(lease, entries[0], a);
    assert.equal(first.errors, undefined, JSON.stringify(first.errors));
    assert.equal(first.data.recordEvalResult.entry.position, 0);
    // a replay of the same write (a retried request, a resumed attempt) rewrites the row, never adds one
    assert.equal((await record(lease, entries[0], a)).data.recordEvalResult.id, first.data.recordEvalResult.id);
    assert.equal((await record(lease, entries[1], b)).errors, undefined);
  }
  const version = (await ok(`{ evalSuite(name: "bench") { latest { frozen results { accuracy subject { kind } entry { position } } } } }`, undefined, keys.viewer)).evalSuite.latest;
  assert.equal(version.frozen, true);
  assert.equal(version.results.length, 8, 'one row per (subject, dataset)');
});

test('a scored version is immutable: CONFLICT with reason EVAL_SUITE_VERSION_FROZEN', async () => {
  const r = await t.gql(`mutation($i: UpdateEvalSuiteVersionInput!) { updateEvalSuiteVersion(input: $i) { version } }`,
    { i: { suite: 'bench', version: 1, datasets: [{ dataset: 'fm-a' }] } }, keys.editor);
  assert.equal(errorCode(r), 'CONFLICT');
  assert.equal(r.errors![0].extensions!.reason, 'EVAL_SUITE_VERSION_FROZEN');
  const datasets = (await ok(`{ evalSuite(name: "bench") { version(version: 1) { datasets { id } } } }`)).evalSuite.version.datasets;
  assert.deepEqual(datasets.map((d: any) => d.id), entries, 'nothing changed');
});

test('the comparison table: every cell, the averages, the grouped seeds with their 95% interval, the best marks', async () => {
  const table = (await ok(TABLE, { s: 'bench' }, keys.viewer)).evaluationTable;
  assert.deepEqual(table.version, { version: 1, frozen: true });
  assert.deepEqual(table.columns.map((c: any) => [c.label, c.entry?.id ?? null]), [['fm-a@1/test', entries[0]], ['fm-b@1/val', entries[1]], ['average', null]]);
  assert.deepEqual(table.rows.map((r: any) => [r.label, r.kind, r.experiment?.name ?? null, r.subjects.length]), [
    ['sft-small (seeds 1, 2)', 'RUN', 'sft-small', 2],
    ['deployment fm-student r1', 'DEPLOYMENT', null, 1],
    ['big-vlm @ https://api.example.com/v1', 'EXTERNAL', null, 1],
  ]);
  const expected = [
    // [mean, halfWidth, n, best] per column
    [[0.65, HALF, 2, false], [0.45, HALF, 2, true], [0.55, HALF, 2, false]],
    [[0.80, null, 1, true], [0.30, null, 1, false], [0.55, null, 1, false]],
    [[0.75, null, 1, false], [0.45, null, 1, true], [0.60, null, 1, true]],
  ];
  table.rows.forEach((row: any, i: number) => row.cells.forEach((cell: any, j: number) => {
    const [mean, half, n, best] = expected[i][j] as [number, number | null, number, boolean];
    const where = `${row.label} / ${table.columns[j].label}`;
    assert.ok(Math.abs(cell.mean - mean) < 1e-9, `${where}: mean ${cell.mean}, expected ${mean}`);
    if (half === null) assert.deepEqual([cell.halfWidth, cell.low, cell.high], [null, null, null], where);
    else {
      assert.ok(Math.abs(cell.halfWidth - half) < 1e-4, `${where}: half-width ${cell.halfWidth}, expected ${half}`);
      assert.ok(Math.abs(cell.low - (mean - half)) < 1e-4 && Math.abs(cell.high - (mean + half)) < 1e-4, where);
    }
    assert.equal(cell.n, n, where);
    assert.equal(cell.best, best, `${where}: best`);
  }));
});

test('the table for chosen subjects: one seed alone has no interval; an unscored subject is a row of empty cells', async () => {
  const table = (await ok(TABLE, { s: 'bench', subjects: [EXTERNAL, { kind: 'RUN', runId: runs.seed2 }, { kind: 'EXTERNAL', endpoint: 'https://other.example.com/v1', model: 'x' }] })).evaluationTable;
  assert.deepEqual(table.rows.map((r: any) => r.label), ['big-vlm @ https://api.example.com/v1', 'sft-small (seed 2)', 'x @ https://other.example.com/v1']);
  assert.deepEqual(table.rows[1].cells.map((c: any) => [round(c.mean), c.halfWidth, c.n]), [[0.7, null, 1], [0.5, null, 1], [0.6, null, 1]]);
  assert.deepEqual(table.rows[2].cells.map((c: any) => [c.mean, c.n, c.best]), [[null, 0, false], [null, 0, false], [null, 0, false]]);
  // best among the rows asked for: A the external model (0.75), B seed 2 (0.50), the average a tie at 0.60
  assert.deepEqual(table.rows.map((r: any) => r.cells.map((c: any) => c.best)), [[true, false, true], [false, true, true], [false, false, false]]);
  assert.equal(errorCode(await t.gql(TABLE, { s: 'bench', subjects: [{ kind: 'RUN', runId: 'nope' }] })), 'NOT_FOUND');
  assert.equal(errorCode(await t.gql(TABLE, { s: 'bench', subjects: [{ kind: 'EXTERNAL', endpoint: 'http://10.0.0.1/v1', model: 'x' }] })), 'BAD_USER_INPUT');
  assert.equal(errorCode(await t.gql(TABLE, { s: 'bench', v: 9 })), 'NOT_FOUND');
});

test('results are written only by the worker holding the EVALUATE job, for the suite version and subject it names', async () => {
  const lease = await leaseEvaluation(EXTERNAL);
  assert.equal(errorCode(await record(lease, entries[0], 0.1, { key: keys.editor })), 'FORBIDDEN', 'EDITOR keys record nothing');
  assert.equal(errorCode(await t.gql(RECORD, { i: { jobId: lease.jobId, workerId, attempt: lease.attempt, entryId: entries[0], accuracy: 0.1, n: 1 } }, keys.viewer)), 'FORBIDDEN');
  assert.equal(errorCode(await record(lease, entries[0], 0.1, { worker: workerId, key: keys.otherWorker })), 'FORBIDDEN', 'another key\'s worker');
  assert.equal(errorCode(await record(lease, entries[0], 0.1, { worker: otherWorkerId, key: keys.otherWorker })), 'CONFLICT', 'a worker that does not hold the job');
  assert.equal(errorCode(await record({ ...lease, attempt: lease.attempt + 1 }, entries[0], 0.1)), 'CONFLICT', 'a stale fencing token');
  const judged = (await ok(`{ evalSuite(name: "judged") { version(version: 1) { datasets { id } } } }`)).evalSuite.version.datasets[0].id;
  assert.equal(errorCode(await record(lease, judged, 0.1)), 'BAD_USER_INPUT', 'an entry of another suite version');
  assert.equal(errorCode(await record(lease, entries[1], 0.1, { n: 3 })), 'BAD_USER_INPUT', 'over the sample limit');
  assert.equal(errorCode(await record(lease, entries[0], 1.5)), 'BAD_USER_INPUT', 'accuracy outside [0, 1]');
  // a TRAIN job it holds is no licence to write evaluation results
  await ok(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e: (await ok(`{ experiments { edges { node { id } } } }`)).experiments.edges[0].node.id });
  const train = (await ok(`mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id attempts } }`, { w: workerId }, keys.worker)).claimJob;
  assert.equal(errorCode(await record({ jobId: train.id, attempt: train.attempts }, entries[0], 0.1)), 'BAD_USER_INPUT');
  const table = (await ok(TABLE, { s: 'bench', subjects: [EXTERNAL] })).evaluationTable;
  assert.deepEqual(table.rows[0].cells.map((c: any) => round(c.mean)), [0.75, 0.45, 0.6], 'no refused write changed a number');
});

const RECORD_EXAMPLES = `mutation($i: RecordEvalExamplesInput!) { recordEvalExamples(input: $i) { written duplicates } }`;
const EXAMPLES = `query($v: ID!, $s: ID!, $e: ID!) { evalExamples(versionId: $v, subjectId: $s, entryId: $e) { totalCount correctCount edges { node { externalId response correct responseTokens } } } }`;

test('per-example records: only the entry\'s examples within its limit, first write wins, the result must agree with them', async () => {
  const lease = await leaseEvaluation({ kind: 'EXTERNAL', endpoint: 'https://records.example.com/v1', model: 'rec' });
  const send = (entryId: string, examples: unknown[], opts: { worker?: string; key?: string } = {}) =>
    t.gql(RECORD_EXAMPLES, { i: { jobId: lease.jobId, workerId: opts.worker ?? workerId, attempt: lease.attempt, entryId, examples } }, opts.key ?? keys.worker);
  const ex = (externalId: string, correct = true, response = `answer of ${externalId}`) => ({ externalId, response, correct, responseTokens: 3 });
  // entries[0] is fm-a's test split: ex-3 and ex-7 (writeDataset: split = [train, train, val, test][i % 4])
  assert.equal(errorCode(await send(entries[0], [ex('ex-0')])), 'BAD_USER_INPUT', 'a train example');
  assert.equal(errorCode(await send(entries[0], [ex('ex-2')])), 'BAD_USER_INPUT', 'a val example');
  assert.equal(errorCode(await send(entries[0], [ex('nope')])), 'BAD_USER_INPUT', 'no such example');
  assert.equal(errorCode(await send(entries[0], [ex('ex-3'), ex('ex-3')])), 'BAD_USER_INPUT', 'twice in one call');
  assert.equal(errorCode(await send(entries[0], [ex('ex-3', true, 'x'.repeat(20_001))])), 'BAD_USER_INPUT', 'an over-long response');
  assert.equal(errorCode(await send(entries[0], [ex('ex-3')], { key: keys.editor })), 'FORBIDDEN', 'EDITOR keys record nothing');
  assert.equal(errorCode(await send(entries[0], [ex('ex-3')], { worker: otherWorkerId, key: keys.otherWorker })), 'CONFLICT', 'a worker that does not hold the job');
  const read = async () => (await ok(EXAMPLES, { v: lease.payload.suiteVersionId, s: lease.payload.subjectId, e: entries[0] })).evalExamples;
  assert.equal((await read()).totalCount, 0, 'no refused call wrote anything');

  assert.deepEqual((await ok(RECORD_EXAMPLES, { i: { jobId: lease.jobId, workerId, attempt: lease.attempt, entryId: entries[0], examples: [ex('ex-3'), ex('ex-7', false)] } }, keys.worker)).recordEvalExamples, { written: 2, duplicates: 0 });
  // a replay, even one that says otherwise, keeps the first record
  assert.deepEqual((await send(entries[0], [ex('ex-3', false, 'changed')])).data.recordEvalExamples, { written: 0, duplicates: 1 });
  const stored = await read();
  assert.deepEqual([stored.totalCount, stored.correctCount], [2, 1]);
  assert.deepEqual(stored.edges.map((e: any) => [e.node.externalId, e.node.correct, e.node.response]).sort(), [['ex-3', true, 'answer of ex-3'], ['ex-7', false, 'answer of ex-7']]);
  // the entry's result is the summary of its records: anything else is refused
  assert.equal(errorCode(await record(lease, entries[0], 1, { n: 2 })), 'BAD_USER_INPUT', 'accuracy disagrees');
  assert.equal(errorCode(await record(lease, entries[0], 0.5, { n: 1 })), 'BAD_USER_INPUT', 'n disagrees');
  assert.equal((await record(lease, entries[0], 0.5, { n: 2 })).data.recordEvalResult.accuracy, 0.5);

  // an entry with a sample limit takes only the first `limit` examples of its split (in dataset order)
  await ok(`mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { id } }`, { i: { name: 'limited', datasets: [{ dataset: 'fm-a', split: 'train', sampleLimit: 1 }] } }, keys.editor);
  const limited = await leaseEvaluation({ kind: 'EXTERNAL', endpoint: 'https://records.example.com/v1', model: 'rec' }, workerId, keys.worker, 'limited');
  const entry = limited.payload.datasets[0].entryId;
  const sendLimited = (id: string) => t.gql(RECORD_EXAMPLES, { i: { jobId: limited.jobId, workerId, attempt: limited.attempt, entryId: entry, examples: [ex(id)] } }, keys.worker);
  assert.equal(errorCode(await sendLimited('ex-1')), 'BAD_USER_INPUT', 'the second train example is past the limit');
  assert.equal((await sendLimited('ex-0')).data.recordEvalExamples.written, 1);
});

test('a run that names a suite: pinned at creation, rule judges only, sent with its TRAIN job, evaluated as the job completes', async () => {
  const datasetA = (await ok(`{ datasets(name: "fm-a") { edges { node { id } } } }`)).datasets.edges[0].node.id;
  const create = (name: string, evalSuite: string) => t.gql(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id config } }`,
    { i: { name, datasetId: datasetA, studentSize: 'nano', algorithm: 'SFT', config: { eval_suite: evalSuite, eval_suite_every: 50 } } }, keys.editor);
  await ok(CREATE, { i: { name: 'llm-judged', datasets: [{ dataset: 'fm-a', judge: 'LLM', judgeEndpoint: 'https://judge.example.com/v1', judgeModel: 'j-1' }] } }, keys.editor);
  assert.equal(errorCode(await create('with-judge', 'llm-judged')), 'BAD_USER_INPUT', 'an LLM-judged suite is not scored every N steps');
  assert.equal(errorCode(await create('no-such', 'no-such-suite')), 'NOT_FOUND');
  const exp = (await create('with-suite', 'bench')).data.createExperiment;
  const newest = (await ok(`{ evalSuite(name: "bench") { latest { version id datasets { id } } } }`)).evalSuite.latest;
  assert.equal(exp.config.eval_suite, `bench@${newest.version}`, 'pinned to the newest version');
  await ok(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 7 }) { id } }`, { e: exp.id }, keys.editor);
  const job = (await ok(`mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id attempts payload run { id } } }`, { w: workerId }, keys.worker)).claimJob;
  // (an earlier test's runs may be queued first: claim until ours)
  let held = job;
  while (held.payload.experimentId !== exp.id) {
    await ok(`mutation($i: FailJobInput!) { failJob(input: $i) { status } }`, { i: { jobId: held.id, workerId, attempt: held.attempts, error: 'not this test\'s', retryable: false } }, keys.worker);
    held = (await ok(`mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id attempts payload run { id } } }`, { w: workerId }, keys.worker)).claimJob;
  }
  assert.deepEqual([held.payload.evalSuite.name, held.payload.evalSuite.version, held.payload.evalSuite.datasets.map((d: any) => d.entryId)], ['bench', newest.version, newest.datasets.map((d: any) => d.id)]);
  assert.match(held.payload.evalSuite.datasets[0].metricKey, /^[A-Za-z0-9_.-]+$/, 'a metric-name-safe column key');
  const before = await t.platform.db.prisma.job.count({ where: { kind: 'EVALUATE' } });
  await ok(`mutation($i: CompleteJobInput!) { completeJob(input: $i) { status } }`, { i: { jobId: held.id, workerId, attempt: held.attempts, result: {} } }, keys.worker);
  const queued = await t.platform.db.prisma.job.findMany({ where: { kind: 'EVALUATE' }, orderBy: { createdAt: 'desc' }, take: 1 });
  assert.equal(await t.platform.db.prisma.job.count({ where: { kind: 'EVALUATE' } }), before + 1, 'one suite evaluation queued');
  const payload = JSON.parse(queued[0].payload);
  assert.deepEqual([payload.suite, payload.version, payload.subject.kind, payload.subject.runId], ['bench', newest.version, 'RUN', held.run.id]);
});

test('ril eval: suite create, suites and table --format csv|latex through the API', async () => {
  const env = { RIL_API_URL: t.url, RIL_API_KEY: keys.editor };
  const created = await runCli(['eval', 'suite', 'create', '--name', 'cli-suite', '--dataset', 'fm-a:val:1', '--dataset', 'fm-b', '--json'], env);
  assert.equal(created.code, 0, created.stderr);
  assert.deepEqual(JSON.parse(created.stdout).latest.datasets.map((d: any) => [d.label, d.sampleLimit]), [['fm-a@1/val', 1], ['fm-b@1/test', null]]);
  const bad = await runCli(['eval', 'suite', 'create', '--name', 'x', '--dataset', 'fm-a:dev'], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /BAD_USER_INPUT.*split must be/);
  const suites = await runCli(['eval', 'suites'], { ...env, RIL_API_KEY: keys.viewer });
  assert.equal(suites.code, 0, suites.stderr);
  assert.match(suites.stdout, /cli-suite/);
  const csv = await runCli(['eval', 'table', '--suite', 'bench', '--format', 'csv'], { ...env, RIL_API_KEY: keys.viewer });
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout.split('\r\n')[1], '"sft-small (seeds 1, 2)",2,65.00,63.53,45.00,63.53,55.00,63.53,fm-b@1/val');
  const latex = await runCli(['eval', 'table', '--suite', 'bench', '--version', '1', '--format', 'latex'], { ...env, RIL_API_KEY: keys.viewer });
  assert.equal(latex.code, 0, latex.stderr);
  assert.match(latex.stdout, /^deployment fm-student r1 & \\textbf\{80\.0\} & 30\.0 & 55\.0 \\\\$/m);
  // ril eval run queues one EVALUATE job per subject (scored by `ril worker`; without --wait it only queues)
  const run = await runCli(['eval', 'run', '--suite', 'cli-suite', '--endpoint', 'https://api.example.com/v1', '--model', 'big-vlm', '--json'], env);
  assert.equal(run.code, 0, run.stderr);
  const [job] = JSON.parse(run.stdout);
  const payload = (await ok(`query($id: ID!) { job(id: $id) { kind payload } }`, { id: job.id })).job;
  assert.equal(payload.kind, 'EVALUATE');
  assert.deepEqual([payload.payload.suite, payload.payload.subject.kind, payload.payload.subject.model, payload.payload.datasets.length], ['cli-suite', 'EXTERNAL', 'big-vlm', 2]);
  const two = await runCli(['eval', 'run', '--suite', 'cli-suite', '--teacher', 't', '--run', 'r'], env);
  assert.equal(two.code, 1);
  assert.match(two.stderr, /BAD_USER_INPUT.*name one subject/);
  const experiment = (await ok(`{ experiments { edges { node { id name } } } }`)).experiments.edges.find((e: any) => e.node.name === runs.experiment).node.id;
  const unfinished = await runCli(['eval', 'run', '--suite', 'cli-suite', '--experiment', experiment], env);
  assert.equal(unfinished.code, 1);
  assert.match(unfinished.stderr, /no succeeded run to score/);
});

// ---------------------------------------------------------------- pure parts

test('t975 and meanInterval: the table values, the large-df expansion, one value has no interval', () => {
  assert.equal(t975(1), 12.7062);
  assert.equal(t975(4), 2.7764);
  assert.equal(t975(30), 2.0423);
  assert.ok(Math.abs(t975(31) - 2.0395) < 2e-4 && Math.abs(t975(120) - 1.9799) < 2e-4 && t975(1e6) > 1.95996);
  const mi = meanInterval([0.3, 0.4, 0.5])!;
  // mean 0.4, s = 0.1, s / sqrt(3) = 0.057735, t(2 dof) = 4.3027
  assert.ok(Math.abs(mi.mean - 0.4) < 1e-12 && Math.abs(mi.halfWidth! - 4.3027 * 0.1 / Math.sqrt(3)) < 1e-9);
  assert.deepEqual(meanInterval([0.7]), { mean: 0.7, n: 1, halfWidth: null });
  assert.equal(meanInterval([]), null);
});

const SAMPLE: TableText = {
  columns: [{ label: 'fm_a@1/test' }, { label: 'b, "quoted" & 50%' }, { label: 'average' }],
  rows: [
    { label: 'sft-small (seeds 1, 2)', cells: [{ mean: 0.65, halfWidth: 0.63531, n: 2, best: false }, { mean: 0.45, halfWidth: 0.63531, n: 2, best: true }, { mean: 0.55, halfWidth: 0.63531, n: 2, best: false }] },
    { label: 'model | x_y #1 {a} ~^\\', cells: [{ mean: 0.8, halfWidth: null, n: 1, best: true }, { mean: null, halfWidth: null, n: 0, best: false }, { mean: null, halfWidth: null, n: 0, best: false }] },
  ],
};

test('Markdown: a header, right-aligned numbers, pipes escaped, the best cell bold, a dash for no value', () => {
  assert.equal(toMarkdown(SAMPLE), [
    '| subject | fm_a@1/test | b, "quoted" & 50% | average |',
    '| --- | ---: | ---: | ---: |',
    '| sft-small (seeds 1, 2) | 65.0 ± 63.5 | **45.0 ± 63.5** | 55.0 ± 63.5 |',
    '| model \\| x_y #1 {a} ~^\\\\ | **80.0** | – | – |',
    '',
  ].join('\n'));
});

test('CSV (RFC 4180): fields with commas, quotes or newlines quoted, quotes doubled, CRLF line ends', () => {
  assert.equal(csvField('plain'), 'plain');
  assert.equal(csvField('a,b'), '"a,b"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField('two\nlines'), '"two\nlines"');
  assert.equal(toCsv(SAMPLE), [
    'subject,n,fm_a@1/test,fm_a@1/test ±95%,"b, ""quoted"" & 50%","b, ""quoted"" & 50% ±95%",average,average ±95%,best',
    '"sft-small (seeds 1, 2)",2,65.00,63.53,45.00,63.53,55.00,63.53,"b, ""quoted"" & 50%"',
    'model | x_y #1 {a} ~^\\,1,80.00,,,,,,fm_a@1/test',
    '',
  ].join('\r\n'));
});

test('LaTeX: special characters escaped, the best cell in \\textbf, $\\pm$ for the interval', () => {
  assert.equal(latexEscape('a_b & 50% $x #1 {y} ~z ^w \\ |<>'), 'a\\_b \\& 50\\% \\$x \\#1 \\{y\\} \\textasciitilde{}z \\textasciicircum{}w \\textbackslash{} \\textbar{}\\textless{}\\textgreater{}');
  assert.equal(toLatex(SAMPLE), [
    '% needs \\usepackage{booktabs}',
    '\\begin{tabular}{lrrr}',
    '\\toprule',
    'Subject & fm\\_a@1/test & b, "quoted" \\& 50\\% & average \\\\',
    '\\midrule',
    'sft-small (seeds 1, 2) & 65.0 $\\pm$ 63.5 & \\textbf{45.0 $\\pm$ 63.5} & 55.0 $\\pm$ 63.5 \\\\',
    'model \\textbar{} x\\_y \\#1 \\{a\\} \\textasciitilde{}\\textasciicircum{}\\textbackslash{} & \\textbf{80.0} & -- & -- \\\\',
    '\\bottomrule',
    '\\end{tabular}',
    '',
  ].join('\n'));
});

test('--dataset NAME[:split[:limit]]', () => {
  assert.deepEqual(parseDatasetSpec('fm'), { dataset: 'fm' });
  assert.deepEqual(parseDatasetSpec('fm:val'), { dataset: 'fm', split: 'val' });
  assert.deepEqual(parseDatasetSpec('fm:test:200'), { dataset: 'fm', split: 'test', sampleLimit: 200 });
  assert.throws(() => parseDatasetSpec('fm:dev'));
  assert.throws(() => parseDatasetSpec('fm:test:0'));
  assert.throws(() => parseDatasetSpec('fm:test:1:x'));
});
