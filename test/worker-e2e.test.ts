// The Python worker function against the real API over real HTTP: a queued nano run is claimed, trained,
// its metric series and its ONNX bundle artifact arrive; and the fault test: kill -9 the worker mid-run, its
// lease expires, a second worker resumes from the newest checkpoint and the series has every step once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPythonWorker } from '../api/_lib/jobs/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { trainerPython } from './helpers/python.js';
import { buildFashionMnistVqa } from '../clients/cli/src/data/fashionMnist/index.js';

const python = trainerPython();
const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const skip = !python ? 'no python3 with torch (scripts/python.sh)' : !fs.existsSync(FASHION) ? 'dataset-fashion-mnist not installed' : false;

let t: TestServer;
let datasetId: string;
let workerKey: string;

function startWorker(args: string[] = []): { child: ChildProcess; log: () => string; exited: Promise<number | null> } {
  let log = '';
  const child = spawnPythonWorker(python!, t.url, workerKey, ['--cache', fs.mkdtempSync(path.join(os.tmpdir(), 'ril-wcache-')), '--threads', '1', ...args], ['ignore', 'pipe', 'pipe']);
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, log: () => log, exited };
}

async function experiment(name: string, config: Record<string, unknown>, algorithm = 'SFT', teachers: string[] = []) {
  const r = await t.gql(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }`, {
    i: { name, datasetId, studentSize: 'nano', algorithm, teachers, config: { batch_size: 16, lr: 0.003, warmup_steps: 2, val_loss_examples: 32, val_accuracy_examples: 16, max_response_tokens: 24, ...config } },
  });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data.createExperiment.id as string;
}

const RUN_Q = `query($r: ID!) { run(id: $r) { status step error job { attempts status } artifacts { kind name metadata } metrics(names: ["train/loss"]) { points { step value } } } }`;

async function waitRun(runId: string, until: (run: any) => boolean, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = (await t.gql(RUN_Q, { r: runId })).data.run;
    if (until(run)) return run;
    if (Date.now() > deadline) throw new Error(`timed out waiting; run is ${JSON.stringify(run).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('python worker end to end', { skip }, () => {
  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' });
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-e2e-')), 'fm');
    await buildFashionMnistVqa({ out: dir, limit: 160, seed: 3, samplesPerTeacher: 1 });
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "e2e", path: $p }) { id } }`, { p: path.join(dir, 'examples.jsonl') })).data.importDataset.id;
    for (const f of fs.readdirSync(path.join(dir, 'teachers'))) {
      await t.gql(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`, { d: datasetId, j: fs.readFileSync(path.join(dir, 'teachers', f), 'utf8') });
    }
    workerKey = await t.keyFor('WORKER');
  });
  after(async () => { await t?.close(); });

  test('a queued nano RIL run is trained by the worker: the metric series and the bundle artifact arrive', { timeout: 300_000 }, async () => {
    const exp = await experiment('e2e-ril', {
      sft_steps: 8, max_steps: 11, log_every: 4, checkpoint_every: 4, eval_every: 0, questions_per_step: 2,
      disc_pretrain_questions: 2, disc_pretrain_samples: 2, disc_batch_size: 8, lr: 0.0001, sft_lr: 0.003,
    }, 'RIL', ['teacher-concise', 'teacher-verbose']);
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 1 }) { id } }`, { e: exp })).data.startRun;
    const w = startWorker(['--once']);
    assert.equal(await w.exited, 0, w.log());
    const done = (await t.gql(RUN_Q, { r: run.id })).data.run;
    assert.equal(done.status, 'SUCCEEDED', done.error ?? w.log());
    assert.equal(done.step, 11);
    assert.ok(done.artifacts.some((a: any) => a.kind === 'BUNDLE'), 'the ONNX bundle was uploaded');
    assert.ok(done.artifacts.some((a: any) => a.kind === 'CHECKPOINT'));
    const series = (await t.gql(`query($r: ID!) { run(id: $r) { metrics(names: ["reward/sim_student", "reward/answer_teacher", "disc/acc", "policy/kl"]) { name points { step } } } }`, { r: run.id })).data.run.metrics;
    const byName = Object.fromEntries(series.map((s: any) => [s.name, s.points.map((p: any) => p.step)]));
    for (const name of ['reward/sim_student', 'reward/answer_teacher', 'disc/acc', 'policy/kl']) {
      assert.deepEqual(byName[name], [9, 10, 11], `${name}: one point per RL step`);
    }

    // EVALUATE jobs: the run's final checkpoint (PyTorch) and its bundle (ONNX, as deployed) score the same,
    // since the bundle is exported from that checkpoint and greedy decoding is token-identical
    const bundle = (await t.gql(`query($r: ID!) { artifacts(runId: $r, kind: BUNDLE) { id } }`, { r: run.id })).data.artifacts[0];
    const queue = `mutation($i: QueueEvaluationInput!) { queueEvaluation(input: $i) { id kind } }`;
    const byRun = (await t.gql(queue, { i: { runId: run.id, datasetId, split: 'test' } })).data.queueEvaluation;
    const byBundle = (await t.gql(queue, { i: { artifactId: bundle.id, datasetId, split: 'test' } })).data.queueEvaluation;
    const evaluator = startWorker(['--exit-when-idle']);
    assert.equal(await evaluator.exited, 0, evaluator.log());
    const jobQ = `query($j: ID!) { job(id: $j) { status error result } }`;
    const a = (await t.gql(jobQ, { j: byRun.id })).data.job;
    const b = (await t.gql(jobQ, { j: byBundle.id })).data.job;
    assert.equal(a.status, 'SUCCEEDED', a.error);
    assert.equal(b.status, 'SUCCEEDED', b.error);
    assert.ok(a.result.n > 0 && a.result.n === b.result.n);
    assert.equal(b.result.accuracy, a.result.accuracy, 'ONNX bundle and PyTorch checkpoint agree');
  });

  test('kill -9 mid-run: the lease expires and a second worker resumes from the checkpoint; every step once', { timeout: 300_000 }, async () => {
    // max_steps far beyond the first checkpoints: the kill lands mid-run however fast the machine (steps take ~13 ms,
    // the test polls every 250 ms), never after the final checkpoint or the run's end.
    const MAX_STEPS = 400;
    const exp = await experiment('e2e-fault', { max_steps: MAX_STEPS, log_every: 2, checkpoint_every: 8, eval_every: 0 });
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 2 }) { id } }`, { e: exp })).data.startRun;
    const first = startWorker(['--lease-seconds', '3']);
    await waitRun(run.id, (r) => r.artifacts.some((a: any) => a.kind === 'CHECKPOINT' && a.metadata.step >= 16), 180_000);
    first.child.kill('SIGKILL');
    await first.exited;
    const stalled = (await t.gql(RUN_Q, { r: run.id })).data.run;
    assert.equal(stalled.status, 'RUNNING', 'still leased to the dead worker');
    await new Promise((r) => setTimeout(r, 3500)); // the lease runs out
    const second = startWorker(['--once']);
    assert.equal(await second.exited, 0, second.log());
    const resumedAt = Number(/resuming run .* from checkpoint at step (\d+)/.exec(second.log())?.[1]);
    assert.ok(resumedAt >= 16 && resumedAt < MAX_STEPS && resumedAt % 8 === 0, `resumed from a mid-run checkpoint (step ${resumedAt})`);
    const done = (await t.gql(RUN_Q, { r: run.id })).data.run;
    assert.equal(done.status, 'SUCCEEDED', done.error);
    assert.equal(done.job.attempts, 2, 'the expired lease counted as an attempt');
    const steps = done.metrics[0].points.map((p: any) => p.step);
    assert.deepEqual(steps, Array.from({ length: MAX_STEPS / 2 }, (_, i) => 2 * (i + 1)), 'every logged step exactly once');
  });
});
