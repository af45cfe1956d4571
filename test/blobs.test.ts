// The local blob store over HTTP: PUT/GET /blobs/<sha256>, direct uploads (createBlobUpload -> PUT ->
// completeBlobUpload), signed download URLs, and the start-up checks of the blob configuration.
// The S3 store has its own file (blobs-s3.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { sha256 } from '../api/_lib/blobs/store.js';
import type { LocalBlobStore } from '../api/_lib/blobs/local.js';
import { createBlobStore } from '../api/_lib/blobs/index.js';
import { SIGNING_KEY_FILE, UrlSigner } from '../api/_lib/blobs/signing.js';
import { loadEnv } from '../api/_lib/env.js';
import { openTestDatabase } from './helpers/db.js';
import { RilClient } from '../clients/sdk/src/index.js';
import { leftover } from './helpers/fixtures.js';
import { until } from './helpers/until.js';

let t: TestServer;
let store: LocalBlobStore;
before(async () => {
  t = await startTestServer({ RIL_MAX_BLOB_BYTES: '1024', RIL_BLOB_STORE: 'local' });
  store = t.platform.blobs as LocalBlobStore;
});
after(async () => { await t.close(); });

const put = (hash: string, body: Buffer, key: string | null = t.adminKey) =>
  fetch(`${t.url}/blobs/${hash}`, { method: 'PUT', body: new Uint8Array(body), headers: key ? { authorization: `Bearer ${key}` } : {} });
const bearer = (key = t.adminKey) => ({ authorization: `Bearer ${key}` });

const CREATE = `mutation($i: CreateBlobUploadInput!) { createBlobUpload(input: $i) { sha256 alreadyExists url method headers expiresAt } }`;
const COMPLETE = `mutation($s: String!) { completeBlobUpload(sha256: $s) { sha256 size contentType createdAt } }`;
const DOWNLOAD = `query($s: String!) { blobDownloadUrl(sha256: $s) { url expiresAt } }`;

/** The URL-signing key the server generated (embedded: $RIL_HOME/url-signing.key). */
const signer = () => new UrlSigner(Buffer.from(fs.readFileSync(path.join(t.home, SIGNING_KEY_FILE), 'utf8').trim(), 'hex'));

describe('blob store over HTTP', () => {
  test('PUT verifies the hash, is idempotent, GET returns the bytes', async () => {
    const body = Buffer.from('hello blobs');
    const hash = sha256(body);
    const first = await put(hash, body);
    assert.equal(first.status, 201);
    assert.equal((await put(hash, body)).status, 200);
    const got = await fetch(`${t.url}/blobs/${hash}`, { headers: bearer() });
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: hash } }), 1);
  });

  test('a body that does not match its hash is refused and not kept', async () => {
    const wrong = sha256(Buffer.from('something else'));
    const r = await put(wrong, Buffer.from('hello'));
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /does not match/);
    assert.equal(fs.existsSync(store.pathOf(wrong)), false);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: wrong } }), 0);
    assert.deepEqual(fs.readdirSync(`${store.dir}/tmp`), [], 'no temp file left behind');
  });

  test('oversize uploads get 413', async () => {
    const big = Buffer.alloc(2048, 1);
    const r = await put(sha256(big), big);
    assert.equal(r.status, 413);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: sha256(big) } }), 0);
  });

  test('exploit: chunked bodies far over the limit, sent again and again, do not crash the server', async () => {
    // The local store once destroyed its temporary file's write stream with an fs write in flight: that write's
    // ERR_STREAM_DESTROYED became an uncaught exception a little later, which kills a `ril serve` process.
    const uncaught: Error[] = [];
    const catcher = (err: Error) => { uncaught.push(err); };
    process.on('uncaughtException', catcher);
    try {
      const chunked = () => new ReadableStream({ start(ctl) { for (let i = 0; i < 16; i++) ctl.enqueue(new Uint8Array(64 << 10)); ctl.close(); } });
      const statuses = new Set<number>();
      for (let i = 0; i < 12; i++) {
        try {
          const r = await fetch(`${t.url}/blobs/${'b'.repeat(64)}`, { method: 'PUT', headers: bearer(), body: chunked(), duplex: 'half' } as RequestInit);
          statuses.add(r.status);
          await r.arrayBuffer();
        } catch { statuses.add(0); } // a reset: counted, and refused below
      }
      await new Promise((r) => setTimeout(r, 300)); // the late fs callbacks land within milliseconds
      assert.deepEqual(uncaught.map((e) => e.message), []);
      assert.deepEqual([...statuses], [413], 'each one is answered 413, none waits for a keep-alive timeout or meets a reset');
      // on a new connection: the pooled ones may be the ones the server cut
      const health = await new Promise<number>((resolve, reject) => http.get(`${t.url}/healthz`, { agent: false }, (r) => { r.resume(); resolve(r.statusCode ?? 0); }).on('error', reject));
      assert.equal(health, 200, 'the server is still up');
      assert.deepEqual(fs.readdirSync(t.home, { recursive: true }).filter((f) => path.basename(String(f)).startsWith('b'.repeat(64))), [], 'no temporary file is left');
    } finally {
      process.off('uncaughtException', catcher);
    }
  });

  test('auth: no key 401, inference key 403, unknown blob 404, bad hash 400', async () => {
    const body = Buffer.from('x');
    assert.equal((await put(sha256(body), body, null)).status, 401);
    assert.equal((await put(sha256(body), body, await t.keyFor('INFERENCE'))).status, 403);
    assert.equal((await fetch(`${t.url}/blobs/${'0'.repeat(64)}`, { headers: bearer() })).status, 404);
    assert.equal((await fetch(`${t.url}/blobs/not-a-hash`, { headers: bearer() })).status, 400);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });

  test('API keys in the query string (?key=) no longer authenticate, anywhere', async () => {
    const body = Buffer.from('no keys in urls');
    const hash = sha256(body);
    assert.equal((await put(hash, body)).status, 201);
    const r = await fetch(`${t.url}/blobs/${hash}?key=${t.adminKey}`);
    assert.equal(r.status, 401);
    assert.equal((await r.json()).error.code, 'UNAUTHENTICATED');
    assert.equal((await fetch(`${t.url}/blobs/${hash}?key=${t.adminKey}`, { method: 'PUT', body: new Uint8Array(body) })).status, 401);
    const g = await fetch(`${t.url}/graphql?key=${t.adminKey}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ me { id } }' }) });
    assert.equal((await g.json()).errors[0].extensions.code, 'UNAUTHENTICATED');
  });

  test('a blob whose file is missing answers 404 (GET, HEAD, signed GET), and the server keeps serving', async () => {
    const body = Buffer.from('soon gone');
    const hash = sha256(body);
    assert.equal((await put(hash, body)).status, 201);
    const { data } = await t.gql(DOWNLOAD, { s: hash });
    fs.rmSync(store.pathOf(hash));
    const got = await fetch(`${t.url}/blobs/${hash}`, { headers: bearer() });
    assert.equal(got.status, 404);
    assert.match((await got.json()).error.message, /not found/);
    assert.equal((await fetch(`${t.url}/blobs/${hash}`, { method: 'HEAD', headers: bearer() })).status, 404);
    assert.equal((await fetch(`${t.url}${data.blobDownloadUrl.url}`)).status, 404);
    await assert.rejects(store.openRead(hash), (err: any) => err.extensions.code === 'NOT_FOUND');
    await assert.rejects(store.read(hash), (err: any) => err.extensions.code === 'NOT_FOUND');
    assert.equal(await store.has(hash), false);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });
});

describe('direct uploads and signed downloads (local store)', () => {
  test('createBlobUpload -> PUT to the API with the bearer key -> completeBlobUpload; then alreadyExists', async () => {
    const body = Buffer.from('direct upload, local');
    const hash = sha256(body);
    const worker = await t.keyFor('WORKER');
    const up = await t.gql(CREATE, { i: { sha256: hash, size: body.length, contentType: 'text/plain' } }, worker);
    assert.equal(up.errors, undefined);
    assert.deepEqual(up.data.createBlobUpload, { sha256: hash, alreadyExists: false, url: `/blobs/${hash}`, method: 'PUT', headers: { 'content-type': 'text/plain' }, expiresAt: null });
    const sent = await fetch(`${t.url}${up.data.createBlobUpload.url}`, { method: 'PUT', headers: { ...up.data.createBlobUpload.headers, ...bearer(worker) }, body: new Uint8Array(body) });
    assert.equal(sent.status, 201);
    const done = await t.gql(COMPLETE, { s: hash }, worker);
    assert.equal(done.data.completeBlobUpload.size, body.length);
    assert.equal(done.data.completeBlobUpload.contentType, 'text/plain');
    const again = await t.gql(CREATE, { i: { sha256: hash, size: body.length } });
    assert.deepEqual(again.data.createBlobUpload, { sha256: hash, alreadyExists: true, url: null, method: 'PUT', headers: {}, expiresAt: null });
    assert.equal(errorCode(await t.gql(CREATE, { i: { sha256: hash, size: body.length + 1 } })), 'BAD_USER_INPUT', 'a stored blob with another size');
    assert.equal((await t.gql(COMPLETE, { s: hash })).data.completeBlobUpload.sha256, hash, 'complete is idempotent');
  });

  test('createBlobUpload checks the hash, the size limit and the content type; complete needs an upload; roles', async () => {
    const hash = sha256(Buffer.from('never sent'));
    const bad = async (input: object) => {
      const r = await t.gql(CREATE, { i: input });
      assert.equal(errorCode(r), 'BAD_USER_INPUT', JSON.stringify(input));
      return r.errors![0].message;
    };
    assert.match(await bad({ sha256: 'ABC', size: 1 }), /not a sha256/);
    assert.match(await bad({ sha256: hash.toUpperCase(), size: 1 }), /not a sha256/);
    assert.match(await bad({ sha256: hash, size: 1025 }), /limit is 1024/);
    assert.match(await bad({ sha256: hash, size: -1 }), /size/);
    assert.match(await bad({ sha256: hash, size: 3, contentType: 'text/plain\r\nx-evil: 1' }), /content type/);
    const none = await t.gql(COMPLETE, { s: hash });
    assert.equal(errorCode(none), 'BAD_USER_INPUT');
    assert.match(none.errors![0].message, /nothing has been uploaded/);
    assert.equal(errorCode(await t.gql(CREATE, { i: { sha256: hash, size: 1 } }, await t.keyFor('VIEWER'))), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(COMPLETE, { s: hash }, await t.keyFor('INFERENCE'))), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(DOWNLOAD, { s: hash }, await t.keyFor('INFERENCE'))), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(DOWNLOAD, { s: hash }, await t.keyFor('VIEWER'))), 'NOT_FOUND');
  });

  test('a signed download URL serves the blob without a key; forged, expired or borrowed signatures are refused', async () => {
    const body = Buffer.from('signed download');
    const hash = sha256(body);
    await store.put(body, 'text/plain');
    const other = await store.put(Buffer.from('another blob'), 'text/plain');
    const r = await t.gql(DOWNLOAD, { s: hash }, await t.keyFor('VIEWER'));
    const { url, expiresAt } = r.data.blobDownloadUrl;
    assert.match(url, new RegExp(`^/blobs/${hash}\\?exp=\\d+&sig=[\\w-]+$`));
    const left = Date.parse(expiresAt) - Date.now();
    // signed as of the start of a 5-minute window: between 55 and 60 minutes left (less the time since the server
    // answered, should the window end in between)
    assert.ok(left > 55 * 60_000 - 5_000 && left <= 3600_000, `valid for about an hour (${left} ms)`);
    const got = await fetch(`${t.url}${url}`);
    assert.equal(got.status, 200);
    // not an image or archive type: served as a sandboxed attachment (security item #4)
    assert.equal(got.headers.get('content-type'), 'application/octet-stream');
    assert.equal(got.headers.get('content-disposition'), 'attachment');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    assert.equal((await fetch(`${t.url}${url}`, { method: 'HEAD' })).status, 200);
    // stable within its signing window (cacheable); if the window turned since `url` was made (CI saw it once), the
    // next two requests share the new one
    const again = async () => (await t.gql(DOWNLOAD, { s: hash })).data.blobDownloadUrl.url as string;
    const [a, b] = [await again(), await again()];
    assert.ok(a === url || a === b, `stable within its window (cacheable): ${url} / ${a} / ${b}`);

    const q = new URL(url, t.url).searchParams;
    const exp = Number(q.get('exp'));
    const sig = q.get('sig')!;
    const forged = sig.slice(0, -2) + (sig.endsWith('AA') ? 'BB' : 'AA');
    const refused = async (target: string) => {
      const res = await fetch(`${t.url}${target}`);
      assert.equal(res.status, 403, target);
      assert.match((await res.json()).error.message, /invalid or has expired/);
    };
    await refused(`/blobs/${hash}?exp=${exp}&sig=${forged}`);
    await refused(`/blobs/${hash}?exp=${exp + 3600}&sig=${sig}`); // extended expiry
    await refused(`/blobs/${other}?exp=${exp}&sig=${sig}`); // another blob
    await refused(`/blobs/${hash}?exp=${exp}`);
    await refused(`/blobs/${hash}?sig=${sig}`);
    const past = Math.floor(Date.now() / 1000) - 1;
    await refused(`/blobs/${hash}?exp=${past}&sig=${signer().signBlob(hash, past)}`); // genuine but expired
    const soon = Math.floor(Date.now() / 1000) + 60;
    assert.equal((await fetch(`${t.url}/blobs/${hash}?exp=${soon}&sig=${signer().signBlob(hash, soon)}`)).status, 200, 'the server\'s own key file signs');
    assert.equal((await fetch(`${t.url}/blobs/${hash}?exp=${soon}&sig=${signer().signBlob(hash, soon)}`, { method: 'PUT', body: new Uint8Array(body) })).status, 401, 'a signature never authorises a PUT');
  });

  test('the URL-signing key is generated once, 0600, and survives a restart', async () => {
    const file = path.join(t.home, SIGNING_KEY_FILE);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const before = fs.readFileSync(file, 'utf8');
    const hash = await store.put(Buffer.from('restart'), 'text/plain');
    const { url } = (await t.gql(DOWNLOAD, { s: hash })).data.blobDownloadUrl;
    const again = await createBlobStore(loadEnv({ RIL_HOME: t.home }), t.platform.db.prisma);
    assert.ok(again.verifySignedUrl(hash, new URL(url, t.url).searchParams.get('exp'), new URL(url, t.url).searchParams.get('sig')));
    assert.equal(fs.readFileSync(file, 'utf8'), before);
  });

  test('Example.imageUrl is a signed URL an <img> can load without a key', async () => {
    const { writeDataset } = await import('./helpers/fixtures.js');
    const { file } = await writeDataset(2, { images: 1 });
    const ds = await t.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { name: 'blob-images', path: file } });
    assert.equal(ds.errors, undefined);
    const r = await t.gql(`query($id: ID!) { dataset(id: $id) { examples(first: 2) { edges { node { imageSha256 imageUrl } } } } }`, { id: ds.data.importDataset.id });
    const node = r.data.dataset.examples.edges[0].node;
    assert.match(node.imageUrl, new RegExp(`^/blobs/${node.imageSha256}\\?exp=\\d+&sig=`));
    const img = await fetch(`${t.url}${node.imageUrl}`);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.equal(sha256(Buffer.from(await img.arrayBuffer())), node.imageSha256);
  });

  test('SDK: putBlob runs createBlobUpload -> PUT -> completeBlobUpload (no PUT when it exists); blobUrl is signed', async () => {
    const calls: string[] = [];
    const sdk = new RilClient({ url: t.url, apiKey: await t.keyFor('EDITOR'), fetch: (input, init) => { calls.push(`${init?.method ?? 'GET'} ${String(input).replace(t.url, '')}`); return fetch(input, init); } });
    const body = new TextEncoder().encode('from the sdk');
    const hash = await sdk.putBlob(body, 'text/plain');
    assert.equal(hash, sha256(body));
    assert.deepEqual(calls, ['POST /graphql', `PUT /blobs/${hash}`, 'POST /graphql']);
    calls.length = 0;
    assert.equal(await sdk.putBlob(body, 'text/plain'), hash);
    assert.deepEqual(calls, ['POST /graphql', 'POST /graphql'], 'already stored: nothing sent');
    const url = await sdk.blobUrl(hash);
    assert.ok(url.startsWith(`${t.url}/blobs/${hash}?exp=`) && !url.includes('key='), url);
    assert.equal(await (await fetch(url)).text(), 'from the sdk');
  });
});

describe('blob store configuration (start-up checks)', () => {
  test('the local store makes no directory until its first write', async () => {
    const db = await openTestDatabase();
    try {
      const home = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-lazy-')), 'home');
      const blobs = await createBlobStore(loadEnv({ RIL_HOME: home }), db.prisma);
      const hash = sha256(Buffer.from('lazy'));
      assert.equal(await blobs.has(hash), false);
      await assert.rejects(blobs.read(hash), (err: any) => err.extensions.code === 'NOT_FOUND');
      assert.equal(fs.existsSync(home), false, 'constructing and reading create nothing');
      assert.equal(await blobs.put(Buffer.from('lazy'), 'text/plain'), hash);
      assert.equal(await blobs.has(hash), true);
    } finally {
      await db.close();
    }
  });

  test('clear errors: functions without RIL_URL_SIGNING_SECRET, S3 without a bucket or with half the credentials, bad values', async () => {
    const db = await openTestDatabase();
    try {
      const base = { RIL_HOME: db.home };
      await assert.rejects(createBlobStore(loadEnv({ ...base, RIL_DEPLOYMENT: 'functions' }), db.prisma), /RIL_URL_SIGNING_SECRET is required/);
      await createBlobStore(loadEnv({ ...base, RIL_DEPLOYMENT: 'functions', RIL_URL_SIGNING_SECRET: 'x'.repeat(32) }), db.prisma);
      assert.throws(() => loadEnv({ ...base, RIL_URL_SIGNING_SECRET: 'short' }), /RIL_URL_SIGNING_SECRET: must be at least 32/);
      await assert.rejects(createBlobStore(loadEnv({ ...base, RIL_BLOB_STORE: 's3' }), db.prisma), /RIL_S3_BUCKET/);
      await assert.rejects(createBlobStore(loadEnv({ ...base, RIL_BLOB_STORE: 's3', RIL_S3_BUCKET: 'b', RIL_S3_ACCESS_KEY_ID: 'a' }), db.prisma), /RIL_S3_SECRET_ACCESS_KEY/);
      assert.throws(() => loadEnv({ ...base, RIL_BLOB_STORE: 'gcs' }), /RIL_BLOB_STORE/);
      assert.throws(() => loadEnv({ ...base, RIL_S3_ENDPOINT: 'minio:9000' }), /RIL_S3_ENDPOINT/);
      assert.throws(() => loadEnv({ ...base, RIL_S3_FORCE_PATH_STYLE: 'yes' }), /RIL_S3_FORCE_PATH_STYLE/);
      assert.throws(() => loadEnv({ ...base, RIL_S3_PREFIX: '/blobs/' }), /RIL_S3_PREFIX/);
      const env = loadEnv({ ...base, RIL_S3_ENDPOINT: '', RIL_S3_BUCKET: '' });
      assert.equal(env.RIL_S3_ENDPOINT, undefined, 'empty means unset');
      assert.equal(env.RIL_S3_REGION, 'us-east-1');
      assert.equal(env.RIL_S3_PREFIX, 'blobs/');
    } finally {
      await db.close();
    }
  });
});

describe('uploads a crashed process left behind', () => {
  test('the first write of a process sweeps <home>/blobs/tmp of entries older than an hour, and keeps younger ones', async () => {
    const s = await startTestServer({ RIL_BLOB_STORE: 'local' });
    try {
      const tmp = path.join(s.home, 'blobs', 'tmp');
      fs.mkdirSync(tmp, { recursive: true });
      leftover(path.join(tmp, `${'d'.repeat(64)}.1.cut-off-by-kill-9`), 2 * 3600_000);
      leftover(path.join(tmp, `${'e'.repeat(64)}.2.still-being-written`), 10_000);
      const body = Buffer.from('the first write');
      assert.equal((await fetch(`${s.url}/blobs/${sha256(body)}`, { method: 'PUT', body: new Uint8Array(body), headers: { authorization: `Bearer ${s.adminKey}` } })).status, 201);
      await until(() => fs.readdirSync(tmp).length === 1, 'the stale upload to be swept', 5000).catch(() => {});
      assert.deepEqual(fs.readdirSync(tmp), [`${'e'.repeat(64)}.2.still-being-written`]);
    } finally {
      await s.close();
    }
  });
});
