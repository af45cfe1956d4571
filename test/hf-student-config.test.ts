// Hugging Face students on the platform (issue 13): createExperiment takes config.student and config.gpus, checks what
// the trainer schema cannot (an hf model reference, LoRA for the discriminator, studentSize against the family) and
// shows the student on Experiment; a TRAIN job needing N GPUs is claimed only by a worker that registered >= N; an hf
// run's jobs (TRAIN, and EVALUATE of its checkpoint) only by a worker with transformers.
// Everything over real HTTP on a fresh database (RIL_TEST_DB=sqlite | postgres).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { writeDataset } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { REPO } from './helpers/python.js';
import { findTrainerPython, spawnPythonWorker } from '../api/_lib/jobs/python.js';
import { chromiumMissing, openDashboard } from './helpers/browser.js';
import { describeStudent } from '../clients/sdk/src/describe.js';
import type { StudentFieldsFragment } from '../clients/sdk/src/generated/graphql.js';

const CREATE = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id name studentSize gpus student { family model loraRank dtype discBackbone gradientCheckpointing sharding } config } }`;
const COUNT = '{ experiments { totalCount } }';
const HF = { family: 'hf', model: 'HuggingFaceTB/SmolVLM-256M-Instruct', lora: { r: 16, alpha: 32 }, dtype: 'bf16', disc_backbone: 'lora', gradient_checkpointing: true };

describe('Hugging Face students and GPU requirements over GraphQL', () => {
  let t: TestServer;
  let datasetId: string;
  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' });
    const { file } = await writeDataset(4);
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "hf", path: $p }) { id } }`, { p: file })).data.importDataset.id;
  });
  after(async () => { await t.close(); });

  test('an hf student round-trips: stored, listed and read back with its LoRA rank, dtype, sharding and GPUs; studentSize is null', async () => {
    const r = await t.gql(CREATE, { i: { name: 'hf-smol', datasetId, algorithm: 'SFT', config: { student: HF, gpus: 2, max_steps: 5 } } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const e = r.data.createExperiment;
    assert.equal(e.studentSize, null);
    assert.equal(e.gpus, 2);
    assert.deepEqual(e.student, { family: 'HF', model: HF.model, loraRank: 16, dtype: 'bf16', discBackbone: 'lora', gradientCheckpointing: true, sharding: 'none' });
    assert.deepEqual(e.config.student.lora, { r: 16, alpha: 32, dropout: 0.05, target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj'] }, 'nested defaults filled in');
    const listed = await t.gql(`{ experiments { edges { node { name studentSize gpus student { family model loraRank } } } } }`);
    assert.deepEqual(listed.data.experiments.edges.find((x: any) => x.node.name === 'hf-smol').node,
      { name: 'hf-smol', studentSize: null, gpus: 2, student: { family: 'HF', model: HF.model, loraRank: 16 } });
    // a local directory is a model reference too
    const local = await t.gql(CREATE, { i: { name: 'hf-local', datasetId, algorithm: 'SFT', config: { student: { family: 'hf', model: '/models/smolvlm-256m' } } } });
    assert.equal(local.errors, undefined, JSON.stringify(local.errors));
    assert.deepEqual([local.data.createExperiment.student.model, local.data.createExperiment.student.loraRank, local.data.createExperiment.gpus], ['/models/smolvlm-256m', 0, 0]);
    // FSDP sharding (with the copy discriminator: a LoRA one is refused) is stored and read back; without it, "none"
    const sharded = await t.gql(CREATE, { i: { name: 'hf-fsdp', datasetId, algorithm: 'SFT', config: { student: { ...HF, disc_backbone: 'copy', sharding: 'fsdp' }, gpus: 2 } } });
    assert.equal(sharded.errors, undefined, JSON.stringify(sharded.errors));
    const READ = `query($id: ID!) { experiment(id: $id) { student { family model loraRank dtype discBackbone gradientCheckpointing sharding } } }`;
    const fsdp: StudentFieldsFragment = (await t.gql(READ, { id: sharded.data.createExperiment.id })).data.experiment.student;
    assert.deepEqual(fsdp, { family: 'HF', model: HF.model, loraRank: 16, dtype: 'bf16', discBackbone: 'copy', gradientCheckpointing: true, sharding: 'fsdp' });
    assert.equal(describeStudent(fsdp), `hf ${HF.model} LoRA r16 bf16 fsdp`);
    assert.equal((await t.gql(READ, { id: e.id })).data.experiment.student.sharding, 'none');
    assert.equal((await t.gql(READ, { id: local.data.createExperiment.id })).data.experiment.student.sharding, 'none');
  });

  test('a built-in student keeps studentSize and reads as family BUILTIN with its size as the model', async () => {
    const r = await t.gql(CREATE, { i: { name: 'builtin-nano', datasetId, studentSize: 'nano', algorithm: 'SFT' } });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data.createExperiment.studentSize, 'nano');
    assert.deepEqual(r.data.createExperiment.student, { family: 'BUILTIN', model: 'nano', loraRank: 0, dtype: 'auto', discBackbone: 'copy', gradientCheckpointing: false, sharding: 'none' });
    assert.equal(r.data.createExperiment.gpus, 0);
  });

  const refused: [string, Record<string, unknown>, RegExp][] = [
    ['hf without a model', { config: { student: { family: 'hf' } } }, /config\.student\.model is required for an hf student/],
    ['hf with a blank model', { config: { student: { family: 'hf', model: '   ' } } }, /config\.student\.model is required for an hf student/],
    ['a URL', { config: { student: { family: 'hf', model: 'https://huggingface.co/HuggingFaceTB/SmolVLM-256M-Instruct' } } }, /not a URL/],
    ['another scheme', { config: { student: { family: 'hf', model: 'hf://org/name' } } }, /not a URL/],
    ['.. climbing out', { config: { student: { family: 'hf', model: '../../etc/models' } } }, /'\.\.' path segments/],
    ['.. inside', { config: { student: { family: 'hf', model: 'org/../../name' } } }, /'\.\.' path segments/],
    ['.. with backslashes', { config: { student: { family: 'hf', model: 'models\\..\\x' } } }, /'\.\.' path segments/],
    ['a NUL', { config: { student: { family: 'hf', model: 'org/na\u0000me' } } }, /NUL/],
    ['disc_backbone lora without LoRA', { config: { student: { ...HF, lora: { r: 0 } } } }, /disc_backbone "lora" needs LoRA adapters: set config\.student\.lora\.r > 0/],
    ['fsdp sharding with a LoRA discriminator', { config: { student: { ...HF, sharding: 'fsdp' } } }, /sharding "fsdp" with disc_backbone "lora" is not supported/],
    ['fsdp sharding of a built-in student', { studentSize: 'nano', config: { student: { sharding: 'fsdp' } } }, /sharding "fsdp" is for hf students/],
    ['an unknown sharding (schema)', { config: { student: { ...HF, disc_backbone: 'copy', sharding: 'zero3' } } }, /sharding must be one of/],
    ['hf with a built-in size', { studentSize: 'small', config: { student: HF } }, /leave studentSize out/],
    ['built-in without a size', { config: {} }, /studentSize is required for the built-in student family/],
    ['built-in with an unknown size', { studentSize: 'huge' }, /studentSize must be one of base, nano, small/],
    ['built-in with LoRA', { studentSize: 'nano', config: { student: { lora: { r: 8 } } } }, /LoRA adapters are for hf students/],
    ['built-in with an hf model', { studentSize: 'nano', config: { student: { model: 'org/name' } } }, /config\.student\.model is for hf students/],
    ['an unknown family (schema)', { studentSize: 'nano', config: { student: { family: 'onnx' } } }, /student\.family must be one of/],
    ['negative gpus (schema)', { studentSize: 'nano', config: { gpus: -1 } }, /gpus must be >= 0/],
    ['fractional gpus (schema)', { studentSize: 'nano', config: { gpus: 1.5 } }, /gpus must be integer/],
    ['an unknown student key (schema)', { studentSize: 'nano', config: { student: { famliy: 'hf' } } }, /unknown key student\.famliy/],
  ];
  for (const [what, input, message] of refused) {
    test(`refused with BAD_USER_INPUT, nothing written: ${what}`, async () => {
      const before = (await t.gql(COUNT)).data.experiments.totalCount;
      const r = await t.gql(CREATE, { i: { name: `bad-${what.replace(/[^a-z0-9]+/gi, '-')}`, datasetId, algorithm: 'SFT', ...input } });
      assert.equal(errorCode(r), 'BAD_USER_INPUT', JSON.stringify(r.errors));
      const text = `${r.errors![0].message} ${JSON.stringify(r.errors![0].extensions?.problems ?? [])}`;
      assert.match(text, message);
      assert.equal((await t.gql(COUNT)).data.experiments.totalCount, before, 'no experiment was written');
    });
  }

  test('several student problems come back together', async () => {
    const r = await t.gql(CREATE, { i: { name: 'bad-many', datasetId, algorithm: 'SFT', studentSize: 'base', config: { student: { family: 'hf', model: 'http://x/y', disc_backbone: 'lora' } } } });
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    const problems = r.errors![0].extensions!.problems as string[];
    assert.equal(problems.length, 3, JSON.stringify(problems));
  });

  async function worker(name: string, capabilities: Record<string, unknown>) {
    const key = await t.keyFor('WORKER');
    const w = await t.gql(`mutation($n: String!, $c: JSON) { registerWorker(input: { name: $n, capabilities: $c }) { id gpus } }`, { n: name, c: capabilities }, key);
    assert.equal(w.errors, undefined, JSON.stringify(w.errors));
    return { key, id: w.data.registerWorker.id as string, gpus: w.data.registerWorker.gpus as number };
  }
  const CLAIM = `mutation($w: ID!, $l: Int = 30) { claimJob(input: { workerId: $w, kinds: [TRAIN], leaseSeconds: $l }) { id attempts requirements { gpus } payload } }`;
  const JOB = `query($j: ID!) { job(id: $j) { status requirements { gpus } waitingFor } }`;

  test('a gpus:2 job goes to neither a 1-GPU nor a CPU worker, which take the CPU job behind it; a 2-GPU worker claims it, again after its lease expires', async () => {
    const exp = (await t.gql(CREATE, { i: { name: 'hf-2gpu', datasetId, algorithm: 'SFT', config: { student: HF, gpus: 2, max_steps: 5 } } })).data.createExperiment;
    const cpuExp = (await t.gql(CREATE, { i: { name: 'builtin-cpu', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { max_steps: 5 } } })).data.createExperiment;
    // the GPU job is first in line: higher priority and older than the CPU job
    const gpuRun = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, priority: 10 }) { id job { id } } }`, { e: exp.id })).data.startRun;
    const gpuJob = gpuRun.job.id as string;
    assert.deepEqual((await t.gql(JOB, { j: gpuJob })).data.job.requirements, { gpus: 2 });

    const cpu = await worker('cpu-box', { device: 'cpu', cpus: 2 });
    const one = await worker('one-gpu', { device: 'cuda', gpus: 1, gpuMemoryGb: [24], bf16: true });
    assert.deepEqual([cpu.gpus, one.gpus], [0, 1]);
    assert.match((await t.gql(JOB, { j: gpuJob })).data.job.waitingFor, /^waiting for a worker with 2 GPUs \(none seen in the last 10 minutes; the largest has 1\)$/);

    assert.equal((await t.gql(CLAIM, { w: cpu.id }, cpu.key)).data.claimJob, null, 'a CPU worker does not claim a 2-GPU job');
    assert.equal((await t.gql(CLAIM, { w: one.id }, one.key)).data.claimJob, null, 'nor does a 1-GPU worker');
    const cpuRun = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id job { id } } }`, { e: cpuExp.id })).data.startRun;
    const took = (await t.gql(CLAIM, { w: cpu.id }, cpu.key)).data.claimJob;
    assert.equal(took.id, cpuRun.job.id, 'the CPU worker takes the gpus:0 job behind the one it cannot run');
    assert.deepEqual(took.requirements, { gpus: 0 });
    assert.equal((await t.gql(JOB, { j: gpuJob })).data.job.status, 'QUEUED');

    const two = await worker('two-gpu', { device: 'cuda', gpus: 2, gpuMemoryGb: [80, 80], bf16: true, transformers: '4.57.0' });
    assert.equal((await t.gql(JOB, { j: gpuJob })).data.job.waitingFor, null, 'a live worker with 2 GPUs exists now');
    const claimed = (await t.gql(CLAIM, { w: two.id, l: 1 }, two.key)).data.claimJob;
    assert.equal(claimed?.id, gpuJob, 'the 2-GPU worker claims it');
    assert.equal(claimed.payload.config.gpus, 2);
    assert.equal(claimed.payload.config.student.model, HF.model);
    assert.equal('model' in claimed.payload, false, 'no built-in size in an hf payload');

    // its lease expires: the job is back in the queue, and the rule still holds for it
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await t.gql(CLAIM, { w: one.id }, one.key)).data.claimJob, null, 'the expired job does not fall to a 1-GPU worker');
    const again = (await t.gql(CLAIM, { w: two.id }, two.key)).data.claimJob;
    assert.deepEqual([again?.id, again?.attempts], [gpuJob, 2], 'the 2-GPU worker claims it again, attempt counted');

    const workers = (await t.gql('{ workers { name gpus capabilities } }')).data.workers;
    assert.deepEqual(workers.find((w: any) => w.name === 'two-gpu').capabilities.gpuMemoryGb, [80, 80]);
    assert.equal(workers.find((w: any) => w.name === 'cpu-box').gpus, 0);
  });

  test('registerWorker refuses a gpus that is not a non-negative integer (the queue trusts it)', async () => {
    const key = await t.keyFor('WORKER');
    for (const gpus of [-1, 1.5, '2', true]) {
      const r = await t.gql(`mutation($c: JSON) { registerWorker(input: { name: "bad", capabilities: $c }) { id } }`, { c: { gpus } }, key);
      assert.equal(errorCode(r), 'BAD_USER_INPUT', `gpus ${JSON.stringify(gpus)}`);
      assert.match(r.errors![0].message, /capabilities\.gpus must be an integer/);
    }
  });

  test('an hf job goes only to a worker with transformers: a worker without it passes it by', async () => {
    const exp = (await t.gql(CREATE, { i: { name: 'hf-cpu', datasetId, algorithm: 'SFT', config: { student: HF, max_steps: 5 } } })).data.createExperiment;
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, priority: 20 }) { id job { id } } }`, { e: exp.id })).data.startRun;
    const JOB_TF = `query($j: ID!) { job(id: $j) { status requirements { gpus transformers } waitingFor } }`;
    assert.deepEqual((await t.gql(JOB_TF, { j: run.job.id })).data.job.requirements, { gpus: 0, transformers: true });
    const plain = await worker('cpu-no-transformers', { device: 'cpu', cpus: 2 });
    const offered = (await t.gql(CLAIM, { w: plain.id }, plain.key)).data.claimJob;
    assert.notEqual(offered?.id, run.job.id, 'a worker without transformers does not claim an hf job');
    const hf = await worker('cpu-with-transformers', { device: 'cpu', cpus: 2, transformers: '5.24.0' });
    const workers = (await t.gql('{ workers { name transformers } }')).data.workers;
    assert.equal(workers.find((w: any) => w.name === 'cpu-with-transformers').transformers, '5.24.0');
    assert.equal(workers.find((w: any) => w.name === 'cpu-no-transformers').transformers, null);
    const claimed = (await t.gql(CLAIM, { w: hf.id }, hf.key)).data.claimJob;
    assert.equal(claimed?.id, run.job.id, 'a worker with transformers claims it');
    for (const transformers of [5, '', 'x'.repeat(65), '5.0; rm -rf /']) {
      const r = await t.gql(`mutation($c: JSON) { registerWorker(input: { name: "bad-tf", capabilities: $c }) { id } }`, { c: { transformers } }, await t.keyFor('WORKER'));
      assert.equal(errorCode(r), 'BAD_USER_INPUT', `transformers ${JSON.stringify(transformers)}`);
    }
  });

  test('an hf run scores a suite during training, and its EVALUATE jobs (its checkpoint, a suite over it) go only to a worker with transformers', async () => {
    const suite = await t.gql(`mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { latest { version } } }`, { i: { name: 'hf-bench', datasets: [{ dataset: 'hf', split: 'train' }] } });
    assert.equal(suite.errors, undefined, JSON.stringify(suite.errors));
    const created = await t.gql(CREATE, { i: { name: 'hf-suite', datasetId, algorithm: 'SFT', config: { student: HF, max_steps: 5, eval_suite: 'hf-bench', eval_suite_every: 2 } } });
    assert.equal(created.errors, undefined, 'an hf student may name a suite now: ' + JSON.stringify(created.errors));
    assert.equal(created.data.createExperiment.config.eval_suite, 'hf-bench@1', 'pinned to the newest version');
    const builtin = (await t.gql(CREATE, { i: { name: 'builtin-eval', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { max_steps: 5 } } })).data.createExperiment;
    const START = `mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`;
    const hfRun = (await t.gql(START, { e: created.data.createExperiment.id })).data.startRun.id as string;
    const builtinRun = (await t.gql(START, { e: builtin.id })).data.startRun.id as string;

    const EVAL = `mutation($i: QueueEvaluationInput!) { queueEvaluation(input: $i) { id payload requirements { gpus transformers } } }`;
    const hfEval = (await t.gql(EVAL, { i: { runId: hfRun, datasetId } })).data.queueEvaluation;
    assert.deepEqual([hfEval.payload.studentFamily, hfEval.requirements], ['hf', { gpus: 0, transformers: true }]);
    const builtinEval = (await t.gql(EVAL, { i: { runId: builtinRun, datasetId } })).data.queueEvaluation;
    assert.deepEqual([builtinEval.payload.studentFamily, builtinEval.requirements], ['builtin', { gpus: 0, transformers: false }]);
    const SUITE = `mutation($i: QueueSuiteEvaluationInput!) { queueSuiteEvaluation(input: $i) { id payload requirements { gpus transformers } } }`;
    const hfSuite = (await t.gql(SUITE, { i: { suite: 'hf-bench', subject: { kind: 'RUN', runId: hfRun } } })).data.queueSuiteEvaluation;
    assert.deepEqual([hfSuite.payload.studentFamily, hfSuite.payload.subject.runId, hfSuite.requirements], ['hf', hfRun, { gpus: 0, transformers: true }]);
    const builtinSuite = (await t.gql(SUITE, { i: { suite: 'hf-bench', subject: { kind: 'RUN', runId: builtinRun } } })).data.queueSuiteEvaluation;
    assert.equal(builtinSuite.requirements.transformers, false);

    const CLAIM_EVAL = `mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [EVALUATE], leaseSeconds: 30 }) { id } }`;
    const plain = await worker('eval-no-transformers', { device: 'cpu', cpus: 2 });
    const plainGot = [];
    for (let job; (job = (await t.gql(CLAIM_EVAL, { w: plain.id }, plain.key)).data.claimJob);) plainGot.push(job.id);
    assert.deepEqual(plainGot.sort(), [builtinEval.id, builtinSuite.id].sort(), 'a worker without transformers takes the built-in run\'s jobs and passes the hf run\'s by');
    const hf = await worker('eval-with-transformers', { device: 'cpu', cpus: 2, transformers: '5.24.0' });
    const hfGot = [];
    for (let job; (job = (await t.gql(CLAIM_EVAL, { w: hf.id }, hf.key)).data.claimJob);) hfGot.push(job.id);
    assert.deepEqual(hfGot.sort(), [hfEval.id, hfSuite.id].sort(), 'a worker with transformers claims them');
  });
});

describe('an hf job with no worker that has transformers', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer(); });
  after(async () => { await t?.close(); });

  test('waitingFor names transformers and how to get a worker with it', async () => {
    const { file } = await writeDataset(4);
    const datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "tf", path: $p }) { id } }`, { p: file })).data.importDataset.id;
    const e = (await t.gql(CREATE, { i: { name: 'hf-waits', datasetId, algorithm: 'SFT', config: { student: HF, max_steps: 5 } } })).data.createExperiment;
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id job { id } } }`, { e: e.id })).data.startRun;
    const key = await t.keyFor('WORKER');
    await t.gql(`mutation($c: JSON) { registerWorker(input: { name: "cpu-only", capabilities: $c }) { id } }`, { c: { device: 'cpu' } }, key);
    const job = (await t.gql(`query($j: ID!) { job(id: $j) { status waitingFor } }`, { j: run.job.id })).data.job;
    assert.equal(job.status, 'QUEUED');
    assert.match(job.waitingFor, /^waiting for a worker with Hugging Face transformers \(an hf student; none seen in the last 10 minutes/);
  });
});

describe('the CLI shows the student, the workers\' GPUs and what a job waits for', () => {
  let t: TestServer;
  let datasetId: string;
  let env: Record<string, string | undefined>;
  const cli = (args: string[]) => runCli(args, env);
  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' });
    env = { RIL_API_URL: t.url, RIL_API_KEY: t.adminKey, RIL_CLI_FROM_SOURCE: '1', RIL_CLI_DIST: undefined };
    const { file } = await writeDataset(4);
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "cli-hf", path: $p }) { id } }`, { p: file })).data.importDataset.id;
  });
  after(async () => { await t.close(); });

  test('experiments create --hf/--lora-r/--gpus, list, show; workers; jobs says what a queued job waits for', { timeout: 120_000 }, async () => {
    const created = await cli(['experiments', 'create', '--dataset', datasetId, '--name', 'cli-hf', '--algorithm', 'SFT',
      '--hf', 'HuggingFaceTB/SmolVLM-256M-Instruct', '--lora-r', '8', '--gpus', '2', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const e = JSON.parse(created.stdout);
    assert.deepEqual([e.studentSize, e.student.family, e.student.model, e.student.loraRank, e.gpus], [null, 'HF', 'HuggingFaceTB/SmolVLM-256M-Instruct', 8, 2]);
    assert.equal((await cli(['experiments', 'create', '--dataset', datasetId, '--name', 'cli-nano', '--algorithm', 'SFT'])).code, 0, 'a built-in student is still nano by default');

    const refused = await cli(['experiments', 'create', '--dataset', datasetId, '--name', 'cli-bad', '--algorithm', 'SFT', '--hf', 'org/name', '--size', 'small']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^error \[BAD_USER_INPUT\]: studentSize names a built-in size; an hf student is config\.student\.model: leave studentSize out/);

    const list = await cli(['experiments', 'list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cli-hf[ │|]+SFT[ │|]+hf HuggingFaceTB\/SmolVLM-256M-Instruct LoRA r8[ │|]+2[ │|]/);
    assert.match(list.stdout, /cli-nano[ │|]+SFT[ │|]+builtin nano[ │|]+0[ │|]/);
    const show = await cli(['experiments', 'show', e.id]);
    assert.match(show.stdout, /^student: hf HuggingFaceTB\/SmolVLM-256M-Instruct LoRA r8; runs need 2 GPUs$/m);

    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id job { id } } }`, { e: e.id })).data.startRun;
    const key = await t.keyFor('WORKER');
    await t.gql(`mutation($c: JSON) { registerWorker(input: { name: "box-1gpu", capabilities: $c }) { id } }`,
      { c: { device: 'cuda', gpus: 1, gpuMemoryGb: [24], bf16: false, torch: '2.5.1', memoryGb: 64 } }, key);
    const workers = await cli(['workers']);
    assert.equal(workers.code, 0, workers.stderr);
    assert.match(workers.stdout, /box-1gpu[ │|]+1[ │|]+1x 24 GB GPU, no bf16, torch 2\.5\.1, 64 GB RAM/);
    const jobs = await cli(['jobs', '--status', 'queued']);
    assert.equal(jobs.code, 0, jobs.stderr);
    assert.match(jobs.stdout, new RegExp(`${run.job.id}[ │|]+TRAIN[ │|]+QUEUED[ │|]+2 GPUs \\+ transformers[ │|]`));
    assert.match(jobs.stdout, /waiting for a worker with 2 GPUs/);
    const asJson = JSON.parse((await cli(['jobs', '--json'])).stdout);
    assert.deepEqual(asJson.map((j: any) => [j.id, j.requirements.gpus]), [[run.job.id, 2]]);
    assert.equal((await cli(['jobs', '--status', 'nope'])).code, 1);
  });
});


describe('the dashboard shows the student and what a queued run waits for (headless Chromium)', { skip: chromiumMissing }, () => {
  let t: TestServer;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  let hfRun: string;
  let nanoRun: string;
  before(async () => {
    // this branch's dashboard, built here (public/ may hold another build)
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-web-hf-')), 'public');
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-web.mjs'), '--out', out], { stdio: 'pipe' });
    t = await startTestServer({ RIL_PUBLIC_DIR: out });
    const { file } = await writeDataset(4);
    const datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "web-hf", path: $p }) { id } }`, { p: file })).data.importDataset.id;
    const hf = (await t.gql(CREATE, { i: { name: 'web-hf', datasetId, algorithm: 'SFT', config: { student: HF, gpus: 2 } } })).data.createExperiment;
    const nano = (await t.gql(CREATE, { i: { name: 'web-nano', datasetId, studentSize: 'nano', algorithm: 'SFT' } })).data.createExperiment;
    const start = async (e: string) => (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e })).data.startRun.id as string;
    [hfRun, nanoRun] = [await start(hf.id), await start(nano.id)];
    ({ browser, page } = await openDashboard(t.url, t.adminKey));
  });
  after(async () => { await browser?.close(); await t?.close(); });

  test('experiments page: family, model, LoRA rank and GPUs per experiment', { timeout: 60_000 }, async () => {
    await page.goto(`${t.url}/#/experiments`);
    await page.waitForSelector('tr[data-experiment="web-hf"]');
    assert.equal((await page.textContent('tr[data-experiment="web-hf"] td[data-student="HF"]'))?.trim(), `hf ${HF.model} LoRA r16 bf16 disc lora`);
    assert.equal((await page.textContent('tr[data-experiment="web-nano"] td[data-student="BUILTIN"]'))?.trim(), 'builtin nano');
    assert.equal(await page.textContent('tr[data-experiment="web-hf"] td[data-gpus]'), '2');
    assert.equal(await page.textContent('tr[data-experiment="web-nano"] td[data-gpus]'), '—', '0: any worker');
  });

  test('run page: the student, and a queued run says it waits for a worker with 2 GPUs', { timeout: 60_000 }, async () => {
    await page.goto(`${t.url}/#/runs/${hfRun}`);
    await page.waitForSelector('#run-waiting');
    assert.equal(await page.textContent('#run-student'), `SFT · student hf ${HF.model} LoRA r16 bf16 disc lora · needs 2 GPUs`);
    assert.match(await page.textContent('#run-waiting') ?? '', /^waiting for a worker with 2 GPUs \(none seen in the last 10 minutes\)$/);
    await page.goto(`${t.url}/#/runs/${nanoRun}`);
    await page.waitForSelector('#run-status');
    assert.equal(await page.locator('#run-waiting').count(), 0, 'a CPU run waits for nothing in particular');
  });

  test('compare: a student row beside the algorithm', { timeout: 60_000 }, async () => {
    await page.goto(`${t.url}/#/compare?runs=${hfRun},${nanoRun}`);
    await page.waitForSelector('#finals tr[data-setting="student"]');
    const cells = await page.$$eval('#finals tr[data-setting="student"] td', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(cells, ['student', `hf ${HF.model} LoRA r16 bf16 disc lora`, 'builtin nano']);
  });
});

const trainer = findTrainerPython();

describe('the Python worker registers what it has, and a CPU worker leaves a GPU job queued', { skip: trainer.python ? false : trainer.reason }, () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' }); });
  after(async () => { await t.close(); });

  test('python3 -m ril_trainer worker --once on this CPU machine: gpus 0, host memory; the gpus:1 job stays QUEUED', { timeout: 120_000 }, async () => {
    const { file } = await writeDataset(4);
    const datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "py", path: $p }) { id } }`, { p: file })).data.importDataset.id;
    const e = (await t.gql(CREATE, { i: { name: 'py-1gpu', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { gpus: 1 } } })).data.createExperiment;
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id job { id } } }`, { e: e.id })).data.startRun;
    const child = spawnPythonWorker(trainer.python!, t.url, await t.keyFor('WORKER'), ['--once', '--name', 'py-cpu', '--cache', fs.mkdtempSync(path.join(os.tmpdir(), 'ril-wcache-'))], ['ignore', 'ignore', 'pipe']);
    let log = '';
    child.stderr!.on('data', (d) => { log += d; });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, log);
    assert.match(log, /registered py-cpu as \S+ \(cpu, 0 GPUs\)/);
    const w = (await t.gql('{ workers { name gpus capabilities } }')).data.workers.find((x: any) => x.name === 'py-cpu');
    assert.equal(w.gpus, 0);
    assert.equal(w.capabilities.device, 'cpu');
    assert.ok(w.capabilities.memoryGb > 0 && typeof w.capabilities.torch === 'string', JSON.stringify(w.capabilities));
    const job = (await t.gql(`query($j: ID!) { job(id: $j) { status attempts requirements { gpus } waitingFor } }`, { j: run.job.id })).data.job;
    assert.deepEqual([job.status, job.attempts, job.requirements.gpus], ['QUEUED', 0, 1], 'never claimed');
    assert.match(job.waitingFor, /^waiting for a worker with 1 GPU \(none seen/);
  });
});
