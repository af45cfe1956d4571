// Database: once (a headless browser and the CLI over two trained runs: slow; the resolvers they call are covered on both databases by the API's own tests)
// The clients against the real platform over real HTTP: the SDK (typed results, typed errors, retries), the `ril`
// CLI's remote commands (experiments create/start/list/show/watch/compare, deploy register/create/rollback/list,
// infer) and the dashboard in headless Chromium (built from these sources into a temporary folder). Two real runs are
// trained by the Python worker (as in worker-e2e.test.ts); their bundles are deployed and asked questions. The
// evaluation table view is seeded with results a worker records (test/helpers/evals.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnPythonWorker } from '../api/_lib/jobs/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { REPO, trainerPython } from './helpers/python.js';
import { chromiumMissing, openDashboard } from './helpers/browser.js';

/** Where the dashboard screenshots go: a temporary folder, or docs/ when refreshing the README's pictures
 * (RIL_SCREENSHOT_DIR=docs): a test run must not rewrite tracked files. */
const screenshot = (name: string) => path.join(process.env.RIL_SCREENSHOT_DIR ? path.resolve(REPO, process.env.RIL_SCREENSHOT_DIR) : fs.mkdtempSync(path.join(os.tmpdir(), 'ril-shots-')), name);
import { recordSuiteScores, registerEvalWorker } from './helpers/evals.js';
import { buildFashionMnistVqa } from '../clients/cli/src/data/fashionMnist/index.js';
import {
  ArtifactsDocument, CancelRunDocument, CreateEvalSuiteDocument, CreateExperimentDocument, DeploymentDocument, MeDocument, RilClient, RilError,
  RunProgressDocument, StartRunDocument,
} from '../clients/sdk/src/index.js';

const python = trainerPython();
const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';
const skip = !python ? 'no python3 with torch (scripts/python.sh)' : !fs.existsSync(FASHION) ? 'dataset-fashion-mnist not installed' : false;
const skipBrowser = skip || chromiumMissing;

let t: TestServer;
let sdk: RilClient;
let dataDir: string;
let datasetId: string;
let workerKey: string;
const runs: string[] = [];
const experiments: string[] = [];

interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs the `ril` bin as a child process (async: this process serves the API it talks to). */
function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO, 'clients', 'cli', 'bin', 'ril.js'), ...args], {
      env: { ...process.env, RIL_API_URL: t.url, RIL_API_KEY: t.adminKey, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const json = (r: CliResult) => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

function startWorker(): { child: ChildProcess; log: () => string } {
  let log = '';
  const child = spawnPythonWorker(python!, t.url, workerKey, ['--cache', fs.mkdtempSync(path.join(os.tmpdir(), 'ril-wcache-')), '--threads', '1', '--kinds', 'TRAIN'], ['ignore', 'pipe', 'pipe']);
  child.stdout!.on('data', (d) => { log += d; });
  child.stderr!.on('data', (d) => { log += d; });
  return { child, log: () => log };
}

async function waitDone(runId: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { run } = await sdk.request(RunProgressDocument, { id: runId, names: [] });
    if (run && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(run.status)) return run;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish: ${JSON.stringify(run)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

const firstImage = () => {
  const line = JSON.parse(fs.readFileSync(path.join(dataDir, 'examples.jsonl'), 'utf8').split('\n')[0]);
  return { file: path.join(dataDir, line.image), question: line.question as string };
};

/** The dashboard of these sources, bundled into a temporary folder (public/ may hold an older build, or another checkout's). */
function buildDashboard(): string {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-clients-web-')), 'public');
  execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-web.mjs'), '--out', out], { stdio: 'pipe' });
  return out;
}

describe('clients: SDK, CLI and dashboard against a server with two trained runs', { skip }, () => {
  let worker: ReturnType<typeof startWorker> | undefined;

  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0', ...(skipBrowser ? {} : { RIL_PUBLIC_DIR: buildDashboard() }) });
    sdk = new RilClient({ url: t.url, apiKey: t.adminKey });
    dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-clients-')), 'fm');
    await buildFashionMnistVqa({ out: dataDir, limit: 160, seed: 5, samplesPerTeacher: 1 });
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "clients", path: $p }) { id } }`, { p: path.join(dataDir, 'examples.jsonl') })).data.importDataset.id;
    for (const f of fs.readdirSync(path.join(dataDir, 'teachers'))) {
      await t.gql(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`, { d: datasetId, j: fs.readFileSync(path.join(dataDir, 'teachers', f), 'utf8') });
    }
    workerKey = await t.keyFor('WORKER');
  });
  after(async () => {
    worker?.child.kill('SIGKILL');
    await t?.close();
  });

  test('SDK: typed results and typed errors (extensions.code)', async () => {
    const { me } = await sdk.request(MeDocument, {});
    assert.equal(me.role, 'ADMIN');
    const anon = new RilClient({ url: t.url, apiKey: 'ril_wrong' });
    await assert.rejects(anon.request(MeDocument, {}), (e: RilError) => e instanceof RilError && e.code === 'UNAUTHENTICATED');
    const viewer = new RilClient({ url: t.url, apiKey: await t.keyFor('VIEWER') });
    await assert.rejects(viewer.request(CreateExperimentDocument, { input: { name: 'x', datasetId, studentSize: 'nano', algorithm: 'SFT' } }),
      (e: RilError) => e.code === 'FORBIDDEN');
    await assert.rejects(sdk.request(CreateExperimentDocument, { input: { name: 'x', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { lr: 'fast' } } }),
      (e: RilError) => e.code === 'BAD_USER_INPUT' && e.errors.length >= 1);
  });

  test('SDK: a query is retried after a network error, a mutation is not; an unreachable server is NETWORK_ERROR', async () => {
    // A proxy whose first connection of each pair is cut before any answer.
    let connections = 0;
    const proxy = http.createServer((req, res) => {
      connections++;
      if (connections % 2 === 1) return void req.socket.destroy();
      const up = http.request(`${t.url}${req.url}`, { method: req.method, headers: req.headers }, (r) => { res.writeHead(r.statusCode!, r.headers); r.pipe(res); });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    try {
      const flaky = new RilClient({ url, apiKey: t.adminKey, retryDelayMs: 5 });
      assert.equal((await flaky.request(MeDocument, {})).me.role, 'ADMIN');
      assert.equal(connections, 2, 'one retry');
      await assert.rejects(flaky.request(CreateExperimentDocument, { input: { name: 'once', datasetId, studentSize: 'nano', algorithm: 'SFT' } }),
        (e: RilError) => e.code === 'NETWORK_ERROR');
      assert.equal(connections, 3, 'a mutation whose connection was cut is not sent again');
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = new RilClient({ url: `http://127.0.0.1:${port}`, apiKey: 'k', retries: 2, retryDelayMs: 5 });
    await assert.rejects(down.request(MeDocument, {}), (e: RilError) => e.code === 'NETWORK_ERROR' && /cannot reach/.test(e.message));
  });

  test('CLI: --help, usage errors and failures exit as documented', async () => {
    const help = await cli(['experiments', 'watch', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /progress bar with the step, the rewards and the ETA/);
    for (const domain of ['deploy', 'infer', 'datasets', 'teachers', 'keys']) assert.equal((await cli([domain, '--help'])).code, 0, domain);
    assert.equal((await cli(['experiments', 'create', '--dataset', datasetId])).code, 2, 'missing --name is a usage error');
    const missing = await cli(['experiments', 'show', 'no-such-id']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error \[NOT_FOUND\]/);
    const noKey = await cli(['experiments', 'list'], { RIL_API_KEY: '' });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /RIL_API_KEY/);
  });

  test('CLI: create and start two experiments, watch one live to the end, compare them', { timeout: 420_000 }, async () => {
    const config = { batch_size: 16, warmup_steps: 2, val_loss_examples: 16, val_accuracy_examples: 16, max_response_tokens: 24, max_steps: 30, log_every: 2, eval_every: 10, checkpoint_every: 30 };
    for (const [name, lr] of [['sft-lr3e-3', 0.003], ['sft-lr1e-3', 0.001]] as const) {
      const e = json(await cli(['experiments', 'create', '--dataset', datasetId, '--name', name, '--algorithm', 'SFT', '--size', 'nano', '--config', JSON.stringify({ ...config, lr }), '--json']));
      assert.equal(e.config.lr, lr);
      experiments.push(e.id);
      const r = json(await cli(['experiments', 'start', e.id, '--seed', String(runs.length + 1), '--json']));
      assert.equal(r.status, 'QUEUED');
      runs.push(r.id);
    }
    worker = startWorker();
    const watch = await cli(['experiments', 'watch', runs[0], '--interval', '250']);
    assert.equal(watch.code, 0, watch.stderr + worker.log());
    assert.match(watch.stdout, /SUCCEEDED at step 30\/30/);
    assert.match(watch.stderr, /step \d+\/30 \| .*loss [\d.]+.* \| ETA \S+ \| RUNNING/, 'live lines while it trains');
    assert.match(watch.stderr, /step 30\/30 .*val_acc [\d.]+.* \| ETA 0s \| SUCCEEDED/);
    const second = await waitDone(runs[1], 300_000);
    assert.equal(second.status, 'SUCCEEDED', worker.log());
    worker.child.kill('SIGTERM');

    const list = json(await cli(['experiments', 'list', '--json']));
    assert.deepEqual(list.map((x: any) => x.id).sort(), [...experiments].sort());
    const shown = json(await cli(['experiments', 'show', runs[0], '--json']));
    assert.ok(shown.metricNames.includes('train/loss') && shown.artifacts.some((a: any) => a.kind === 'BUNDLE'));
    assert.equal(json(await cli(['experiments', 'show', experiments[1], '--json'])).runs[0].id, runs[1]);

    const table = await cli(['experiments', 'compare', ...runs]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /eval\/val\/accuracy/);
    assert.match(table.stdout, /config\.lr[ │|]+0\.003[ │|]+0\.001/);
    assert.match(table.stdout, /seed[ │|]+1[ │|]+2/);
    const cmp = json(await cli(['experiments', 'compare', ...runs, '--json']));
    assert.deepEqual(cmp.differingConfig.map((d: any) => d.key).sort(), ['config.lr', 'seed']);
  });

  test('CLI: register a bundle, deploy, deploy again, roll back, list; infer streams the answer', { timeout: 180_000 }, async () => {
    assert.equal(runs.length, 2, 'needs the trained runs');
    const { artifacts } = await sdk.request(ArtifactsDocument, { kind: 'BUNDLE', runId: runs[0] });
    const bundleFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-cli-bundle-')), 'bundle.tar.gz');
    fs.writeFileSync(bundleFile, Buffer.from(await (await fetch(await sdk.blobUrl(artifacts[0].blobSha256))).arrayBuffer()));
    const registered = json(await cli(['deploy', 'register', bundleFile, '--name', 'cli-bundle', '--json']));
    assert.equal(registered.kind, 'BUNDLE');
    assert.equal(registered.blobSha256, artifacts[0].blobSha256);

    const first = json(await cli(['deploy', 'create', 'cli-student', '--artifact', artifacts[0].id, '--note', 'first', '--json']));
    assert.equal(first.liveRevision.revision, 1);
    const again = await cli(['deploy', 'create', 'cli-student', '--artifact', registered.id]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /live revision 2/);
    const back = json(await cli(['deploy', 'rollback', 'cli-student', '--json']));
    assert.equal(back.liveRevision.revision, 1);
    const listed = json(await cli(['deploy', 'list', '--json']));
    assert.equal(listed.find((d: any) => d.name === 'cli-student').revisions.length, 2);

    const { file, question } = firstImage();
    const streamed = await cli(['infer', '--deployment', 'cli-student', '--image', file, '--question', question]);
    assert.equal(streamed.code, 0, streamed.stderr);
    assert.match(streamed.stderr, /cli-student rev 1: \d+ tokens .*TTFT [\d.]+ ms/);
    const whole = json(await cli(['infer', '--deployment', 'cli-student', '--image', file, '--question', question, '--json']));
    assert.equal(streamed.stdout, whole.answer + '\n', 'the streamed text is the answer');
    assert.ok(whole.tokens >= 1);
    const bad = await cli(['infer', '--deployment', 'nope', '--image', file, '--question', question]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\[NOT_FOUND\]/);
  });

  describe('dashboard in headless Chromium', { skip: skipBrowser }, () => {
    let browser: import('playwright-core').Browser;
    let page: import('playwright-core').Page;
    before(async () => {
      ({ browser, page } = await openDashboard(t.url, t.adminKey));
    });
    after(async () => { await browser?.close(); });

    test('datasets: example images with questions, answers and teacher responses', async () => {
      await page.goto(`${t.url}/#/datasets`);
      await page.click('text=clients');
      await page.waitForSelector('.example img');
      const loaded = await page.$$eval('.example img', (imgs) => imgs.map((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth));
      await page.waitForFunction(() => Array.from(document.querySelectorAll('.example img')).slice(0, 4).every((i) => (i as HTMLImageElement).naturalWidth > 0));
      assert.ok(loaded.length >= 12);
      assert.ok(await page.locator('.example .teacher').count() >= 12, 'teacher responses beside the examples');
    });

    test('experiments and a run: progress and curves that hold the API\'s data points', async () => {
      assert.equal(runs.length, 2, 'needs the trained runs');
      await page.goto(`${t.url}/#/experiments`);
      await page.waitForSelector(`a[href="#/runs/${runs[0]}"]`);
      await page.click(`a[href="#/runs/${runs[0]}"]`);
      await page.waitForSelector('#run-status >> text=SUCCEEDED');
      await page.waitForSelector('.chart[data-metric="train/loss"] canvas');
      const { run } = await sdk.request(RunProgressDocument, { id: runs[0], points: 500 });
      for (const name of ['train/loss', 'eval/val/accuracy']) {
        const expected = run!.metrics.find((m) => m.name === name)!.points.length;
        assert.ok(expected >= 3, name);
        assert.equal(await page.getAttribute(`.chart[data-metric="${name}"]`, 'data-points'), String(expected), name);
      }
    });

    test('compare two runs: overlaid curves, final metrics, the differing config keys highlighted (screenshot)', async () => {
      assert.equal(runs.length, 2, 'needs the trained runs');
      await page.goto(`${t.url}/#/compare`);
      await page.check(`input[data-run="${runs[0]}"]`);
      await page.check(`input[data-run="${runs[1]}"]`);
      await page.waitForSelector('#config-diff tr.differs[data-key="config.lr"]');
      assert.ok(await page.locator('#config-diff tr.differs[data-key="seed"]').count() === 1);
      assert.match(await page.textContent('#finals tr[data-final="eval/val/accuracy"]') ?? '', /\d/);
      const series = await page.getAttribute('.chart[data-metric="train/loss"]', 'data-series');
      assert.equal(series, '2', 'both runs overlaid');
      assert.ok(Number(await page.getAttribute('.chart[data-metric="train/loss"]', 'data-points')) >= 30);
      await page.screenshot({ path: screenshot('compare.png'), fullPage: true });
    });

    test('deployments: deploy from the page, try-it streams an answer with timings, roll back', async () => {
      assert.equal(runs.length, 2, 'needs the trained runs');
      const { artifacts } = await sdk.request(ArtifactsDocument, { kind: 'BUNDLE', runId: runs[1] });
      await page.goto(`${t.url}/#/deployments`);
      await page.fill('input[name="deployment-name"]', 'web-student');
      await page.selectOption('select[name="artifact"]', artifacts[0].id);
      await page.click('#deploy');
      await page.waitForSelector('text=web-student revision 1 is live', { timeout: 60_000 });
      const { file, question } = firstImage();
      await page.setInputFiles('input[name="image"]', file);
      await page.fill('input[name="question"]', question);
      await page.click('#ask');
      await page.waitForSelector('#answer[data-done="1"]', { timeout: 60_000 });
      const timings = await page.textContent('#timings') ?? '';
      assert.match(timings, /revision 1 · \d+ tokens .*TTFT [\d.]+ ms/);
      const direct = await sdk.infer({ deployment: 'web-student', image: new Uint8Array(fs.readFileSync(file)), question });
      assert.equal(await page.textContent('#answer'), direct.answer, 'the streamed answer is the model\'s (greedy) answer');
      await page.waitForFunction(() => /last [1-9]\d* requests/.test(document.querySelector('[data-latency="web-student"]')?.textContent ?? ''));
      if (await page.locator('[data-rollback="cli-student:2"]').count()) {
        await page.click('[data-rollback="cli-student:2"]');
        await page.waitForSelector('[data-deployment="cli-student"] >> text=live revision 2');
        assert.equal((await sdk.request(DeploymentDocument, { name: 'cli-student' })).deployment?.liveRevision?.revision, 2);
      }
    });

    // The numbers, by hand. Columns: clients@1/test (A), clients@1/val (B), the average.
    //   eval-lr3e-3 (lr 0.003), seeds 1 and 2: A 0.80, 0.86; B 0.60, 0.62; per-seed averages 0.70, 0.74. Two seeds:
    //   s / sqrt(2) is half their difference, the 95% half-width t(0.975, 1 dof) = 12.7062 times that:
    //   A 83.0 ± 38.1, B 61.0 ± 12.7, average 72.0 ± 25.4.
    //   eval-lr1e-3 (lr 0.001), seed 3: A 78.0, B 70.0, average 74.0.
    //   big-vlm (external): A 90.0, B 40.0, average 65.0.   small-vlm (external, A only): A 50.0, no B, no average.
    //   best: A big-vlm; B and the average eval-lr1e-3.
    test('evaluation suites: the list, and the table: cells, n, best marks, sorting by a column, the differing config keys (screenshot)', async () => {
      const suite = 'web-bench';
      await sdk.request(CreateEvalSuiteDocument, { input: { name: suite, description: 'test and val splits of the clients dataset', datasets: [{ dataset: 'clients' }, { dataset: 'clients', split: 'val' }] } });
      const worker = await registerEvalWorker(t, workerKey, 'web-eval-box');
      const runOf = async (experimentId: string, seed: number) => {
        const { startRun } = await sdk.request(StartRunDocument, { input: { experimentId, seed } });
        // the table needs the run, not its training: cancelled before any worker could take it
        await sdk.request(CancelRunDocument, { id: startRun.id });
        return { kind: 'RUN', runId: startRun.id };
      };
      const experiment = async (name: string, lr: number) =>
        (await sdk.request(CreateExperimentDocument, { input: { name, datasetId, studentSize: 'nano', algorithm: 'SFT', config: { lr } } })).createExperiment.id;
      const lr3 = await experiment('eval-lr3e-3', 0.003);
      const lr1 = await experiment('eval-lr1e-3', 0.001);
      const external = (model: string) => ({ kind: 'EXTERNAL', endpoint: 'https://api.example.com/v1', model });
      await recordSuiteScores(t, worker, suite, await runOf(lr3, 1), [0.80, 0.60]);
      await recordSuiteScores(t, worker, suite, await runOf(lr3, 2), [0.86, 0.62]);
      await recordSuiteScores(t, worker, suite, await runOf(lr1, 3), [0.78, 0.70]);
      await recordSuiteScores(t, worker, suite, external('big-vlm'), [0.90, 0.40]);
      await recordSuiteScores(t, worker, suite, external('small-vlm'), [0.50, null]);

      const pct = (v: number) => (v * 100).toFixed(1);
      const T975_1DOF = 12.7062;
      const twoSeeds = (a: number, b: number) => `${pct((a + b) / 2)} ± ${pct(T975_1DOF * Math.abs(a - b) / 2)}`;
      const LR3 = 'eval-lr3e-3 (seeds 1, 2)', LR1 = 'eval-lr1e-3 (seed 3)';
      const BIG = 'big-vlm @ https://api.example.com/v1', SMALL = 'small-vlm @ https://api.example.com/v1';
      const expected: Record<string, { kind: string; n: string; cells: string[]; best: boolean[]; config: string[] }> = {
        [LR3]: { kind: 'RUN', n: '2', cells: [twoSeeds(0.80, 0.86), twoSeeds(0.60, 0.62), twoSeeds((0.80 + 0.60) / 2, (0.86 + 0.62) / 2)], best: [false, false, false], config: ['config.lr=0.003'] },
        [LR1]: { kind: 'RUN', n: '1', cells: [pct(0.78), pct(0.70), pct((0.78 + 0.70) / 2)], best: [false, true, true], config: ['config.lr=0.001'] },
        [BIG]: { kind: 'EXTERNAL', n: '', cells: [pct(0.90), pct(0.40), pct((0.90 + 0.40) / 2)], best: [true, false, false], config: [] },
        [SMALL]: { kind: 'EXTERNAL', n: '', cells: [pct(0.50), '—', '—'], best: [false, false, false], config: [] },
      };
      assert.deepEqual(expected[LR3].cells, ['83.0 ± 38.1', '61.0 ± 12.7', '72.0 ± 25.4'], 'the worked example above');

      await page.goto(`${t.url}/#/evals`);
      const listed = page.locator(`#suites tr[data-suite="${suite}"]`);
      await listed.waitFor();
      assert.deepEqual((await listed.locator('td').allTextContents()).slice(0, 4), [suite, 'test and val splits of the clients dataset', 'v1', '2'], 'name, description, versions, datasets');
      await listed.locator(`a[href="#/evals/${suite}"]`).click();
      await page.waitForSelector('#eval-table tbody tr');

      assert.deepEqual(await page.$$eval('#eval-table thead th', (ths) => ths.map((th) => th.textContent)), ['subject', 'n', 'clients@1/test', 'clients@1/val', 'Average', 'config']);
      const rows = () => page.$$eval('#eval-table tbody tr', (trs) => trs.map((tr) => ({
        label: (tr as HTMLElement).dataset.row!,
        kind: tr.querySelector('.kind')?.textContent ?? '',
        n: tr.children[1].textContent ?? '',
        cells: Array.from(tr.querySelectorAll('td[data-col]')).map((td) => td.textContent ?? ''),
        best: Array.from(tr.querySelectorAll('td[data-col]')).map((td) => td.classList.contains('best')),
        config: Array.from(tr.querySelectorAll('td.config .pair')).map((p) => p.textContent ?? ''),
      })));
      const shown = await rows();
      assert.deepEqual(shown.map((r) => r.label), [LR3, LR1, BIG, SMALL], 'runs first, then the external models, as the API orders them');
      for (const r of shown) assert.deepEqual({ kind: r.kind, n: r.n, cells: r.cells, best: r.best, config: r.config }, expected[r.label], r.label);
      assert.equal(await page.$eval('#eval-table td.best', (td) => getComputedStyle(td).fontWeight), '700', 'the best cells are bold');

      const average = page.locator('#eval-table th[data-col="average"]');
      assert.equal(await average.getAttribute('aria-sort'), 'none');
      await average.click();
      assert.equal(await average.getAttribute('aria-sort'), 'descending');
      assert.deepEqual((await rows()).map((r) => r.label), [LR1, LR3, BIG, SMALL], 'by the average, highest first; no average last');
      await page.screenshot({ path: screenshot('eval-table.png'), fullPage: true });
      await average.click();
      assert.equal(await average.getAttribute('aria-sort'), 'ascending');
      assert.deepEqual((await rows()).map((r) => r.label), [BIG, LR3, LR1, SMALL], 'lowest first; no average still last');
      const test = page.locator('#eval-table th[data-col="clients@1/test"]');
      await test.click();
      assert.deepEqual([await test.getAttribute('aria-sort'), await average.getAttribute('aria-sort')], ['descending', 'none'], 'one sorted column at a time');
      assert.deepEqual((await rows()).map((r) => r.label), [BIG, LR3, LR1, SMALL]);
      await test.locator('button').press('Enter');
      assert.equal(await test.getAttribute('aria-sort'), 'ascending', 'the header works from the keyboard too');
      assert.deepEqual((await rows()).map((r) => r.label), [SMALL, LR1, LR3, BIG]);
    });
  });
});
