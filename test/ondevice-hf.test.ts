// Needs: RIL_HF_PYTHON (the torch 2.x environment builds the tiny Hugging Face students and their PyTorch answers)
// Hugging Face students on the user's device (issue 14): the dashboard's "Run on this device" runs a deployed tiny
// SmolVLM / Qwen2-VL (bundle format 3) in headless Chromium with @huggingface/transformers's web build on
// onnxruntime-web, from the bundle files the route serves (verified, cached). Its greedy token ids equal the
// server's /v1/infer for the same image and question (and begin with PyTorch's greedy answer), no request leaves
// the page's origin (no huggingface.co, no CDN), the files fetched are the deployment's variant's (x-ril-variant),
// and a reload runs from the Cache API without fetching a bundle file again. WASM for both families; WebGPU (Chromium's
// SwiftShader adapter) for SmolVLM.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { hfVariantFiles } from '../api/_lib/browser.js';
import { askBoth, chromiumMissing, openDashboard, openTryIt, SOFTWARE_WEBGPU, watchRequests } from './helpers/browser.js';
import { deploy, post, registerBundle } from './helpers/deploy.js';
import { hfSkipReason, hfStudentBundle, type HfBundleFixture, type HfFamily } from './helpers/hfBundle.js';
import { REPO } from './helpers/python.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = hfSkipReason() ?? chromiumMissing ?? undefined;
const FAMILIES: HfFamily[] = ['smolvlm', 'qwen2vl'];
const IMAGES = 3;

describe('Hugging Face students on this device', { skip: skip || undefined }, () => {
  const fx = new Map<HfFamily, HfBundleFixture>();
  let t: TestServer;
  let out: string;
  /** Bundle route requests the server answered, by path (counted at the server, whatever the browser caches). */
  const bundleRequests: string[] = [];

  before(async () => {
    for (const family of FAMILIES) fx.set(family, await hfStudentBundle(family));
    out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-ondevice-hf-')), 'public');
    execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-web.mjs'), '--out', out], { stdio: 'pipe' });
    t = await startTestServer({ RIL_PUBLIC_DIR: out, RIL_INFER_RATE_LIMIT: '10000', RIL_INFER_RATE_BURST: '10000' });
    const handler = t.platform.handler;
    t.platform.handler = (req, res) => {
      if (/\/bundle\//.test(req.url ?? '')) bundleRequests.push(new URL(req.url!, 'http://x').pathname);
      return handler(req, res);
    };
    for (const [family, f] of fx) {
      const art = await registerBundle(t, f.archive, `${family}-tiny`);
      assert.equal(art.errors, undefined, JSON.stringify(art.errors));
      for (const [name, variant] of [[family, undefined], [`${family}-int8`, 'int8']] as const) {
        const d = await deploy(t, name, art.data.registerArtifact.id, undefined, variant);
        assert.equal(d.errors, undefined, JSON.stringify(d.errors));
      }
    }
  });
  after(async () => { await t?.close(); });

  test('the manifest route names the variant the deployment serves (x-ril-variant), and its ETag follows it', async () => {
    const head = async (name: string) => {
      const r = await fetch(`${t.url}/v1/deployments/${name}/bundle/manifest.json`, { headers: { authorization: `Bearer ${t.adminKey}` } });
      await r.arrayBuffer();
      return { variant: r.headers.get('x-ril-variant'), etag: r.headers.get('etag'), sha: r.headers.get('x-ril-bundle-sha256') };
    };
    const plain = await head('smolvlm');
    const int8 = await head('smolvlm-int8');
    assert.equal(plain.variant, fx.get('smolvlm')!.manifest.default_variant, 'no variant on the revision: the default');
    assert.equal(int8.variant, 'int8');
    assert.equal(plain.sha, int8.sha, 'one bundle');
    assert.notEqual(plain.etag, int8.etag, 'the same bundle served as another variant is another answer');
  });

  describe('the dashboard', () => {
    /** Each of the first IMAGES references on the server and on the device; the server's ids are the endpoint's
     * own. 'exact' (fp32): the device's ids equal the server's, and PyTorch's greedy answer is their beginning (the
     * reference stops at its max_new_tokens). 'report' (int8): the agreement is printed, not asserted: the quantized
     * integer kernels of onnxruntime-web's WebAssembly and onnxruntime-node's native CPU code may round differently,
     * and with random weights a near tie then flips (docs/inference.md). Returns the providers that ran. */
    const sameAnswers = async (page: Page, deployment: string, f: HfBundleFixture, mode: 'exact' | 'report', log: (s: string) => void) => {
      await openTryIt(page, t.url, deployment);
      const providers = new Set<string>();
      for (const [i, ex] of f.refs.slice(0, IMAGES).entries()) {
        const image = path.join(f.data, ex.image);
        const r = await askBoth(page, image, ex.question, 180_000);
        const direct = await post(t, '/v1/infer', { deployment, image: fs.readFileSync(image).toString('base64'), question: ex.question });
        assert.equal(direct.status, 200, direct.text);
        assert.deepEqual(r.server, direct.json.token_ids, `${deployment} ${ex.id}`);
        assert.ok(r.device.length > 0, ex.id);
        assert.match(r.timings, /TTFT \d+(\.\d+)? ms/);
        assert.equal(r.source, i === 0 ? 'downloaded' : 'loaded', `${deployment} ${ex.id}: ${r.status}`);
        providers.add(r.provider!);
        if (mode === 'exact') {
          assert.deepEqual(r.device, r.server, `${deployment} ${ex.id}: on-device ids ${JSON.stringify(r.device)} vs the server's ${JSON.stringify(r.server)}`);
          assert.deepEqual(r.device.slice(0, ex.tokens.length), ex.tokens, `${deployment} ${ex.id}: PyTorch's greedy answer`);
          assert.equal(r.deviceText, r.serverText, `${deployment} ${ex.id}`);
          log(`${deployment} ${ex.id}: ${r.device.length} tokens, identical to the server's and PyTorch's · ${r.timings}`);
        } else {
          let same = 0;
          while (same < Math.min(r.device.length, r.server.length) && r.device[same] === r.server[same]) same++;
          log(`${deployment} ${ex.id}: ${same === r.device.length && same === r.server.length ? 'identical' : `the first ${same} of ${r.server.length} tokens equal`} to the server's · ${r.timings}`);
        }
      }
      return [...providers].join(',');
    };

    for (const family of FAMILIES) {
      test(`${family}: greedy token ids equal the server's and PyTorch's on ${IMAGES} test images (fp32); the int8 variant runs its own graphs; nothing leaves the origin; a reload runs from the cache`, async (ctx) => {
        const f = fx.get(family)!;
        const { browser, page } = await openDashboard(t.url, t.adminKey);
        try {
          const { fetched, origins } = watchRequests(page, (line) => ctx.diagnostic(line));
          await openTryIt(page, t.url, family);
          // first paint: neither the on-device code nor transformers.js nor onnxruntime-web's runtime
          assert.deepEqual(fetched.filter((p) => p.startsWith('/chunks/') || p.startsWith('/ort/') || p.includes('/bundle/')), []);
          const log = (line: string) => ctx.diagnostic(line);
          bundleRequests.length = 0;
          const provider = await sameAnswers(page, family, f, 'exact', log);
          assert.ok(fetched.some((p) => /^\/chunks\/transformers\.web-/.test(p)), 'transformers.js came as its own chunk, from this origin');
          assert.ok(fetched.includes('/ort/ort-wasm-simd-threaded.asyncify.wasm'), `onnxruntime-web's WebAssembly came from /ort/: ${fetched.filter((p) => p.startsWith('/ort/'))}`);
          const want = hfVariantFiles(f.manifest as never, f.manifest.default_variant);
          assert.deepEqual([...new Set(bundleRequests)].sort(), ['manifest.json', ...want].map((n) => `/v1/deployments/${family}/bundle/${n}`).sort(),
            'the default variant\'s graphs and the config/processor/tokenizer files, each once');

          // the int8 deployment of the same bundle: its own graphs (the quantized ones) run on the device
          bundleRequests.length = 0;
          const int8Provider = await sameAnswers(page, `${family}-int8`, f, 'report', log);
          const int8Files = hfVariantFiles(f.manifest as never, 'int8');
          const graphs = (files: string[]) => files.filter((n) => n.startsWith('onnx/')).sort();
          const gotInt8 = bundleRequests.filter((p) => p.includes('/onnx/')).map((p) => p.replace(`/v1/deployments/${family}-int8/bundle/`, ''));
          // graphs int8 shares with fp32 (the vision encoder) come from the cache: only the others are fetched
          assert.deepEqual([...new Set(gotInt8)].sort(), graphs(int8Files).filter((g) => !want.includes(g)));
          assert.ok(gotInt8.some((g) => g.includes('_quantized')), `the int8 variant's quantized graphs: ${gotInt8}`);
          assert.deepEqual([...origins], [t.url], `every request went to this origin: ${[...origins]}`);

          // a reload: the model again, every bundle file from the Cache API
          bundleRequests.length = 0;
          fetched.length = 0;
          await page.reload();
          await page.waitForSelector('#who >> text=ADMIN');
          await openTryIt(page, t.url, family);
          const ex = f.refs[0];
          const again = await askBoth(page, path.join(f.data, ex.image), ex.question, 180_000);
          assert.equal(again.source, 'cached', again.status);
          assert.match(again.status, /cached on this device \(nothing downloaded\)/);
          assert.deepEqual(again.device, again.server);
          assert.deepEqual(again.device.slice(0, ex.tokens.length), ex.tokens);
          assert.deepEqual(bundleRequests, [`/v1/deployments/${family}/bundle/manifest.json`], 'the reload fetched no bundle file (counted at the server)');
          assert.deepEqual(fetched.filter((p) => p.includes('/bundle/')), [`/v1/deployments/${family}/bundle/manifest.json`]);
          assert.deepEqual([...origins], [t.url], `every request went to this origin: ${[...origins]}`);
          ctx.diagnostic(`${family}: on-device provider ${provider} (int8: ${int8Provider}); ${want.length} files, ${(want.reduce((s, n) => s + f.manifest.files[n].bytes, 0) / 1e6).toFixed(2)} MB`);
        } finally {
          await browser.close();
        }
      });
    }

    test('with a WebGPU adapter (SwiftShader), transformers.js runs the smolvlm student on WebGPU, with the server\'s ids', async (ctx) => {
      const f = fx.get('smolvlm')!;
      const { browser, page } = await openDashboard(t.url, t.adminKey, 'ADMIN', SOFTWARE_WEBGPU);
      try {
        const origins = new Set<string>();
        page.on('request', (r) => { const u = new URL(r.url()); if (u.protocol !== 'blob:' && u.protocol !== 'data:') origins.add(u.origin); });
        await openTryIt(page, t.url, 'smolvlm');
        for (const ex of f.refs.slice(0, 1)) { // SwiftShader runs WebGPU on the CPU: one answer covers the path
          const r = await askBoth(page, path.join(f.data, ex.image), ex.question, 180_000);
          assert.equal(r.provider, 'webgpu', r.status);
          assert.deepEqual(r.device, r.server, `${ex.id}: on WebGPU ${JSON.stringify(r.device)} vs the server's ${JSON.stringify(r.server)}`);
          assert.deepEqual(r.device.slice(0, ex.tokens.length), ex.tokens, `${ex.id}: PyTorch's greedy answer`);
          ctx.diagnostic(`smolvlm ${ex.id} on webgpu: ${r.device.length} tokens, identical to the server's and PyTorch's · ${r.timings}`);
        }
        assert.deepEqual([...origins], [t.url], `every request went to this origin: ${[...origins]}`);
      } finally {
        await browser.close();
      }
    });
  });
});
