// The dashboard is built once (`npm run build:web` -> scripts/build-web.mjs) and `ril serve` serves the built files
// as they are; without them, / explains how to build them and the API still works.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';
import { REPO } from './helpers/python.js';

let built: TestServer;
let missing: TestServer;
let out: string;

before(async () => {
  out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-web-')), 'public');
  execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-web.mjs'), '--out', out], { stdio: 'pipe' });
  built = await startTestServer({ RIL_PUBLIC_DIR: out });
  missing = await startTestServer({ RIL_PUBLIC_DIR: path.join(out, '..', 'not-built') });
});
after(async () => { await built.close(); await missing.close(); });

test('build:web writes index.html, app.js and app.css; the server answers exactly those bytes', async () => {
  for (const [route, file, type] of [['/', 'index.html', 'text/html'], ['/app.js', 'app.js', 'text/javascript'], ['/app.css', 'app.css', 'text/css']]) {
    const res = await fetch(`${built.url}${route}`);
    assert.equal(res.status, 200, route);
    assert.match(res.headers.get('content-type') ?? '', new RegExp(type));
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), fs.readFileSync(path.join(out, file)), route);
  }
  assert.match(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), /<script type="module" src="\/app.js">/);
  assert.ok(fs.statSync(path.join(out, 'app.js')).size > 10_000, 'the bundle holds the app and uPlot');
  // served as built: a change to the file is what the next request gets (nothing is bundled at request time)
  fs.appendFileSync(path.join(out, 'app.css'), '\n/* rebuilt */\n');
  assert.match(await (await fetch(`${built.url}/app.css`)).text(), /\/\* rebuilt \*\/\n$/);
  assert.equal((await fetch(`${built.url}/nope.js`)).status, 404);
});

test('without a build, / is a page that says to run npm run build:web (503); the API still answers', async () => {
  const page = await fetch(`${missing.url}/`);
  assert.equal(page.status, 503);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await page.text(), /npm run build:web/);
  const js = await fetch(`${missing.url}/app.js`);
  assert.equal(js.status, 503);
  assert.match((await js.json() as any).error.message, /npm run build:web/);
  assert.equal((await missing.gql('{ me { role } }')).data.me.role, 'ADMIN');
});

test('on-device inference is loaded on demand: its chunks and onnxruntime-web\'s runtime (/ort/) come from this origin', async () => {
  const app = fs.readFileSync(path.join(out, 'app.js'), 'utf8');
  // the first paint carries neither onnxruntime-web nor the runner: they are chunks that app.js imports dynamically
  assert.doesNotMatch(app, /ort-wasm-simd-threaded/);
  assert.ok(app.length < 150_000, `app.js is ${app.length} bytes`);
  const chunks = fs.readdirSync(path.join(out, 'chunks'));
  const ortChunks = chunks.filter((f) => fs.readFileSync(path.join(out, 'chunks', f), 'utf8').includes('ort-wasm-simd-threaded'));
  // onnxruntime-web's WASM and JSEP builds for the built-in family, and transformers.js's web build (with
  // onnxruntime-web/webgpu, the asyncify build, inside) for Hugging Face students: one chunk each
  assert.equal(ortChunks.length, 3, `the WASM, JSEP and transformers.js builds, one chunk each: ${chunks.join(', ')}`);
  assert.equal(ortChunks.filter((f) => /^transformers\.web-/.test(f)).length, 1, `transformers.js is a chunk of its own: ${ortChunks.join(', ')}`);
  assert.doesNotMatch(app, /huggingface|transformers\.js/i, 'nor transformers.js');
  for (const f of chunks) {
    const res = await fetch(`${built.url}/chunks/${f}`);
    assert.equal(res.status, 200, f);
    assert.match(res.headers.get('content-type') ?? '', /text\/javascript/);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', 'chunk names change with their content');
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), fs.readFileSync(path.join(out, 'chunks', f)), f);
  }
  for (const [f, type] of [['ort-wasm-simd-threaded.wasm', 'application/wasm'], ['ort-wasm-simd-threaded.jsep.wasm', 'application/wasm'], ['ort-wasm-simd-threaded.mjs', 'text/javascript'], ['ort-wasm-simd-threaded.jsep.mjs', 'text/javascript'],
    ['ort-wasm-simd-threaded.asyncify.wasm', 'application/wasm'], ['ort-wasm-simd-threaded.asyncify.mjs', 'text/javascript']]) {
    const res = await fetch(`${built.url}/ort/${f}`);
    assert.equal(res.status, 200, f);
    assert.match(res.headers.get('content-type') ?? '', new RegExp(type));
    assert.equal(Number(res.headers.get('content-length')), fs.statSync(path.join(REPO, 'node_modules', 'onnxruntime-web', 'dist', f)).size, f);
    assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self' 'wasm-unsafe-eval';/);
    await res.body?.cancel();
    const again = await fetch(`${built.url}/ort/${f}`, { headers: { 'if-none-match': res.headers.get('etag')! } });
    assert.equal(again.status, 304, `${f}: a reload revalidates instead of downloading it again`);
  }
  for (const p of ['/ort/nope.wasm', '/ort/%2e%2e%2fapp.js', '/ort/.hidden.wasm', '/chunks/x.json', '/ort/sub/x.wasm', '/node_modules/onnxruntime-web/package.json']) {
    assert.equal((await fetch(`${built.url}${p}`)).status, 404, p);
  }
});

test('a client that hangs up mid-download is not an internal error (no 500 logged per hang-up)', async () => {
  const logged: string[] = [];
  const logError = console.error;
  console.error = (...args: unknown[]) => { logged.push(args.map(String).join(' ')); };
  try {
    for (let i = 0; i < 3; i++) {
      // onnxruntime-web's .wasm is megabytes: the client leaves after its first chunk, the server is mid-pipeline
      await new Promise<void>((resolve, reject) => {
        const req = http.get(`${built.url}/ort/ort-wasm-simd-threaded.jsep.wasm`, { agent: false }, (res) => {
          res.once('data', () => { req.destroy(); resolve(); });
        });
        req.on('error', (err) => { if (!req.destroyed) reject(err); });
      });
    }
    await new Promise((r) => setTimeout(r, 300)); // the server notices the closed sockets
    assert.deepEqual(logged.filter((l) => /internal error/.test(l)), []);
    assert.equal((await fetch(`${built.url}/app.css`)).status, 200, 'and it keeps serving');
  } finally {
    console.error = logError;
  }
});
