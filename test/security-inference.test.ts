// Security items 3, 4, 6, 8, 9 and 17 (docs/security.md): inference and serving cannot be abused. Each test is an
// exploit attempt or a real fault over real HTTP against the real platform, on the real student bundle.
//   #3  one GraphQL operation runs at most one infer; one admission gate (503 + Retry-After) on every inference
//       path; Query.infer shares the per-key rate limit and the body cap; images are checked from their header
//   #4  blobs of other than image/archive types are served as sandboxed attachments; the dashboard has a strict CSP
//   #6  a gzip-bomb bundle is refused at RIL_MAX_BUNDLE_BYTES
//   #8  a deploy switch while a request holds the old runtime: the request finishes on it
//   #9  loaded runtimes are capped (LRU) and a failed deploy releases what it loaded
//   #17 Deployment.error shows no internal message
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { archiveCheck, DeploymentService } from '../api/_lib/deployments/service.js';
import { studentBundle, findPython, type BundleFixture, longestAnswer } from './helpers/bundle.js';
import { deploy, post, registerBundle, uploadBlob } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { until } from './helpers/until.js';

const { reason } = findPython();

const INFER_Q = `query($i: InferInput!) { infer(input: $i) { answer revision tokenIds } }`;

/** The same bundle as another blob (a different gzip encoding of the same tar): another sha256, another runtime. */
const variant = (archive: Buffer, level: number) => zlib.gzipSync(zlib.gunzipSync(archive), { level });

/** A PNG header (signature + IHDR) that declares width x height, followed by no pixel data at all. */
function pngHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const type = Buffer.from('IHDR');
  const crc = zlib.crc32(Buffer.concat([type, ihdr]));
  const len = Buffer.alloc(4); len.writeUInt32BE(13);
  const crcBuf = Buffer.alloc(4); crcBuf.writeUInt32BE(crc >>> 0);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, type, ihdr, crcBuf]);
}

describe('security: inference and serving', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;
  let ex: BundleFixture['torch'][number];
  let body: { deployment: string; image: string; question: string; max_tokens: number };
  const image = (rel: string) => fs.readFileSync(path.join(fx.data, rel)).toString('base64');

  before(async () => {
    fx = await studentBundle();
    ex = longestAnswer(fx);
    // one request at a time and one waiting: the admission gate is easy to fill
    t = await startTestServer({
      RIL_INFER_RATE_LIMIT: '1000', RIL_INFER_RATE_BURST: '1000', RIL_INFER_CONCURRENCY: '1', RIL_INFER_QUEUE: '1',
      RIL_INFER_MAX_BODY_BYTES: '200000', RIL_DEPLOYMENT_REFRESH_MS: '0',
    });
    const art = await registerBundle(t, fx.archive);
    assert.equal(art.errors, undefined, JSON.stringify(art.errors));
    const d = await deploy(t, 'fm', art.data.registerArtifact.id);
    assert.equal(d.errors, undefined, JSON.stringify(d.errors));
    body = { deployment: 'fm', image: image(ex.image), question: ex.question, max_tokens: 32 };
  });
  after(async () => { await t?.close(); });

  test('#3 one GraphQL operation cannot run infer more than once (aliases, fragments)', async () => {
    const before = (await t.gql('{ deployment(name: "fm") { latency { requests } } }')).data.deployment.latency.requests;
    const input = { deployment: 'fm', image: body.image, question: ex.question, maxTokens: 4 };
    const aliased = await t.gql(`query($i: InferInput!) { a: infer(input: $i) { answer } b: infer(input: $i) { answer } c: infer(input: $i) { answer } }`, { i: input });
    assert.equal(aliased.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(aliased));
    assert.match(aliased.errors![0].message, /may select infer once/);
    assert.equal(aliased.data, undefined);
    const fragments = await t.gql(`query($i: InferInput!) { ...F ... on Query { x: infer(input: $i) { answer } } }
      fragment F on Query { y: infer(input: $i) { answer } }`, { i: input });
    assert.equal(fragments.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
    const after = (await t.gql('{ deployment(name: "fm") { latency { requests } } }')).data.deployment.latency.requests;
    assert.equal(after, before, 'no inference ran');
    const one = await t.gql(INFER_Q, { i: input });
    assert.equal(one.errors, undefined, JSON.stringify(one.errors));
  });

  test('#3 every inference path waits at one admission gate: a full queue answers 503 with Retry-After', async () => {
    const gate = t.platform.inference.gate;
    const hold = await gate.acquire(); // the only slot, as a long request would hold it
    try {
      const queued = post(t, '/v1/infer', body); // takes the only place in the queue
      await until(() => gate.load.queued === 1, 'the request to queue');
      const infer = await post(t, '/v1/infer', body);
      assert.equal(infer.status, 503, infer.text);
      assert.equal(infer.json.error.code, 'SERVICE_UNAVAILABLE');
      assert.ok(Number(infer.headers.get('retry-after')) >= 1);
      const chat = await post(t, '/v1/chat/completions', {
        model: 'fm', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: ex.question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${body.image}` } }] }],
      });
      assert.equal(chat.status, 503, chat.text);
      assert.ok(Number(chat.headers.get('retry-after')) >= 1);
      const streamed = await post(t, '/v1/infer', { ...body, stream: true });
      assert.equal(streamed.status, 503);
      const res = await fetch(`${t.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` },
        body: JSON.stringify({ query: INFER_Q, variables: { i: { deployment: 'fm', image: body.image, question: ex.question } } }),
      });
      const g = await res.json() as any;
      assert.equal(g.errors?.[0]?.extensions?.code, 'SERVICE_UNAVAILABLE', JSON.stringify(g));
      assert.equal(res.status, 503);
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      hold();
      const done = await queued;
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(done.json.token_ids, ex.tokens.slice(0, 32));
    } finally {
      hold();
    }
    assert.deepEqual(gate.load, { active: 0, queued: 0 });
  });

  test('#3 a client that hangs up while its request waits leaves the queue at once (streamed or not, Query.infer too)', async () => {
    // before, only a streamed request listened for its client: a plain one stayed queued (and then generated all
    // its tokens) for nobody, so clients that send and hang up could keep the queue full for everyone else
    const gate = t.platform.inference.gate;
    const hold = await gate.acquire();
    const logged: string[] = [];
    const logError = console.error;
    console.error = (...args: unknown[]) => { logged.push(args.map(String).join(' ')); };
    try {
      const chatBody = { model: 'fm', max_tokens: 8, messages: [{ role: 'user', content: [{ type: 'text', text: ex.question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${body.image}` } }] }] };
      const gqlBody = { query: INFER_Q, variables: { i: { deployment: 'fm', image: body.image, question: ex.question } } };
      for (const [route, payload] of [['/v1/infer', body], ['/v1/chat/completions', chatBody], ['/v1/infer', { ...body, stream: true }], ['/graphql', gqlBody]] as const) {
        const req = http.request(`${t.url}${route}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` } });
        req.on('error', () => {});
        req.end(JSON.stringify(payload));
        await until(() => gate.load.queued === 1, `the ${route} request to queue`);
        req.destroy();
        await until(() => gate.load.queued === 0, `the abandoned ${route} request to leave the queue`, 5000);
      }
      // its place is free: the next request queues while the slot is still held, and is answered once it is free
      const next = post(t, '/v1/infer', body);
      await until(() => gate.load.queued === 1, 'the next request to queue');
      hold();
      const done = await next;
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(logged.filter((l) => /internal error/.test(l)), [], 'a hang-up is not an internal error');
    } finally {
      hold();
      console.error = logError;
    }
    assert.deepEqual(gate.load, { active: 0, queued: 0 });
  });

  test('#3 images are checked from their header before decoding: bombs and SVG are refused', async () => {
    const bomb = await post(t, '/v1/infer', { ...body, image: pngHeader(30_000, 30_000).toString('base64') });
    assert.equal(bomb.status, 400);
    assert.match(bomb.json.error.message, /30000x30000, more than the limit of 16777216 pixels \(RIL_INFER_MAX_IMAGE_PIXELS\)/);
    // under the cap, the header is believed only as far as sharp's own limit: no pixel data, nothing decoded
    const big = await post(t, '/v1/infer', { ...body, image: pngHeader(2000, 2000).toString('base64') });
    assert.equal(big.status, 400);
    assert.match(big.json.error.message, /could not be decoded/);
    // an SVG of the right size would be rendered by librsvg: it is not a format the model takes
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><rect width="28" height="28" fill="#888"/></svg>');
    const s = await post(t, '/v1/infer', { ...body, image: svg.toString('base64') });
    assert.equal(s.status, 400, s.text);
    assert.match(s.json.error.message, /svg; send a PNG, JPEG, WebP/);
  });

  test('#3 Query.infer has the same body cap as /v1/infer', async () => {
    const huge = 'A'.repeat(300_000);
    const r = await t.gql(INFER_Q, { i: { deployment: 'fm', image: huge, question: 'what?' } });
    assert.equal(r.errors?.[0].extensions?.code, 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, /more than the inference limit of 200000 \(RIL_INFER_MAX_BODY_BYTES\)/);
    assert.equal((await post(t, '/v1/infer', { ...body, image: huge })).status, 413);
  });

  test('#4 blobs: only image and archive types are served inline; anything else is a sandboxed attachment', async () => {
    const html = Buffer.from(`<html><script>fetch('/graphql',{headers:{authorization:localStorage.key}})</script></html>`);
    const sha = crypto.createHash('sha256').update(html).digest('hex');
    const put = await fetch(`${t.url}/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'text/html' }, body: html });
    assert.ok(put.status < 300, await put.text());
    const get = await fetch(`${t.url}/blobs/${sha}`, { headers: { authorization: `Bearer ${await t.keyFor('VIEWER')}` } });
    assert.equal(get.status, 200);
    assert.equal(get.headers.get('content-type'), 'application/octet-stream');
    assert.equal(get.headers.get('content-disposition'), 'attachment');
    assert.equal(get.headers.get('content-security-policy'), 'sandbox');
    assert.equal(get.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await get.text(), html.toString());
    // the signed URL (what an <img> or a link in the dashboard uses) is served the same way
    const url = await t.gql(`query($s: String!) { blobDownloadUrl(sha256: $s) { url } }`, { s: sha });
    assert.equal(url.errors, undefined, JSON.stringify(url.errors));
    const signed = await fetch(new URL(url.data.blobDownloadUrl.url, t.url));
    assert.equal(signed.status, 200);
    assert.equal(signed.headers.get('content-type'), 'application/octet-stream');
    assert.equal(signed.headers.get('content-security-policy'), 'sandbox');
    // an SVG (script inside an image type) too
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    const svgSha = crypto.createHash('sha256').update(svg).digest('hex');
    await fetch(`${t.url}/blobs/${svgSha}`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'image/svg+xml' }, body: svg });
    const s = await fetch(`${t.url}/blobs/${svgSha}`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    assert.equal(s.headers.get('content-type'), 'application/octet-stream');
    assert.equal(s.headers.get('content-disposition'), 'attachment');
    // a PNG stays inline, with nosniff
    const png = Buffer.from(body.image, 'base64');
    const pngSha = await uploadBlobAs(t, png, 'image/png');
    const p = await fetch(`${t.url}/blobs/${pngSha}`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    assert.equal(p.headers.get('content-type'), 'image/png');
    assert.equal(p.headers.get('content-disposition'), null);
    assert.equal(p.headers.get('x-content-type-options'), 'nosniff');
    // keys are never accepted in the URL
    assert.equal((await fetch(`${t.url}/blobs/${pngSha}?key=${encodeURIComponent(t.adminKey)}`)).status, 401);
  });

  test('#4 the dashboard has a strict Content-Security-Policy, in ril serve and in vercel.json', async () => {
    const res = await fetch(`${t.url}/`);
    const csp = res.headers.get('content-security-policy');
    assert.ok(csp, 'a CSP header');
    const directives = Object.fromEntries(csp!.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
    // scripts from this origin only; 'wasm-unsafe-eval' lets it compile WebAssembly (onnxruntime-web, on-device
    // inference) and nothing more: no JavaScript eval, no inline script
    assert.deepEqual(directives['script-src'], ["'self'", "'wasm-unsafe-eval'"]);
    assert.deepEqual(directives['default-src'], ["'none'"]);
    assert.deepEqual(directives['connect-src'], ["'self'"]);
    assert.deepEqual(directives['frame-ancestors'], ["'none'"]);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const vercel = JSON.parse(fs.readFileSync(new URL('../vercel.json', import.meta.url), 'utf8'));
    for (const source of ['/', '/(index.html|app.js|app.css)']) {
      const rule = vercel.headers?.find((h: { source: string }) => h.source === source);
      const v = rule?.headers.find((h: { key: string }) => h.key === 'Content-Security-Policy')?.value as string | undefined;
      assert.ok(v, `vercel.json sets a CSP on ${source}`);
      assert.match(v!, /script-src 'self' 'wasm-unsafe-eval';/);
      assert.match(v!, /default-src 'none'/);
      assert.doesNotMatch(v!, /script-src[^;]*'unsafe-(eval|inline)'/);
    }
  });

  test('#8 a deploy switch while a request holds the old runtime: the request finishes on it', async () => {
    const gate = t.platform.inference.gate;
    const [oldSha] = t.platform.inference.loadedRuntimes();
    const old = await t.platform.inference.runtimeFor(oldSha);
    const hold = await gate.acquire();
    let released = false;
    try {
      // the request resolves revision 1's runtime, then waits for its turn (as it would while another preprocesses)
      const pending = post(t, '/v1/infer', body);
      await until(() => gate.load.queued === 1, 'the request to queue');
      const art = await registerBundle(t, variant(fx.archive, 1), 'student-v2');
      const d = await deploy(t, 'fm', art.data.registerArtifact.id, 'switch');
      assert.equal(d.errors, undefined, JSON.stringify(d.errors));
      assert.equal(d.data.deploy.liveRevision.revision, 2);
      assert.ok(old.isRetired, 'the old runtime takes no new requests');
      assert.equal(old.isReleased, false, 'but is not released under the request that holds it');
      hold();
      released = true;
      const r = await pending;
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.revision, 1, 'finished on the runtime it resolved');
      assert.deepEqual(r.json.token_ids, ex.tokens.slice(0, 32));
      await until(() => old.isReleased, 'the old runtime to be released after its last request');
      const next = await post(t, '/v1/infer', body);
      assert.equal(next.json.revision, 2);
    } finally {
      if (!released) hold();
    }
  });
});

/** PUT a blob with a content type of the test's choosing. */
async function uploadBlobAs(t: TestServer, bytes: Buffer, contentType: string): Promise<string> {
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  const r = await fetch(`${t.url}/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': contentType }, body: new Uint8Array(bytes) });
  assert.ok(r.status < 300, await r.text());
  return sha;
}

describe('security: runtimes, archives and errors', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;

  before(async () => {
    fx = await studentBundle();
    t = await startTestServer({
      RIL_INFER_MAX_RUNTIMES: '1', RIL_MAX_BUNDLE_BYTES: String(4 * 1024 * 1024), RIL_DEPLOYMENT_REFRESH_MS: '0',
      RIL_INFER_RATE_LIMIT: '0.001', RIL_INFER_RATE_BURST: '2',
    });
  });
  after(async () => { await t?.close(); });

  test('#6 a gzip bomb registered as a bundle is refused at RIL_MAX_BUNDLE_BYTES', async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }); // ~64 KiB that unpacks to 64 MiB
    const sha = await uploadBlob(t, bomb);
    const t0 = performance.now();
    const r = await t.gql(`mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }`, { i: { blobSha256: sha, kind: 'BUNDLE', name: 'bomb' } });
    assert.equal(r.errors?.[0].extensions?.code, 'BAD_USER_INPUT', JSON.stringify(r.errors));
    assert.match(r.errors![0].message, /unpacks to more than 4194304 bytes \(RIL_MAX_BUNDLE_BYTES\)/);
    assert.ok(performance.now() - t0 < 5000);
    // a real bundle under the cap still registers
    const ok = await registerBundle(t, fx.archive);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
  });

  test('#9 loaded runtimes are capped (least recently used idle one released) and reload on demand', async () => {
    const a = await registerBundle(t, variant(fx.archive, 2), 'a');
    const b = await registerBundle(t, variant(fx.archive, 3), 'b');
    assert.equal((await deploy(t, 'da', a.data.registerArtifact.id)).errors, undefined);
    const shaA = t.platform.inference.loadedRuntimes()[0];
    const rtA = await t.platform.inference.runtimeFor(shaA);
    assert.equal((await deploy(t, 'db', b.data.registerArtifact.id)).errors, undefined);
    const loaded = t.platform.inference.loadedRuntimes();
    assert.equal(loaded.length, 1, `RIL_INFER_MAX_RUNTIMES=1, loaded: ${loaded}`);
    assert.notEqual(loaded[0], shaA);
    await until(() => rtA.isReleased, 'the evicted runtime to be released');
    const dep = await t.gql('{ deployment(name: "da") { status } }');
    assert.equal(dep.data.deployment.status, 'STANDBY');
    // the evicted deployment still answers: its runtime loads again (and the other one goes)
    const key = await t.keyFor('INFERENCE');
    const ex = fx.torch[0];
    const r = await post(t, '/v1/infer', { deployment: 'da', image: fs.readFileSync(path.join(fx.data, ex.image)).toString('base64'), question: ex.question, max_tokens: 32 }, key);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.token_ids, ex.tokens);
    assert.deepEqual(t.platform.inference.loadedRuntimes(), [shaA]);
  });

  test('#3 Query.infer counts against the same per-key rate limit as /v1/infer', async () => {
    const ok = await registerBundle(t, fx.archive, 'rl');
    assert.equal((await deploy(t, 'rl', ok.data.registerArtifact.id)).errors, undefined);
    const key = await t.keyFor('INFERENCE');
    const ex = fx.torch[0];
    const img = fs.readFileSync(path.join(fx.data, ex.image)).toString('base64');
    assert.equal((await post(t, '/v1/infer', { deployment: 'rl', image: img, question: ex.question, max_tokens: 4 }, key)).status, 200);
    const q = { i: { deployment: 'rl', image: img, question: ex.question, maxTokens: 4 } };
    assert.equal((await t.gql(INFER_Q, q, key)).errors, undefined);
    const third = await t.gql(INFER_Q, q, key); // the burst of 2 is spent, whichever path spent it
    assert.equal(third.errors?.[0].extensions?.code, 'TOO_MANY_REQUESTS', JSON.stringify(third));
    assert.equal((await post(t, '/v1/infer', { deployment: 'rl', image: img, question: ex.question, max_tokens: 4 }, key)).status, 429);
  });

  test('#9 a deploy whose transaction fails releases the runtime it loaded', async () => {
    const { prisma, provider } = t.platform.db;
    if (provider === 'sqlite') {
      await prisma.$executeRawUnsafe(`CREATE TRIGGER ril_test_fault BEFORE INSERT ON "DeploymentRevision" BEGIN SELECT RAISE(ABORT, 'injected fault'); END`);
    } else {
      await prisma.$executeRawUnsafe(`CREATE FUNCTION ril_test_fault() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'injected fault'; END $$ LANGUAGE plpgsql`);
      await prisma.$executeRawUnsafe(`CREATE TRIGGER ril_test_fault BEFORE INSERT ON "DeploymentRevision" FOR EACH ROW EXECUTE FUNCTION ril_test_fault()`);
    }
    try {
      const c = await registerBundle(t, variant(fx.archive, 4), 'c');
      const d = await deploy(t, 'dc', c.data.registerArtifact.id);
      assert.ok(d.errors?.length, JSON.stringify(d)); // the injected fault (how Prisma words it differs by provider)
      const sha = (await t.gql(`query($id: ID!) { artifact(id: $id) { blobSha256 } }`, { id: c.data.registerArtifact.id })).data.artifact.blobSha256;
      assert.ok(!t.platform.inference.loadedRuntimes().includes(sha), 'the failed deploy\'s runtime is not kept');
      assert.equal((await t.gql('{ deployment(name: "dc") { name } }')).data.deployment, null, 'nothing was written');
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER ril_test_fault${provider === 'sqlite' ? '' : ' ON "DeploymentRevision"'}`);
      if (provider !== 'sqlite') await prisma.$executeRawUnsafe(`DROP FUNCTION ril_test_fault()`);
    }
  });

  test('#17 Deployment.error and a failed request show no internal message', async () => {
    // a bundle whose files match its manifest but whose prefill graph is not ONNX: it passes the archive check
    // (what the GraphQL function runs at deploy time) and fails in onnxruntime when an instance loads it
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bad-bundle-'));
    fs.cpSync(fx.bundleDir, path.join(dir, 'student'), { recursive: true });
    const manifestPath = path.join(dir, 'student', 'manifest.json');
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    const junk = crypto.randomBytes(4096);
    const prefill = manifest.graphs.prefill.file as string;
    fs.writeFileSync(path.join(dir, 'student', prefill), junk);
    manifest.files[prefill] = { sha256: crypto.createHash('sha256').update(junk).digest('hex'), bytes: junk.length };
    fs.writeFileSync(manifestPath, JSON.stringify(manifest));
    execFileSync('tar', ['-C', dir, '-czf', path.join(dir, 'b.tar.gz'), 'student']);
    const art = await registerBundle(t, fs.readFileSync(path.join(dir, 'b.tar.gz')), 'bad');
    assert.equal(art.errors, undefined, JSON.stringify(art.errors));
    await new DeploymentService(t.platform, archiveCheck(t.platform)).deploy({ name: 'broken', artifactId: art.data.registerArtifact.id });
    const ex = fx.torch[0];
    const r = await post(t, '/v1/infer', { deployment: 'broken', image: fs.readFileSync(path.join(fx.data, ex.image)).toString('base64'), question: ex.question }, await t.keyFor('INFERENCE'));
    assert.equal(r.status, 500);
    assert.equal(r.json.error.message, 'internal server error');
    const dep = await t.gql('{ deployment(name: "broken") { status error } }');
    assert.equal(dep.data.deployment.status, 'FAILED');
    assert.match(dep.data.deployment.error, /could not be loaded by this instance \(see the server log\)/);
    assert.doesNotMatch(dep.data.deployment.error, /onnx|protobuf|\/tmp|\.ril|bundles/i);
  });
});
