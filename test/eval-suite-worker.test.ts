// Database: once (the Python worker scoring a suite: slow; the suite tables' writes are covered on both databases by eval-suites.test.ts)
// Issue 16's done-when, end to end: a suite of two datasets (one rule-judged, one judged by an LLM judge behind a
// local OpenAI-compatible server) scored by the Python worker over the real API for four subjects: a run's
// checkpoint (PyTorch), a deployed bundle (the endpoint's runtime), an external model (the same local server) and a
// teacher (its cached responses). Every cell and average is checked against numbers computed here from the data, the
// PyTorch reference answers and the scripts of the local server. Then the fault test: the worker is killed mid-suite,
// a second worker resumes the job, and every example was answered by the endpoint, and judged, exactly once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPythonWorker } from '../api/_lib/jobs/python.js';
import { writeEvalSets } from '../clients/cli/src/data/fashionMnist/evalSets.js';
import { mentionsAnswer } from '../clients/cli/src/data/fashionMnist/questions.js';
import { findPython, studentBundle, type BundleFixture } from './helpers/bundle.js';
import { deploy, registerBundle, uploadBlob } from './helpers/deploy.js';
import { startOpenAIMock, type MockRequest, type OpenAIMock } from './helpers/openaiMock.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const skip = findPython().reason ?? (!fs.existsSync(FASHION) ? 'dataset-fashion-mnist not installed' : false);

const KEY_VAR = 'RIL_EVAL_TEST_KEY';
const KEY = 'sk-eval-suite-test';
const LIMIT_A = 12;
/** The LLM judge's script: a verdict of 1 exactly when the ground truth is one of these (whatever was answered). */
const JUDGE_YES = new Set(['sandal', 'sneaker', 'bag', 'trousers', 'dress']);

interface Example { id: string; image: string; question: string; answer: string; split: string }
const readJsonl = <T>(file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);

/** The trainer's answer rule as documented (ril_trainer/answers.py): the first yes/no word for a yes/no answer, else
 * the answer as a whole-word phrase of the response (the reference matcher mentionsAnswer). */
function handVerdict(answer: string, response: string): boolean {
  const a = answer.trim().toLowerCase();
  if (a === 'yes' || a === 'no') return (response.toLowerCase().match(/(?<![\p{L}\p{N}-])(yes|no)(?![\p{L}\p{N}-])/u)?.[1] ?? null) === a;
  return mentionsAnswer(response, answer);
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const close = (actual: number | null, expected: number, what: string) => assert.ok(actual !== null && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);

let t: TestServer;
let mock: OpenAIMock;
let fx: BundleFixture;
let workerKey: string;
let examplesA: Example[];
let examplesB: Example[];
/** (sha256 of the image, question) -> the example, for the local server's scripts. */
const byImageQuestion = new Map<string, Example & { position: number }>();
const sha = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
/** While set, the model 'vlm-slow' hangs from its `hangFrom`-th request on (the worker gets killed meanwhile). */
let hangFrom: number | null = null;

function exampleOf(req: MockRequest) {
  const e = byImageQuestion.get(`${sha(req.images[0])}|${req.text}`);
  if (!e) throw new Error(`the local model was asked about an image and question of no example: ${req.text}`);
  return e;
}

/** The external models' script: the ground truth at even positions of its dataset, a wrong answer at odd ones; each
 * answer names its example so the judge's requests can be traced back to it. */
function modelAnswer(req: MockRequest) {
  const e = exampleOf(req);
  return `${e.position % 2 === 0 ? e.answer : 'not sure at all'} (#${e.id})`;
}

function startWorker(args: string[] = []) {
  let log = '';
  const child: ChildProcess = spawnPythonWorker(findPython().python!, t.url, workerKey, ['--cache', fs.mkdtempSync(path.join(os.tmpdir(), 'ril-evalw-')), '--threads', '1', '--kinds', 'EVALUATE', ...args], ['ignore', 'pipe', 'pipe']);
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

async function ok(query: string, variables: Record<string, unknown> = {}, key?: string) {
  const r = await t.gql(query, variables, key);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data;
}

const QUEUE = `mutation($i: QueueSuiteEvaluationInput!) { queueSuiteEvaluation(input: $i) { id payload } }`;
const JOB = `query($id: ID!) { job(id: $id) { id status attempts error result } }`;
const EXAMPLES = `query($v: ID!, $s: ID!, $e: ID!, $after: String) { evalExamples(versionId: $v, subjectId: $s, entryId: $e, first: 1000, after: $after) {
  totalCount correctCount edges { node { externalId response correct responseTokens } } pageInfo { hasNextPage endCursor } } }`;

describe('suite evaluation by the Python worker', { skip, timeout: 900_000 }, () => {
  let suiteVersionId: string;
  let entries: string[];
  let runId: string;

  before(async () => {
    fx = await studentBundle();
    process.env[KEY_VAR] = KEY; // the worker's environment holds the key its jobs name (never the API)
    process.env.RIL_OUTBOUND_ALLOW_HOSTS = '127.0.0.1';
    process.env.RIL_SECRET_ENV_ALLOWLIST = KEY_VAR;
    mock = await startOpenAIMock({
      apiKey: KEY,
      respond: (req) => {
        if (req.model === 'judge') {
          const truth = /Ground-truth answer: (.*)/.exec(req.text)?.[1]?.trim() ?? '';
          return `The reference is ${truth}. <answer>${JUDGE_YES.has(truth) ? 1 : 0}</answer>`;
        }
        return modelAnswer(req);
      },
      script: (req) => {
        if (req.model !== 'vlm-slow' || hangFrom === null) return 'ok';
        const before = mock.requests.filter((r) => r.model === 'vlm-slow' && r.index < req.index).length;
        return before >= hangFrom ? 'hang' : 'ok';
      },
    });
    t = await startTestServer({ RIL_OUTBOUND_ALLOW_HOSTS: '127.0.0.1', RIL_SECRET_ENV_ALLOWLIST: KEY_VAR, RIL_JOB_BACKOFF_MS: '0' });
    workerKey = await t.keyFor('WORKER');

    // dataset A: the fixture's data (its test split, the first LIMIT_A scored); dataset B: the test questions
    // "What item is shown?" derived from it (clients/cli/src/data/fashionMnist/evalSets.ts)
    const sets = await writeEvalSets(fx.data, fs.mkdtempSync(path.join(os.tmpdir(), 'ril-evalsets-')));
    const setB = sets.find((s) => s.template === 'name')!;
    const imports: [string, string][] = [['suite-a', fx.data], ['suite-b', setB.dir]];
    for (const [name, dir] of imports) {
      const ds = (await ok(`mutation($p: String!, $n: String!) { importDataset(input: { name: $n, path: $p }) { id } }`, { p: path.join(dir, 'examples.jsonl'), n: name })).importDataset;
      for (const f of fs.readdirSync(path.join(dir, 'teachers'))) {
        await ok(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`, { d: ds.id, j: fs.readFileSync(path.join(dir, 'teachers', f), 'utf8') });
      }
    }
    examplesA = readJsonl<Example>(path.join(fx.data, 'examples.jsonl')).filter((e) => e.split === 'test').slice(0, LIMIT_A);
    examplesB = readJsonl<Example>(path.join(setB.dir, 'examples.jsonl')).filter((e) => e.split === 'test');
    for (const [list, dir] of [[examplesA, fx.data], [examplesB, setB.dir]] as const) {
      list.forEach((e, position) => byImageQuestion.set(`${sha(fs.readFileSync(path.join(dir, e.image)))}|${e.question}`, { ...e, position }));
    }
    const judgedYes = examplesB.filter((e) => JUDGE_YES.has(e.answer)).length;
    assert.ok(judgedYes > 0 && judgedYes < examplesB.length, 'the judge script says yes to some of B and no to others');

    const suite = (await ok(`mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { latest { id datasets { id } } } }`, { i: {
      name: 'two-sets', datasets: [
        { dataset: 'suite-a', split: 'test', sampleLimit: LIMIT_A },
        { dataset: 'suite-b', split: 'test', judge: 'LLM', judgeEndpoint: mock.url, judgeModel: 'judge', judgeApiKeyEnv: KEY_VAR },
      ],
    } })).createEvalSuite.latest;
    suiteVersionId = suite.id;
    entries = suite.datasets.map((d: { id: string }) => d.id);

    // a run whose newest checkpoint is the fixture's (a worker that trained it registers it under its lease)
    const datasetA = (await ok(`{ datasets(name: "suite-a") { edges { node { id } } } }`)).datasets.edges[0].node.id;
    const exp = (await ok(`mutation($d: ID!) { createExperiment(input: { name: "fixture-sft", datasetId: $d, studentSize: "nano", algorithm: SFT }) { id } }`, { d: datasetA })).createExperiment;
    runId = (await ok(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e: exp.id })).startRun.id;
    const trainer = (await ok(`mutation { registerWorker(input: { name: "fixture-trainer" }) { id } }`, {}, workerKey)).registerWorker.id;
    const job = (await ok(`mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id attempts } }`, { w: trainer }, workerKey)).claimJob;
    const ckpt = await uploadBlob(t, fs.readFileSync(fx.checkpoint));
    await ok(`mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }`, { i: {
      blobSha256: ckpt, kind: 'CHECKPOINT', name: 'checkpoint-00000060', runId, workerId: trainer, attempt: job.attempts, metadata: { step: 60 },
    } }, workerKey);
    await ok(`mutation($i: CompleteJobInput!) { completeJob(input: $i) { status } }`, { i: { jobId: job.id, workerId: trainer, attempt: job.attempts, result: {} } }, workerKey);

    const bundle = (await registerBundle(t, fx.archive, 'fixture-bundle')).data.registerArtifact.id;
    assert.equal((await deploy(t, 'fixture-student', bundle)).data.deploy.liveRevision.revision, 1);
  });
  after(async () => { await t?.close(); await mock?.close(); });

  test('a checkpoint, a deployed bundle, an external model and a teacher on two datasets: every cell and average as computed by hand', async () => {
    const subjects = [
      { kind: 'RUN', runId },
      { kind: 'DEPLOYMENT', deployment: 'fixture-student' },
      { kind: 'EXTERNAL', endpoint: mock.url, model: 'vlm-a', apiKeyEnv: KEY_VAR },
      { kind: 'TEACHER', teacher: 'teacher-concise' },
    ];
    const jobs = [];
    for (const subject of subjects) jobs.push((await ok(QUEUE, { i: { suite: 'two-sets', subject } })).queueSuiteEvaluation);
    assert.equal(jobs[1].payload.subject.bundleSha256, crypto.createHash('sha256').update(fx.archive).digest('hex'), 'a deployment is pinned to its revision\'s bundle');
    const w = startWorker(['--exit-when-idle']);
    assert.equal(await w.exited, 0, w.log());
    for (const j of jobs) {
      const job = (await ok(JOB, { id: j.id })).job;
      assert.equal(job.status, 'SUCCEEDED', `${job.error}\n${w.log()}`);
    }

    // ---- by hand: the answers each subject gives, and the judges' verdicts ----
    const torch = new Map(fx.torch.map((e) => [e.id, e.text]));
    assert.ok(examplesA.every((e) => torch.has(e.id)), 'the PyTorch reference answers cover dataset A\'s scored examples');
    const teacher = new Map(readJsonl<{ example: string; sample: number; text: string }>(path.join(fx.data, 'teachers', 'teacher-concise.jsonl')).filter((l) => l.sample === 0).map((l) => [l.example, l.text]));
    const ruleA = (answerOf: (e: Example, position: number) => string) => mean(examplesA.map((e, i) => Number(handVerdict(e.answer, answerOf(e, i)))));
    const judgeB = mean(examplesB.map((e) => Number(JUDGE_YES.has(e.answer)))); // the judge's script ignores the answer
    const expectedA = {
      RUN: ruleA((e) => torch.get(e.id)!),
      DEPLOYMENT: ruleA((e) => torch.get(e.id)!), // the ONNX graphs answer as PyTorch does (test/inference.test.ts)
      EXTERNAL: Math.ceil(LIMIT_A / 2) / LIMIT_A, // right at even positions
      TEACHER: ruleA((e) => teacher.get(e.id)!),
    };
    assert.ok(expectedA.RUN > 0 && expectedA.RUN < 1, `the fixture student is neither always right nor always wrong on A (${expectedA.RUN})`);

    // the per-example records: what the checkpoint answered is what PyTorch answers; the verdicts are the rule's
    const subjectIds = jobs.map((j) => j.payload.subjectId as string);
    const records = async (subjectId: string, entryId: string) => {
      const out: { externalId: string; response: string; correct: boolean; responseTokens: number | null }[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = (await ok(EXAMPLES, { v: suiteVersionId, s: subjectId, e: entryId, after })).evalExamples;
        out.push(...page.edges.map((x: any) => x.node));
        if (!page.pageInfo.hasNextPage) return out;
        after = page.pageInfo.endCursor;
      }
    };
    const runA = new Map((await records(subjectIds[0], entries[0])).map((r) => [r.externalId, r]));
    assert.deepEqual([...runA.keys()].sort(), examplesA.map((e) => e.id).sort(), 'exactly the first sampleLimit test examples');
    for (const e of examplesA) {
      assert.equal(runA.get(e.id)!.response, torch.get(e.id), `${e.id}: the checkpoint's answer`);
      assert.equal(runA.get(e.id)!.correct, handVerdict(e.answer, torch.get(e.id)!), `${e.id}: the rule's verdict`);
    }
    const depA = new Map((await records(subjectIds[1], entries[0])).map((r) => [r.externalId, r.response]));
    assert.deepEqual(examplesA.map((e) => depA.get(e.id)), examplesA.map((e) => torch.get(e.id)), 'the deployment answers as the checkpoint does');

    const table = (await ok(`query($s: [EvalSubjectInput!]) { evaluationTable(suite: "two-sets", subjects: $s) {
      columns { label } rows { label kind cells { mean n best } } } }`, { s: subjects })).evaluationTable;
    assert.deepEqual(table.columns.map((c: any) => c.label), ['suite-a@1/test', 'suite-b@1/test [judge]', 'average']);
    const expected = (['RUN', 'DEPLOYMENT', 'EXTERNAL', 'TEACHER'] as const).map((k) => [expectedA[k], judgeB, (expectedA[k] + judgeB) / 2]);
    assert.deepEqual(table.rows.map((r: any) => r.kind), ['RUN', 'DEPLOYMENT', 'EXTERNAL', 'TEACHER']);
    table.rows.forEach((row: any, i: number) => row.cells.forEach((c: any, col: number) => close(c.mean, expected[i][col], `${row.label} / ${table.columns[col].label}`)));
    // the best value of each column (ties: each)
    for (let col = 0; col < 3; col++) {
      const top = Math.max(...expected.map((r) => r[col]));
      assert.deepEqual(table.rows.map((r: any) => r.cells[col].best), expected.map((r) => Math.abs(r[col] - top) < 1e-9), `best marks of column ${col}`);
    }
    // the job's result: per dataset and the suite average, the same numbers
    const result = (await ok(JOB, { id: jobs[2].id })).job.result;
    close(result.average, (expectedA.EXTERNAL + judgeB) / 2, 'the EXTERNAL job\'s average');
    assert.deepEqual(result.results.map((r: any) => r.n), [LIMIT_A, examplesB.length]);
    // the LLM judge is asked once per distinct (question, reference, response) of B: its verdicts are cached by their
    // inputs, so the deployment's answers (the checkpoint's) and two items answered alike cost no second call
    const answerOf = new Map(examplesB.map((e) => [e.id, `${e.question}|${e.answer}`]));
    const distinct = new Set<string>();
    for (const id of subjectIds) for (const r of await records(id, entries[1])) distinct.add(`${answerOf.get(r.externalId)}|${r.response}`);
    assert.ok(distinct.size < 4 * examplesB.length, 'some judge inputs repeat (checkpoint = deployment)');
    assert.equal(mock.requests.filter((r) => r.model === 'judge' && r.step === 'ok').length, distinct.size, 'one judge call per distinct (question, reference, response)');
  });

  test('killed mid-suite, the job resumes on another worker: each example answered and judged exactly once', async () => {
    const subject = { kind: 'EXTERNAL', endpoint: mock.url, model: 'vlm-slow', apiKeyEnv: KEY_VAR };
    const queued = (await ok(QUEUE, { i: { suite: 'two-sets', subject } })).queueSuiteEvaluation;
    const subjectId = queued.payload.subjectId as string;
    const K = 5; // the local model answers 5 questions, then hangs
    hangFrom = K;
    const first = startWorker(['--lease-seconds', '3']);
    const deadline = Date.now() + 120_000;
    for (;;) {
      const stored = (await ok(EXAMPLES, { v: suiteVersionId, s: subjectId, e: entries[0], after: null })).evalExamples.totalCount;
      if (stored >= K) break;
      if (first.child.exitCode !== null || Date.now() > deadline) assert.fail(`the first worker did not record ${K} examples:\n${first.log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    first.child.kill('SIGKILL');
    await first.exited;
    assert.equal((await ok(EXAMPLES, { v: suiteVersionId, s: subjectId, e: entries[0], after: null })).evalExamples.totalCount, K, 'each answered example was recorded, nothing else');
    hangFrom = null;
    await new Promise((r) => setTimeout(r, 3500)); // the killed worker's lease expires
    const second = startWorker(['--exit-when-idle']);
    assert.equal(await second.exited, 0, second.log());
    const job = (await ok(JOB, { id: queued.id })).job;
    assert.equal(job.status, 'SUCCEEDED', `${job.error}\n${second.log()}`);
    assert.equal(job.attempts, 2, 'resumed by a second attempt');

    const answered = mock.requests.filter((r) => r.model === 'vlm-slow' && r.step === 'ok').map((r) => exampleOf(r).id);
    const all = [...examplesA, ...examplesB].map((e) => e.id);
    assert.deepEqual([...answered].sort(), [...all].sort(), 'every example answered exactly once across both workers');
    // B was judged entirely after the resume (the first worker only got through A, which the rule judges): each of
    // vlm-slow's responses once; its responses equal vlm-a's, judged once by the first test's worker (another cache)
    for (const e of examplesB) {
      const calls = mock.requests.filter((r) => r.model === 'judge' && r.step === 'ok' && r.text.includes(`(#${e.id})`)).length;
      assert.equal(calls, 2, `${e.id}: judged once for vlm-a and once for vlm-slow`);
    }
    const table = (await ok(`query($s: [EvalSubjectInput!]) { evaluationTable(suite: "two-sets", subjects: $s) { rows { cells { mean } } } }`, { s: [subject] })).evaluationTable;
    const judgeB = mean(examplesB.map((e) => Number(JUDGE_YES.has(e.answer))));
    const expected = [Math.ceil(LIMIT_A / 2) / LIMIT_A, judgeB, (Math.ceil(LIMIT_A / 2) / LIMIT_A + judgeB) / 2];
    table.rows[0].cells.forEach((c: any, i: number) => close(c.mean, expected[i], `vlm-slow column ${i}`));
  });
});
