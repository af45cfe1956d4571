// Database: once (a headless browser: slow; its database paths, deployments and keys, are covered on both databases by
// deployments.test.ts and inference.test.ts)
// On-device inference (issue 14): the live bundle's files over GET /v1/deployments/<name>/bundle/<file> (who may
// fetch them, which names resolve, caching headers), and the dashboard's "Run on this device" in headless Chromium
// on a real bundle made by the trainer: onnxruntime-web's greedy token ids equal the server's for the same image
// and question, and a reload runs from the Cache API without fetching a bundle file again.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import type { Page } from 'playwright-core';
import { askBoth, chromiumMissing, openDashboard, openTryIt, SOFTWARE_WEBGPU, watchRequests } from './helpers/browser.js';
import { findPython, studentBundle, type BundleFixture } from './helpers/bundle.js';
import { deploy, post, registerBundle } from './helpers/deploy.js';
import { REPO } from './helpers/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const { reason } = findPython();
/** The same bundle in another archive (another gzip level): another blob sha256, so another bundle directory. */
const variant = (archive: Buffer, level: number) => zlib.gzipSync(zlib.gunzipSync(archive), { level });
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');

/** A GET with the request target exactly as written (fetch would normalise `..` segments away). */
function rawGet(url: string, target: string, key?: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: target, method: 'GET', headers: key ? { authorization: `Bearer ${key}` } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('on-device inference', { skip: reason }, () => {
  let fx: BundleFixture;
  /** Untrained (a tiny learning rate, one step): its greedy answers run to the token budget, so the decode loop and
   * its KV cache go 64 steps deep, where a near tie between two engines' logits would show. */
  let babble: BundleFixture;
  /** The byte-level tokenizer (the trained one above has the subword one, tokenizer.json). */
  let bytes: BundleFixture;
  let t: TestServer;
  let manifest: { files: Record<string, { sha256: string; bytes: number }> };
  let fmSha: string;
  let otherSha: string;
  let out: string;
  /** Bundle route requests the server answered, by path (counted at the server, whatever the browser caches). */
  const bundleRequests: string[] = [];
  const get = (p: string, key: string | null = t.adminKey, headers: Record<string, string> = {}) =>
    fetch(`${t.url}${p}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });

  before(async () => {
    [fx, babble, bytes] = await Promise.all([studentBundle(), studentBundle({ steps: 1, lr: 1e-7 }), studentBundle({ tokenizer: 'byte' })]);
    manifest = JSON.parse(fs.readFileSync(path.join(fx.bundleDir, 'manifest.json'), 'utf8'));
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-ondevice-')), 'public');
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-web.mjs'), '--out', out], { stdio: 'pipe' });
    t = await startTestServer({ RIL_PUBLIC_DIR: out, RIL_INFER_RATE_LIMIT: '1000', RIL_INFER_RATE_BURST: '1000', RIL_INFER_MAX_BODY_BYTES: '200000' });
    const handler = t.platform.handler;
    t.platform.handler = (req, res) => {
      if (/\/bundle\//.test(req.url ?? '')) bundleRequests.push(new URL(req.url!, 'http://x').pathname);
      return handler(req, res);
    };
    const fm = await registerBundle(t, fx.archive);
    assert.equal((await deploy(t, 'fm', fm.data.registerArtifact.id)).data.deploy.status, 'LIVE');
    fmSha = sha256(fx.archive);
    const otherArchive = variant(fx.archive, 1);
    otherSha = sha256(otherArchive);
    const other = await registerBundle(t, otherArchive, 'other');
    assert.equal((await deploy(t, 'other', other.data.registerArtifact.id)).data.deploy.status, 'LIVE');
    assert.notEqual(fmSha, otherSha);
    for (const [name, f] of [['babble', babble], ['bytes', bytes]] as const) {
      const art = await registerBundle(t, f.archive, name);
      assert.equal((await deploy(t, name, art.data.registerArtifact.id)).data.deploy.status, 'LIVE', name);
    }
  });
  after(async () => { await t?.close(); });

  describe('GET /v1/deployments/<name>/bundle/<file>', () => {
    test('only keys that may infer: none 401, VIEWER and WORKER 403 (before the deployment is looked up), INFERENCE, EDITOR, ADMIN 200', async () => {
      assert.equal((await get('/v1/deployments/fm/bundle/manifest.json', null)).status, 401);
      assert.equal((await get('/v1/deployments/fm/bundle/manifest.json', 'ril_not-a-key')).status, 401);
      for (const role of ['VIEWER', 'WORKER'] as const) {
        const key = await t.keyFor(role);
        assert.equal((await get('/v1/deployments/fm/bundle/manifest.json', key)).status, 403, role);
        assert.equal((await get(`/v1/deployments/fm/bundle/${Object.keys(manifest.files)[0]}`, key)).status, 403, role);
        // an unknown deployment answers the same: the refusal says nothing about what exists
        assert.equal((await get('/v1/deployments/nope/bundle/manifest.json', key)).status, 403, role);
      }
      for (const role of ['INFERENCE', 'EDITOR'] as const) {
        const key = await t.keyFor(role);
        assert.equal((await get('/v1/deployments/fm/bundle/manifest.json', key)).status, 200, role);
      }
      assert.equal((await get('/v1/deployments/fm/bundle/manifest.json')).status, 200, 'ADMIN');
      assert.equal((await get('/v1/deployments/nope/bundle/manifest.json')).status, 404);
      // the key never rides in the URL
      assert.equal((await get(`/v1/deployments/fm/bundle/manifest.json?key=${encodeURIComponent(t.adminKey)}`, null)).status, 401);
    });

    test('manifest.json and each listed file, byte for byte, with ETag = sha256, the revision, and content-keyed caching', async () => {
      const m = await get('/v1/deployments/fm/bundle/manifest.json');
      assert.deepEqual(Buffer.from(await m.arrayBuffer()), fs.readFileSync(path.join(fx.bundleDir, 'manifest.json')));
      assert.equal(m.headers.get('etag'), `"${fmSha}"`);
      assert.equal(m.headers.get('x-ril-revision'), '1');
      assert.equal(m.headers.get('x-ril-bundle-sha256'), fmSha);
      assert.equal(m.headers.get('cache-control'), 'private, no-cache', 'the manifest changes with the live revision');
      for (const [name, { sha256: sha, bytes }] of Object.entries(manifest.files)) {
        const plain = await get(`/v1/deployments/fm/bundle/${name}`);
        const body = Buffer.from(await plain.arrayBuffer());
        assert.equal(plain.status, 200, name);
        assert.equal(body.length, bytes, name);
        assert.equal(sha256(body), sha, name);
        assert.equal(plain.headers.get('etag'), `"${sha}"`, name);
        assert.equal(plain.headers.get('cache-control'), 'private, no-cache', `${name}: a name alone does not pin content`);
        const pinned = await get(`/v1/deployments/fm/bundle/${name}?sha256=${sha}`);
        await pinned.arrayBuffer();
        assert.match(pinned.headers.get('cache-control')!, /^private, max-age=\d{7,}, immutable$/, name);
        const stale = await get(`/v1/deployments/fm/bundle/${name}?sha256=${'0'.repeat(64)}`);
        assert.equal(stale.status, 409, `${name}: a pin to other content is refused (the live revision moved on)`);
        const again = await get(`/v1/deployments/fm/bundle/${name}`, t.adminKey, { 'if-none-match': `"${sha}"` });
        assert.equal(again.status, 304, name);
        const head = await fetch(`${t.url}/v1/deployments/fm/bundle/${name}`, { method: 'HEAD', headers: { authorization: `Bearer ${t.adminKey}` } });
        assert.equal(head.headers.get('content-length'), String(bytes));
      }
      const put = await fetch(`${t.url}/v1/deployments/fm/bundle/manifest.json`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminKey}` }, body: '{}' });
      assert.equal(put.status, 400);
    });

    test('names: only manifest.json and the manifest\'s keys; no traversal, no absolute names, no other deployment\'s files', async () => {
      const bundles = path.join(t.home, 'bundles');
      // files on disk that no manifest lists: one in fm's own bundle directory, one beside the bundles
      const fmDir = path.join(bundles, fmSha);
      assert.ok(fs.existsSync(path.join(fmDir, 'manifest.json')), `bundles unpack under ${bundles}`);
      fs.writeFileSync(path.join(fmDir, 'unlisted.onnx'), 'not in the manifest');
      fs.writeFileSync(path.join(bundles, 'secret.txt'), 'outside every bundle');
      const prefill = Object.keys(manifest.files).find((f) => f.endsWith('.onnx'))!;
      const refused = [
        'unlisted.onnx', 'secret.txt', 'nope.onnx', 'manifest.json/', `${prefill}/.`, `${prefill}//`, `x/..%2F${prefill}`,
        `../${otherSha}/${prefill}`, `..%2F${otherSha}%2F${prefill}`, `%2e%2e%2F${otherSha}%2F${prefill}`, `%2e%2e/%2e%2e/bundles/secret.txt`,
        '../secret.txt', '..%2Fsecret.txt', '..%5Csecret.txt', '%2Fetc%2Fpasswd', `%2F${fmDir.slice(1).split('/').join('%2F')}%2F${prefill}`,
        'C:%5Cwindows', `${prefill}%00`, '%E0%A4%A', '__proto__', 'constructor', 'hasOwnProperty',
      ];
      for (const name of refused) {
        const r = await rawGet(t.url, `/v1/deployments/fm/bundle/${name}`, t.adminKey);
        assert.ok(r.status === 404 || r.status === 400, `${name}: ${r.status} ${r.body}`);
        assert.doesNotMatch(r.body, /not in the manifest|outside every bundle|root:/, name);
      }
      // (a target whose `..` segments the URL parser resolves to /v1/deployments/other/bundle/<file> is simply a request
      // for that deployment's file: keys are authorised per role, not per deployment, so it grants nothing new)
      // deployment name games: a name is a name, never a path
      for (const name of [`fm%2F..%2Fother`, `..%2F${otherSha}`, `%2e%2e`, `fm%00`]) {
        const r = await rawGet(t.url, `/v1/deployments/${name}/bundle/${prefill}`, t.adminKey);
        assert.ok(r.status === 404 || r.status === 400, `${name}: ${r.status} ${r.body}`);
      }
      // what is reachable is each deployment's own bundle, by its own name
      assert.equal((await get(`/v1/deployments/other/bundle/manifest.json`)).headers.get('x-ril-bundle-sha256'), otherSha);
    });
  });

  describe('the dashboard runs the student on this device', { skip: chromiumMissing }, () => {
    /** Asks each example on the server and on the device; their token ids must be equal, and the server's the
     * endpoint's own answer. Returns the provider that ran on the device. */
    const sameAnswers = async (page: Page, deployment: string, f: BundleFixture, n: number, log: (s: string) => void) => {
      await openTryIt(page, t.url, deployment);
      let provider: string | null = null;
      for (const [i, ex] of f.torch.slice(0, n).entries()) {
        const image = path.join(f.data, ex.image);
        const r = await askBoth(page, image, ex.question);
        const direct = await post(t, '/v1/infer', { deployment, image: fs.readFileSync(image).toString('base64'), question: ex.question });
        assert.deepEqual(r.server, direct.json.token_ids, `${deployment} ${ex.id}`);
        assert.ok(r.device.length > 0, ex.id);
        assert.deepEqual(r.device, r.server, `${deployment} ${ex.id}: on-device ids ${JSON.stringify(r.device)} vs the server's ${JSON.stringify(r.server)}`);
        assert.equal(r.deviceText, r.serverText, `${deployment} ${ex.id}`);
        assert.match(r.timings, /TTFT \d+(\.\d+)? ms/);
        assert.equal(r.source, i === 0 ? 'downloaded' : 'loaded', `${deployment} ${ex.id}: ${r.status}`);
        provider = r.provider;
        log(`${deployment} ${ex.id}: ${r.device.length} tokens, identical · ${r.timings}`);
      }
      return provider;
    };

    test('greedy token ids equal the server\'s on each test image (subword and byte tokenizers, answers up to the budget)', async (ctx) => {
      const { browser, page } = await openDashboard(t.url, t.adminKey);
      try {
        const { fetched, origins } = watchRequests(page, (line) => ctx.diagnostic(line));
        await openTryIt(page, t.url, 'fm');
        // first paint: the dashboard without the on-device code (a chunk) or onnxruntime-web's runtime (/ort/)
        assert.deepEqual(fetched.filter((p) => p.startsWith('/chunks/') || p.startsWith('/ort/') || p.includes('/bundle/')), []);
        const log = (line: string) => ctx.diagnostic(line);
        const provider = await sameAnswers(page, 'fm', fx, 4, log);
        const babbled = await sameAnswers(page, 'babble', babble, 3, log);
        await sameAnswers(page, 'bytes', bytes, 3, log);
        assert.ok(babble.torch.slice(0, 3).some((ex) => ex.tokens.length >= 16), 'the untrained student\'s answers are long');
        ctx.diagnostic(`on-device execution provider: ${provider} (${provider === 'wasm' ? 'Chromium started with --disable-gpu has no WebGPU adapter: WASM; the next test gives it one' : 'WebGPU'})`);
        assert.ok(provider === 'wasm' || provider === 'webgpu');
        assert.equal(babbled, provider);
        if (provider === 'wasm') {
          assert.ok(fetched.includes('/ort/ort-wasm-simd-threaded.wasm'), 'the WASM runtime came from this origin');
          assert.ok(!fetched.includes('/ort/ort-wasm-simd-threaded.jsep.wasm'), 'the WebGPU build was not fetched');
        }
        assert.deepEqual([...origins], [new URL(t.url).origin], 'nothing from another origin (no CDN)');
      } finally {
        await browser.close();
      }
    });

    test('with a WebGPU adapter (SwiftShader), the runner takes WebGPU (the JSEP build) and answers as the server', async (ctx) => {
      const { browser, page } = await openDashboard(t.url, t.adminKey, 'ADMIN', SOFTWARE_WEBGPU);
      try {
        const fetched: string[] = [];
        page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
        const adapter = await page.evaluate(async () => Boolean(await (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu?.requestAdapter()));
        if (!adapter) return void ctx.skip('this Chromium gives no WebGPU adapter, even SwiftShader\'s');
        const log = (line: string) => ctx.diagnostic(`webgpu: ${line}`);
        // SwiftShader runs WebGPU on the CPU (a few tokens/s): two answers; the 64-step answers run on WASM above
        assert.equal(await sameAnswers(page, 'fm', fx, 2, log), 'webgpu');
        assert.ok(fetched.includes('/ort/ort-wasm-simd-threaded.jsep.wasm'), 'the JSEP build\'s runtime came from this origin');
        assert.ok(!fetched.includes('/ort/ort-wasm-simd-threaded.wasm'), 'the WASM-only build was not fetched');
      } finally {
        await browser.close();
      }
    });

    test('the bundle downloads once with progress; a reload runs from the cache and fetches no bundle file', async () => {
      bundleRequests.length = 0;
      const { browser, page } = await openDashboard(t.url, t.adminKey);
      try {
        const fetched: string[] = [];
        page.on('request', (r) => fetched.push(new URL(r.url()).pathname));
        const ex = fx.torch[0];
        await openTryIt(page, t.url, 'fm');
        const first = await askBoth(page, path.join(fx.data, ex.image), ex.question);
        assert.equal(first.source, 'downloaded', first.status); // a new browser context: an empty cache
        // each listed file fetched once (pinned to its sha256), the manifest once per run
        const files = bundleRequests.filter((p) => !p.endsWith('/manifest.json'));
        assert.deepEqual([...files].sort(), Object.keys(manifest.files).map((f) => `/v1/deployments/fm/bundle/${f}`).sort());
        const total = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
        assert.equal(await page.getAttribute('#ondevice-progress', 'title'), `${(total / 1e6).toFixed(2)} MB / ${(total / 1e6).toFixed(2)} MB`);
        assert.match(first.status, /downloaded [\d.]+ MB, now cached on this device/);

        bundleRequests.length = 0;
        fetched.length = 0;
        await page.reload();
        await page.waitForSelector('#who >> text=ADMIN');
        await openTryIt(page, t.url, 'fm');
        const again = await askBoth(page, path.join(fx.data, ex.image), ex.question);
        assert.equal(again.source, 'cached', again.status);
        assert.match(again.status, /cached on this device \(nothing downloaded\)/);
        assert.deepEqual(again.device, again.server);
        assert.deepEqual(bundleRequests, ['/v1/deployments/fm/bundle/manifest.json'], 'the reload fetched no bundle file (counted at the server)');
        assert.deepEqual(fetched.filter((p) => p.includes('/bundle/')), ['/v1/deployments/fm/bundle/manifest.json']);
      } finally {
        await browser.close();
      }
    });
  });
});

test('a model family this build does not know gets "cannot run on this device", before any file is fetched', async () => {
  // (Hugging Face students, format 3, do run on the device: test/ondevice-hf.test.ts)
  const { runOnDevice, OnDeviceUnavailable } = await import('../clients/web/src/ondevice/index.js');
  const asked: string[] = [];
  const realFetch = globalThis.fetch;
  const manifest = { format: 'ril-student-bundle', format_version: 9, model_family: 'some-future-family', files: { 'onnx/decoder_model_merged.onnx': { sha256: '0'.repeat(64), bytes: 1 } } };
  globalThis.fetch = (async (input: string | URL | Request) => {
    asked.push(new URL(String(input)).pathname);
    return new Response(JSON.stringify(manifest), { headers: { 'x-ril-revision': '3', 'x-ril-bundle-sha256': 'f'.repeat(64) } });
  }) as typeof fetch;
  try {
    const run = () => runOnDevice({ origin: 'http://127.0.0.1:1', apiKey: 'k', deployment: 'hf', image: new Blob([]), question: 'q' });
    await assert.rejects(run(), (err: Error) => err instanceof OnDeviceUnavailable && /model family "some-future-family" cannot run on this device \(this build knows ril-vlm-v1, hf-image-text-to-text\)/.test(err.message));
    assert.deepEqual(asked, ['/v1/deployments/hf/bundle/manifest.json'], 'only the manifest was fetched');
  } finally {
    globalThis.fetch = realFetch;
  }
});

test('bundle file requests take tokens from the key\'s inference rate limit (429 with retry-after)', async () => {
  const t = await startTestServer({ RIL_INFER_RATE_LIMIT: '1', RIL_INFER_RATE_BURST: '2' });
  try {
    const key = await t.keyFor('INFERENCE');
    const get = () => fetch(`${t.url}/v1/deployments/none/bundle/manifest.json`, { headers: { authorization: `Bearer ${key}` } });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await get()).status);
    assert.deepEqual(statuses, [404, 404, 429]);
    const r = await get();
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    // the bucket is the one /v1/infer takes from
    assert.equal((await post(t, '/v1/infer', { deployment: 'none', image: 'AA==', question: 'q' }, key)).status, 429);
  } finally {
    await t.close();
  }
});
