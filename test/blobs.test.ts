import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer, type TestServer } from './helpers/server.js';
import { sha256 } from '../api/_lib/blobs/store.js';

let t: TestServer;
before(async () => { t = await startTestServer({ RIL_MAX_BLOB_BYTES: '1024' }); });
after(async () => { await t.close(); });

const put = (hash: string, body: Buffer, key: string | null = t.adminKey) =>
  fetch(`${t.url}/blobs/${hash}`, { method: 'PUT', body: new Uint8Array(body), headers: key ? { authorization: `Bearer ${key}` } : {} });

describe('blob store over HTTP', () => {
  test('PUT verifies the hash, is idempotent, GET returns the bytes', async () => {
    const body = Buffer.from('hello blobs');
    const hash = sha256(body);
    const first = await put(hash, body);
    assert.equal(first.status, 201);
    assert.equal((await put(hash, body)).status, 200);
    const got = await fetch(`${t.url}/blobs/${hash}`, { headers: { authorization: `Bearer ${t.adminKey}` } });
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: hash } }), 1);
  });

  test('a body that does not match its hash is refused and not kept', async () => {
    const wrong = sha256(Buffer.from('something else'));
    const r = await put(wrong, Buffer.from('hello'));
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /does not match/);
    assert.equal(fs.existsSync(t.platform.blobs.pathOf(wrong)), false);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: wrong } }), 0);
    assert.deepEqual(fs.readdirSync(`${t.platform.blobs.dir}/tmp`), [], 'no temp file left behind');
  });

  test('oversize uploads get 413', async () => {
    const big = Buffer.alloc(2048, 1);
    const r = await put(sha256(big), big);
    assert.equal(r.status, 413);
    assert.equal(await t.platform.db.prisma.blob.count({ where: { sha256: sha256(big) } }), 0);
  });

  test('auth: no key 401, inference key 403, unknown blob 404, bad hash 400', async () => {
    const body = Buffer.from('x');
    assert.equal((await put(sha256(body), body, null)).status, 401);
    assert.equal((await put(sha256(body), body, await t.keyFor('INFERENCE'))).status, 403);
    assert.equal((await fetch(`${t.url}/blobs/${'0'.repeat(64)}?key=${t.adminKey}`)).status, 404);
    assert.equal((await fetch(`${t.url}/blobs/not-a-hash?key=${t.adminKey}`)).status, 400);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
  });
});
