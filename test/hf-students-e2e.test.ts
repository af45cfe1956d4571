// Needs: RIL_HF_PYTHON (the torch 2.x environment, scripts/ensure-hf.sh; scripts/test.sh runs this file once it is built)
// A Hugging Face student through the whole platform: an experiment with config.student {family: "hf", model: <a
// local directory>, lora}, a queued RIL run, the Python worker (running in the torch 2.x environment) claims it,
// trains a tiny random SmolVLM-family model, streams its metrics and uploads its checkpoints, then exports the
// student's ONNX bundle (format 3, docs/hf-bundles.md, LoRA merged) and registers it as a BUNDLE artifact, which is
// then deployed and answers a question through /v1/infer. A second worker, on the CPU, never takes a job that asks
// for a GPU.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnPythonWorker, TRAINER_DIR } from '../api/_lib/jobs/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { buildFashionMnistVqa } from '../clients/cli/src/data/fashionMnist/index.js';

const hfPython = process.env.RIL_HF_PYTHON;
const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const skip = !hfPython ? 'RIL_HF_PYTHON is not set (the torch 2.x environment: RIL_HF_PYTHON="$(bash scripts/ensure-hf.sh)")'
  : !fs.existsSync(FASHION) ? 'dataset-fashion-mnist not installed' : false;

let t: TestServer;
let datasetId: string;
let workerKey: string;
let modelDir: string;
let dataDir: string;

/** Runs one worker until it has no job left (--once) and returns its exit code and log. */
async function runWorkerOnce(): Promise<{ code: number | null; log: string }> {
  let log = '';
  const child = spawnPythonWorker(hfPython!, t.url, workerKey, ['--once', '--threads', '1', '--cache', fs.mkdtempSync(path.join(os.tmpdir(), 'ril-hf-wcache-'))], ['ignore', 'pipe', 'pipe']);
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, log };
}

describe('a Hugging Face student end to end through the platform', { skip }, () => {
  before(async () => {
    // a tiny random SmolVLM (Idefics3 family) with its processor, saved as a local model directory (nothing downloaded);
    // made before the server starts: the synchronous spawn would leave a pooled connection idle past its keep-alive
    modelDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-hf-model-'));
    const made = spawnSync(hfPython!, ['-c', 'import sys; sys.path.insert(0, "tests"); import hf_tiny; hf_tiny.smolvlm(sys.argv[1])', modelDir], { cwd: TRAINER_DIR, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' });
    const dir = dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-hf-e2e-')), 'fm');
    await buildFashionMnistVqa({ out: dir, limit: 40, seed: 5, samplesPerTeacher: 1 });
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "hf-e2e", path: $p }) { id } }`, { p: path.join(dir, 'examples.jsonl') })).data.importDataset.id;
    for (const f of fs.readdirSync(path.join(dir, 'teachers'))) {
      const r = await t.gql(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`, { d: datasetId, j: fs.readFileSync(path.join(dir, 'teachers', f), 'utf8') });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    }
    workerKey = await t.keyFor('WORKER');
  });
  after(async () => { await t?.close(); });

  test('an hf RIL experiment is claimed by the worker, trained, exported, and ends with checkpoints', async () => {
    const create = await t.gql(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id studentSize gpus student { family model loraRank } } }`, {
      i: {
        name: 'hf-ril', datasetId, algorithm: 'RIL', teachers: ['teacher-verbose'],
        config: {
          student: { family: 'hf', model: modelDir, lora: { r: 4 } },
          sft_steps: 1, max_steps: 3, questions_per_step: 2, group_size: 2, max_response_tokens: 6, batch_size: 4,
          disc_pretrain_questions: 2, disc_pretrain_samples: 2, disc_pretrain_max_epochs: 1, warmup_steps: 0,
          eval_every: 0, val_loss_examples: 2, val_accuracy_examples: 2, checkpoint_every: 1, log_every: 1, num_threads: 1,
        },
      },
    });
    assert.equal(create.errors, undefined, JSON.stringify(create.errors));
    const exp = create.data.createExperiment;
    assert.deepEqual({ size: exp.studentSize, gpus: exp.gpus, student: exp.student }, { size: null, gpus: 0, student: { family: 'HF', model: modelDir, loraRank: 4 } });
    const started = await t.gql(`mutation($i: StartRunInput!) { startRun(input: $i) { id } }`, { i: { experimentId: exp.id } });
    assert.equal(started.errors, undefined, JSON.stringify(started.errors));
    const runId = started.data.startRun.id as string;

    const worker = await runWorkerOnce();
    assert.equal(worker.code, 0, worker.log.slice(-3000));
    const run = (await t.gql(`query($r: ID!) { run(id: $r) { status step error job { status result } artifacts { id kind metadata }
      metrics(names: ["policy/loss", "reward/total", "disc/acc"]) { name points { step value } } } }`, { r: runId })).data.run;
    assert.equal(run.status, 'SUCCEEDED', `${run.error}\n${worker.log.slice(-3000)}`);
    assert.equal(run.step, 3);
    // the RL steps (2 and 3: step 1 is the SFT warm start) each stored their loss, reward and discriminator accuracy
    for (const series of run.metrics) {
      assert.deepEqual(series.points.map((p: { step: number }) => p.step), [2, 3], series.name);
      assert.ok(series.points.every((p: { value: number }) => Number.isFinite(p.value)), series.name);
    }
    assert.equal(run.metrics.length, 3);
    const kinds = run.artifacts.map((a: { kind: string }) => a.kind);
    assert.ok(kinds.includes('CHECKPOINT'), `checkpoints uploaded: ${kinds}`);
    const result = typeof run.job.result === 'string' ? JSON.parse(run.job.result) : run.job.result;
    // the worker exported the trained student (format 3) and registered it: it deploys and answers like any bundle
    const bundle = run.artifacts.find((a: { kind: string }) => a.kind === 'BUNDLE');
    assert.ok(bundle, `a BUNDLE artifact: ${kinds}`);
    assert.equal(result.bundleArtifactId, bundle.id);
    const d = await t.gql('mutation($i: DeployInput!) { deploy(input: $i) { status liveRevision { revision } } }', { i: { name: 'hf-student', artifactId: bundle.id } });
    assert.equal(d.errors, undefined, JSON.stringify(d.errors));
    const example = JSON.parse(fs.readFileSync(path.join(dataDir, 'examples.jsonl'), 'utf8').split('\n')[0]) as { image: string; question: string };
    const png = fs.readFileSync(path.join(dataDir, example.image)).toString('base64');
    const r = await fetch(`${t.url}/v1/infer`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` },
      body: JSON.stringify({ deployment: 'hf-student', image: png, question: example.question, max_tokens: 4 }),
    });
    const answer = await r.json() as { tokens: number; finish_reason: string };
    assert.equal(r.status, 200, JSON.stringify(answer));
    assert.ok(answer.tokens >= 1 && answer.tokens <= 4, JSON.stringify(answer));
  });
});
