// The S3 blob store against a real S3-protocol server (s3rver, test/helpers/s3.ts), through the platform's HTTP
// API: presigned uploads to a staging key that completeBlobUpload verifies (hash and size) before copying it to
// the content key, presigned downloads, the 302 of GET /blobs/<sha>, and PUT /blobs/<sha> streamed through.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { S3RVER_CREDENTIALS, startS3, type TestS3 } from './helpers/s3.js';
import { sha256 } from '../api/_lib/blobs/store.js';
import type { S3BlobStore } from '../api/_lib/blobs/s3.js';
import { exportDataset } from '../api/_lib/datasets/service.js';
import { RilClient } from '../clients/sdk/src/index.js';

let s3: TestS3;
let t: TestServer;
let store: S3BlobStore;
let client: S3Client;

before(async () => {
  s3 = await startS3();
  t = await startTestServer({ ...s3.env, RIL_MAX_BLOB_BYTES: '4096' });
  store = t.platform.blobs as S3BlobStore;
  client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: S3RVER_CREDENTIALS });
});
after(async () => {
  client?.destroy();
  await t?.close();
  await s3?.close();
});

const CREATE = `mutation($i: CreateBlobUploadInput!) { createBlobUpload(input: $i) { sha256 alreadyExists url method headers expiresAt } }`;
const COMPLETE = `mutation($s: String!) { completeBlobUpload(sha256: $s) { sha256 size contentType createdAt } }`;
const DOWNLOAD = `query($s: String!) { blobDownloadUrl(sha256: $s) { url expiresAt } }`;
const bearer = (key = t.adminKey) => ({ authorization: `Bearer ${key}` });

/** Every key in the bucket (sorted). */
async function keys(): Promise<string[]> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }));
  return (listed.Contents ?? []).map((o) => o.Key!).sort();
}
const staged = async () => (await keys()).filter((k) => k.startsWith('blobs/uploads/'));
const rows = (hash: string) => t.platform.db.prisma.blob.count({ where: { sha256: hash } });

async function createUpload(body: Buffer, opts: { size?: number; contentType?: string; key?: string; hash?: string } = {}) {
  const r = await t.gql(CREATE, { i: { sha256: opts.hash ?? sha256(body), size: opts.size ?? body.length, contentType: opts.contentType ?? 'application/octet-stream' } }, opts.key);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return r.data.createBlobUpload as { sha256: string; alreadyExists: boolean; url: string; method: string; headers: Record<string, string>; expiresAt: string };
}
/** Sends bytes to a presigned URL with plain fetch, as any client would (no Authorization header). */
const send = (up: { url: string; method: string; headers: Record<string, string> }, body: Buffer) =>
  fetch(up.url, { method: up.method, headers: up.headers, body: new Uint8Array(body) });

describe('S3 blob store: presigned uploads', () => {
  test('upload through a presigned URL with plain fetch, then complete: stored under its content key, staging gone', async () => {
    const body = Buffer.from('presigned upload of a bundle');
    const hash = sha256(body);
    const worker = await t.keyFor('WORKER');
    const up = await createUpload(body, { contentType: 'application/gzip', key: worker });
    assert.equal(up.alreadyExists, false);
    assert.equal(up.method, 'PUT');
    assert.ok(up.url.startsWith(`${s3.endpoint}/${s3.bucket}/blobs/uploads/`), up.url);
    assert.ok(!new URL(up.url).pathname.includes(hash), 'the staging key is not the content address');
    assert.deepEqual(up.headers, { 'content-type': 'application/gzip' });
    const left = Date.parse(up.expiresAt) - Date.now();
    assert.ok(left > 14 * 60_000 && left <= 15 * 60_000, `short expiry (${left} ms)`);
    const q = new URL(up.url).searchParams;
    assert.deepEqual(q.get('X-Amz-SignedHeaders')!.split(';').sort(), ['content-length', 'content-type', 'host'], 'size and type are bound into the signature');
    assert.equal(q.get('x-amz-meta-ril-sha256'), hash);
    assert.equal(q.get('x-amz-meta-ril-size'), String(body.length));
    assert.equal(q.get('x-amz-checksum-crc32'), null, 'no checksum of an empty body (real S3 would refuse the upload)');

    const put = await send(up, body);
    assert.equal(put.status, 200, await put.text());
    assert.equal(await rows(hash), 0, 'nothing is recorded before completeBlobUpload');
    assert.equal(await store.has(hash), false, 'nor stored under its content key');

    const done = await t.gql(COMPLETE, { s: hash }, worker);
    assert.equal(done.errors, undefined, JSON.stringify(done.errors));
    assert.deepEqual({ ...done.data.completeBlobUpload, createdAt: undefined }, { sha256: hash, size: body.length, contentType: 'application/gzip', createdAt: undefined });
    assert.equal(await rows(hash), 1);
    assert.ok((await keys()).includes(`blobs/${hash}`));
    assert.deepEqual(await staged(), [], 'the staged object is deleted');
    const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `blobs/${hash}` }));
    assert.equal(head.ContentType, 'application/gzip');
    assert.deepEqual(await store.read(hash), body);
    assert.equal((await t.gql(COMPLETE, { s: hash }, worker)).data.completeBlobUpload.sha256, hash, 'complete again: idempotent');
  });

  test('a tampered upload (other bytes, same length) is refused, not registered, and its staged object deleted', async () => {
    const body = Buffer.from('the bytes that were promised');
    const hash = sha256(body);
    const up = await createUpload(body);
    const other = Buffer.from(body.toString().toUpperCase());
    assert.equal(other.length, body.length);
    assert.equal((await send(up, other)).status, 200);
    const r = await t.gql(COMPLETE, { s: hash });
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, new RegExp(`hash to ${sha256(other)}.*nothing was stored`));
    assert.equal(await rows(hash), 0);
    assert.equal(await store.has(hash), false);
    assert.ok(!(await keys()).includes(`blobs/${sha256(other)}`), 'the other bytes are not stored either');
    assert.deepEqual(await staged(), []);
    assert.equal(errorCode(await t.gql(COMPLETE, { s: hash })), 'BAD_USER_INPUT', 'and cannot be completed later');
  });

  test('wrong size is refused: over the limit at createBlobUpload; more or fewer bytes than declared at completeBlobUpload', async () => {
    const huge = await t.gql(CREATE, { i: { sha256: sha256(Buffer.alloc(5000)), size: 5000 } });
    assert.equal(errorCode(huge), 'BAD_USER_INPUT');
    assert.match(huge.errors![0].message, /limit is 4096/);

    // s3rver does not enforce the signed Content-Length (real S3 answers 403), so the longer body lands in staging
    const body = Buffer.from('exactly these bytes');
    const up = await createUpload(body);
    assert.equal((await send(up, Buffer.concat([body, Buffer.from('!')]))).status, 200);
    const longer = await t.gql(COMPLETE, { s: sha256(body) });
    assert.equal(errorCode(longer), 'BAD_USER_INPUT');
    assert.match(longer.errors![0].message, /bytes were sent; createBlobUpload declared 19/);

    const shorter = Buffer.from('short');
    const up2 = await createUpload(shorter, { size: shorter.length + 3 });
    assert.equal((await send(up2, shorter)).status, 200);
    const r = await t.gql(COMPLETE, { s: sha256(shorter) });
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, /5 bytes were sent; createBlobUpload declared 8/);
    assert.equal(await rows(sha256(body)) + await rows(sha256(shorter)), 0);
    assert.deepEqual(await staged(), []);
  });

  test('a second upload of the same hash reports alreadyExists (nothing to send); another size is refused', async () => {
    const body = Buffer.from('uploaded twice');
    const hash = sha256(body);
    assert.equal((await send(await createUpload(body), body)).status, 200);
    assert.equal((await t.gql(COMPLETE, { s: hash })).errors, undefined);
    const again = await createUpload(body);
    assert.deepEqual(again, { sha256: hash, alreadyExists: true, url: null, method: 'PUT', headers: {}, expiresAt: null });
    assert.equal(errorCode(await t.gql(CREATE, { i: { sha256: hash, size: body.length + 1 } })), 'BAD_USER_INPUT');
    assert.equal((await t.gql(COMPLETE, { s: hash })).data.completeBlobUpload.size, body.length);
  });

  test('an upload is completed only by the key that started it; nothing uploaded is BAD_USER_INPUT', async () => {
    const body = Buffer.from('whose upload is it');
    const hash = sha256(body);
    const a = await t.keyFor('EDITOR');
    const b = await t.keyFor('EDITOR');
    const up = await createUpload(body, { key: a });
    assert.notEqual(up.url.split('?')[0], (await createUpload(body, { key: b })).url.split('?')[0], 'one staging key per API key');
    assert.equal((await send(up, body)).status, 200);
    const other = await t.gql(COMPLETE, { s: hash }, b);
    assert.equal(errorCode(other), 'BAD_USER_INPUT');
    assert.match(other.errors![0].message, /nothing has been uploaded/);
    assert.equal((await t.gql(COMPLETE, { s: hash }, a)).errors, undefined);
    assert.equal((await t.gql(COMPLETE, { s: hash }, b)).errors, undefined, 'once stored, completing is a no-op for anyone');
  });
});

describe('S3 blob store: downloads and the HTTP route', () => {
  test('a download URL (presigned GET) serves the bytes with the recorded content type, no key needed', async () => {
    const body = Buffer.from('download me from s3');
    const hash = sha256(body);
    const sdk = new RilClient({ url: t.url, apiKey: await t.keyFor('EDITOR') });
    assert.equal(await sdk.putBlob(body, 'text/plain'), hash);
    const r = await t.gql(DOWNLOAD, { s: hash }, await t.keyFor('VIEWER'));
    const { url, expiresAt } = r.data.blobDownloadUrl;
    assert.ok(url.startsWith(`${s3.endpoint}/${s3.bucket}/blobs/${hash}?`), url);
    assert.ok(Date.parse(expiresAt) - Date.now() > 55 * 60_000 - 5_000, 'valid for about an hour (signed as of its 5-minute window)');
    const got = await fetch(url);
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'text/plain');
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), body);
    // the same presigned URL, stable within its signing window; if the window turned since `url` was made, the next
    // two share the new one
    const [a, b] = [await sdk.blobUrl(hash), await sdk.blobUrl(hash)];
    assert.ok(a === url || a === b, `the SDK's blobUrl is the same presigned URL (stable within its window): ${url} / ${a} / ${b}`);
    assert.equal(errorCode(await t.gql(DOWNLOAD, { s: sha256(Buffer.from('unknown')) })), 'NOT_FOUND');
  });

  test('GET /blobs/<sha> answers 302 to a presigned GET; fetch follows it (dropping the bearer key) to the bytes', async () => {
    const body = Buffer.from('redirected');
    const hash = await store.put(body, 'text/plain');
    const r = await fetch(`${t.url}/blobs/${hash}`, { headers: bearer(), redirect: 'manual' });
    assert.equal(r.status, 302);
    assert.ok(r.headers.get('location')!.startsWith(`${s3.endpoint}/${s3.bucket}/blobs/${hash}?`));
    assert.match(r.headers.get('cache-control')!, /no-store/);
    const followed = await fetch(`${t.url}/blobs/${hash}`, { headers: bearer() });
    assert.equal(followed.status, 200);
    assert.deepEqual(Buffer.from(await followed.arrayBuffer()), body);
    const head = await fetch(`${t.url}/blobs/${hash}`, { method: 'HEAD', headers: bearer() });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), String(body.length));
    assert.equal((await fetch(`${t.url}/blobs/${hash}?key=${t.adminKey}`, { redirect: 'manual' })).status, 401, '?key= does not authenticate');
  });

  test('PUT /blobs/<sha> streams through a staging key: verified, idempotent; a wrong hash leaves nothing behind', async () => {
    const body = Buffer.from('streamed through the api');
    const hash = sha256(body);
    const put = (h: string, b: Buffer) => fetch(`${t.url}/blobs/${h}`, { method: 'PUT', headers: { ...bearer(), 'content-type': 'text/plain' }, body: new Uint8Array(b) });
    const first = await put(hash, body);
    assert.equal(first.status, 201, await first.clone().text());
    assert.deepEqual(await first.json(), { sha256: hash, size: body.length, created: true });
    assert.equal((await put(hash, body)).status, 200);
    assert.deepEqual(await store.read(hash), body);
    const wrong = sha256(Buffer.from('not this'));
    const r = await put(wrong, body);
    assert.equal(r.status, 400);
    assert.match((await r.json()).error.message, /does not match/);
    assert.equal(await rows(wrong), 0);
    assert.ok(!(await keys()).includes(`blobs/${wrong}`));
    assert.deepEqual(await staged(), []);
    assert.equal((await put(sha256(Buffer.alloc(5000)), Buffer.alloc(5000))).status, 413);
    const chunked = await fetch(`${t.url}/blobs/${hash}`, { method: 'PUT', headers: bearer(), body: new Blob([new Uint8Array(body)]).stream(), duplex: 'half' } as RequestInit);
    assert.equal(chunked.status, 411, 'S3 needs the length up front');
  });

  test('a blob whose object is missing: NOT_FOUND from the store, 404 from S3, and the API keeps serving', async () => {
    const body = Buffer.from('object deleted behind our back');
    const hash = await store.put(body, 'text/plain');
    await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `blobs/${hash}` }));
    assert.equal(await store.has(hash), false);
    await assert.rejects(store.read(hash), (err: any) => err.extensions.code === 'NOT_FOUND');
    await assert.rejects(store.openRead(hash), (err: any) => err.extensions.code === 'NOT_FOUND');
    const followed = await fetch(`${t.url}/blobs/${hash}`, { headers: bearer() });
    assert.equal(followed.status, 404);
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    // an upload repairs it: the row exists, the bytes do not, so createBlobUpload asks for them again
    const up = await createUpload(body, { contentType: 'text/plain' });
    assert.equal(up.alreadyExists, false);
    assert.equal((await send(up, body)).status, 200);
    assert.equal((await t.gql(COMPLETE, { s: hash })).errors, undefined);
    assert.deepEqual(await store.read(hash), body);
  });

  test('dataset import writes images to the bucket with their content type; imageUrl is presigned; export streams them back', async () => {
    const { writeDataset } = await import('./helpers/fixtures.js');
    const { file } = await writeDataset(3, { images: 2 });
    const ds = await t.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { name: 's3-images', path: file } });
    assert.equal(ds.errors, undefined, JSON.stringify(ds.errors));
    const r = await t.gql(`query($id: ID!) { dataset(id: $id) { examples(first: 3) { edges { node { imageSha256 imageUrl } } } } }`, { id: ds.data.importDataset.id });
    const node = r.data.dataset.examples.edges[0].node;
    assert.ok(node.imageUrl.startsWith(`${s3.endpoint}/`), node.imageUrl);
    const img = await fetch(node.imageUrl);
    assert.equal(img.status, 200);
    assert.equal(img.headers.get('content-type'), 'image/png');
    assert.equal(sha256(Buffer.from(await img.arrayBuffer())), node.imageSha256);
    const obj = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `blobs/${node.imageSha256}` }));
    assert.equal(obj.ContentType, 'image/png');
    obj.Body && (obj.Body as import('node:stream').Readable).destroy();
    const os = await import('node:os');
    const fs = await import('node:fs');
    const path = await import('node:path');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-s3-export-'));
    await exportDataset(t.platform.db, store, ds.data.importDataset.id, out);
    const images = fs.readdirSync(path.join(out, 'images'));
    assert.equal(images.length, 2);
    for (const f of images) assert.equal(sha256(fs.readFileSync(path.join(out, 'images', f))), f.split('.')[0]);
  });

  test('s3rver speaks what the store uses: a presigned PUT and GET, CopyObject, user metadata, expiry', async () => {
    // (the store's own calls are exercised above; this pins down the one check s3rver does on presigned URLs)
    const { getSignedUrl } = await import('@aws-sdk/s3-request-presigner');
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: s3.bucket, Key: 'probe' }), { expiresIn: 1, signingDate: new Date(Date.now() - 5000) });
    const r = await fetch(url, { method: 'PUT', body: 'x' });
    assert.equal(r.status, 403, 'an expired presigned URL is refused');
    assert.match(await r.text(), /expired/);
  });
});
