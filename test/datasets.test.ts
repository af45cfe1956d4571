import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { png, writeDataset, writeJsonl } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { TEST_PROVIDER } from './helpers/db.js';
import { sha256 } from '../api/_lib/blobs/store.js';
import { loadEnv } from '../api/_lib/env.js';
import { createPlatform, listen } from '../api/_lib/http/server.js';
import { RilClient } from '../clients/sdk/src/index.js';

const IMPORT = `mutation($name: String!, $path: String!) { importDataset(input: { name: $name, path: $path }) { id name version exampleCount } }`;

let t: TestServer;
const MAX_UNPACKED = 1_000_000;
before(async () => { t = await startTestServer({ RIL_MAX_IMAGE_BYTES: '4096', RIL_MAX_UNPACKED_BYTES: String(MAX_UNPACKED) }); });
after(async () => { await t.close(); });

async function rowCounts() {
  const p = t.platform.db.prisma;
  return { datasets: await p.dataset.count(), examples: await p.example.count(), blobs: await p.blob.count() };
}

/** Imports a file that must fail; asserts the code, the reported line and that nothing was written. */
async function expectRejected(file: string, line: number, pattern: RegExp) {
  const beforeCounts = await rowCounts();
  const r = await t.gql(IMPORT, { name: 'bad', path: file });
  assert.equal(errorCode(r), 'BAD_USER_INPUT', JSON.stringify(r.errors));
  const errors = r.errors![0].extensions!.errors as { line: number; message: string }[];
  const hit = errors.find((e) => e.line === line);
  assert.ok(hit, `expected an error on line ${line}, got ${JSON.stringify(errors)}`);
  assert.match(hit.message, pattern);
  assert.deepEqual(await rowCounts(), beforeCounts, 'a failed import must write nothing');
}

describe('dataset import', () => {
  test('imports examples, dedupes images by hash, versions on re-import', async () => {
    const { file } = await writeDataset(12, { images: 3 });
    const r1 = await t.gql(IMPORT, { name: 'toy', path: file });
    assert.equal(r1.errors, undefined);
    assert.deepEqual({ ...r1.data.importDataset, id: undefined }, { id: undefined, name: 'toy', version: 1, exampleCount: 12 });
    const r2 = await t.gql(IMPORT, { name: 'toy', path: file });
    assert.equal(r2.data.importDataset.version, 2);
    const blobs = await t.platform.db.prisma.blob.count();
    assert.equal(blobs, 3, 'three distinct images stored once across both versions');

    const q = await t.gql(`query($id: ID!) { dataset(id: $id) { stats { splits { split count } topAnswers(limit: 2) { answer count } }
      examples(first: 5, split: train) { totalCount edges { cursor node { externalId split imageSha256 } } pageInfo { hasNextPage endCursor } } } }`,
    { id: r1.data.importDataset.id });
    const ds = q.data.dataset;
    assert.deepEqual(ds.stats.splits, [{ split: 'train', count: 6 }, { split: 'val', count: 3 }, { split: 'test', count: 3 }]);
    assert.deepEqual(ds.stats.topAnswers, [{ answer: 'answer 0', count: 4 }, { answer: 'answer 1', count: 4 }]);
    assert.equal(ds.examples.totalCount, 6);
    assert.deepEqual(ds.examples.edges.map((e: any) => e.node.externalId), ['ex-0', 'ex-1', 'ex-4', 'ex-5', 'ex-8']);
    assert.equal(ds.examples.pageInfo.hasNextPage, true);
    const next = await t.gql(`query($id: ID!, $after: String) { dataset(id: $id) { examples(first: 5, split: train, after: $after) {
      edges { node { externalId } } pageInfo { hasNextPage } } } }`, { id: r1.data.importDataset.id, after: ds.examples.pageInfo.endCursor });
    assert.deepEqual(next.data.dataset.examples.edges.map((e: any) => e.node.externalId), ['ex-9']);
    assert.equal(next.data.dataset.examples.pageInfo.hasNextPage, false);
  });

  test('bad JSON is reported with its line number', async () => {
    const { file, lines } = await writeDataset(4);
    writeJsonl(file, [lines[0], lines[1], '{"id": "x", ', lines[3]]);
    await expectRejected(file, 3, /invalid JSON/);
  });

  test('missing field', async () => {
    const { file, lines } = await writeDataset(3);
    const { question: _q, ...noQuestion } = lines[1];
    writeJsonl(file, [lines[0], noQuestion, lines[2]]);
    await expectRejected(file, 2, /missing field "question"/);
  });

  test('unknown split', async () => {
    const { file, lines } = await writeDataset(3);
    writeJsonl(file, [lines[0], lines[1], { ...lines[2], split: 'dev' }]);
    await expectRejected(file, 3, /unknown split "dev"/);
  });

  test('duplicate id', async () => {
    const { file, lines } = await writeDataset(3);
    writeJsonl(file, [lines[0], lines[1], { ...lines[2], id: lines[0].id }]);
    await expectRejected(file, 3, /duplicate id "ex-0" \(first on line 1\)/);
  });

  test('missing image file', async () => {
    const { file, lines } = await writeDataset(3);
    writeJsonl(file, [lines[0], { ...lines[1], image: 'img/nope.png' }, lines[2]]);
    await expectRejected(file, 2, /not found/);
  });

  test('a file that is not an image', async () => {
    const { file, dir, lines } = await writeDataset(3);
    fs.writeFileSync(path.join(dir, 'img', 'fake.png'), 'this is text, not a PNG');
    writeJsonl(file, [lines[0], lines[1], { ...lines[2], image: 'img/fake.png' }]);
    await expectRejected(file, 3, /not an image/);
  });

  test('an image path that escapes the folder', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-outside-'));
    fs.writeFileSync(path.join(outside, 'secret.png'), await png(9));
    const { file, dir, lines } = await writeDataset(3);
    const rel = path.relative(dir, path.join(outside, 'secret.png'));
    fs.symlinkSync(path.join(outside, 'secret.png'), path.join(dir, 'img', 'link.png'));
    writeJsonl(file, [{ ...lines[0], image: rel }, lines[1], { ...lines[2], image: 'img/link.png' }]);
    await expectRejected(file, 1, /escapes the dataset folder/);
    await expectRejected(file, 3, /escapes the dataset folder/);
  });

  test('an oversize image', async () => {
    const { file, dir, lines } = await writeDataset(2);
    const big = await (await import('sharp')).default(Buffer.from(Array.from({ length: 128 * 128 }, (_, i) => (i * 7919) % 251)),
      { raw: { width: 128, height: 128, channels: 1 } }).png({ compressionLevel: 0 }).toBuffer();
    assert.ok(big.length > 4096);
    fs.writeFileSync(path.join(dir, 'img', 'big.png'), big);
    writeJsonl(file, [lines[0], { ...lines[1], image: 'img/big.png' }]);
    await expectRejected(file, 2, /limit is 4096/);
  });

  test('every bad line is reported, not only the first', async () => {
    const { file, lines } = await writeDataset(4);
    writeJsonl(file, ['nope', lines[1], { ...lines[2], split: 'x' }, { ...lines[3], image: '/etc/passwd' }]);
    const r = await t.gql(IMPORT, { name: 'bad', path: file });
    assert.deepEqual((r.errors![0].extensions!.errors as any[]).map((e) => e.line), [1, 3, 4]);
    assert.equal(r.errors![0].extensions!.errorCount, 3);
  });

  test('export writes the trainer directory and re-imports to the same examples', async () => {
    const { file } = await writeDataset(6, { images: 2 });
    const ds = (await t.gql(IMPORT, { name: 'roundtrip', path: file })).data.importDataset;
    const { exportDataset } = await import('../api/_lib/datasets/service.js');
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-export-'));
    const summary = await exportDataset(t.platform.db, t.platform.blobs, ds.id, out);
    assert.equal(summary.examples, 6);
    assert.equal(fs.readdirSync(path.join(out, 'images')).length, 2);
    const again = (await t.gql(IMPORT, { name: 'roundtrip', path: path.join(out, 'examples.jsonl') })).data.importDataset;
    const p = t.platform.db.prisma;
    const strip = (rows: any[]) => rows.map(({ externalId, split, imageSha256, question, answer }) => ({ externalId, split, imageSha256, question, answer }));
    assert.deepEqual(
      strip(await p.example.findMany({ where: { datasetId: again.id }, orderBy: { ordinal: 'asc' } })),
      strip(await p.example.findMany({ where: { datasetId: ds.id }, orderBy: { ordinal: 'asc' } })),
    );
  });
});

// ---- import from uploaded blobs (what a remote client does: PUT /blobs/<sha256>, then importDataset) ----

const IMPORT_BLOB = `mutation($name: String!, $blob: String!) { importDataset(input: { name: $name, blobSha256: $blob }) { id name version exampleCount } }`;

/** Uploads over real HTTP through the SDK. */
const upload = (bytes: Buffer, type = 'application/octet-stream') => new RilClient({ url: t.url, apiKey: t.adminKey }).putBlob(new Uint8Array(bytes), type);

async function examplesOf(datasetId: string) {
  const rows = await t.platform.db.prisma.example.findMany({ where: { datasetId }, orderBy: { ordinal: 'asc' } });
  return rows.map(({ externalId, split, imageSha256, question, answer }) => ({ externalId, split, imageSha256, question, answer }));
}

/** What a folder import of `lines` gives: the expected rows of a blob or archive import of the same data. */
function expectedRows(dir: string, lines: { id: string; image: string; question: string; answer: string; split: string }[]) {
  return lines.map((l) => ({ externalId: l.id, split: l.split, imageSha256: sha256(fs.readFileSync(path.join(dir, l.image))), question: l.question, answer: l.answer }));
}

async function expectBlobRejected(blob: string, line: number, pattern: RegExp) {
  const beforeCounts = await rowCounts();
  const r = await t.gql(IMPORT_BLOB, { name: 'bad-blob', blob });
  assert.equal(errorCode(r), 'BAD_USER_INPUT', JSON.stringify(r.errors));
  const hit = (r.errors![0].extensions!.errors as { line: number; message: string }[]).find((e) => e.line === line);
  assert.ok(hit, `expected an error on line ${line}, got ${JSON.stringify(r.errors![0].extensions!.errors)}`);
  assert.match(hit.message, pattern);
  assert.deepEqual(await rowCounts(), beforeCounts, 'a failed import must write nothing');
}

/** tar(.gz) of a dataset folder with data.jsonl renamed examples.jsonl; `nested`: the folder itself is the archive's top. */
function archiveOf(dir: string, opts: { gzip: boolean; nested?: boolean }): Buffer {
  fs.renameSync(path.join(dir, 'data.jsonl'), path.join(dir, 'examples.jsonl'));
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-tar-')), opts.gzip ? 'ds.tar.gz' : 'ds.tar');
  const args = opts.nested ? ['-C', path.dirname(dir), path.basename(dir)] : ['-C', dir, '.'];
  execFileSync('tar', [opts.gzip ? '-czf' : '-cf', out, ...args]);
  return fs.readFileSync(out);
}

describe('dataset import from an uploaded blob', () => {
  test('a JSONL whose images are sha256: references to uploaded blobs', async () => {
    const { dir, lines } = await writeDataset(6, { images: 3 });
    const refs = new Map<string, string>();
    for (const l of lines) if (!refs.has(l.image)) refs.set(l.image, await upload(fs.readFileSync(path.join(dir, l.image)), 'image/png'));
    const jsonl = lines.map((l) => JSON.stringify({ ...l, image: `sha256:${refs.get(l.image)}` })).join('\n') + '\n';
    const blob = await upload(Buffer.from(jsonl), 'application/x-ndjson');
    const r = await t.gql(IMPORT_BLOB, { name: 'by-blob', blob });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data.importDataset.exampleCount, 6);
    assert.deepEqual(await examplesOf(r.data.importDataset.id), expectedRows(dir, lines));
  });

  test('a bad JSONL blob is refused line by line and writes nothing', async () => {
    const { dir, lines } = await writeDataset(4);
    const good = `sha256:${await upload(fs.readFileSync(path.join(dir, lines[0].image)), 'image/png')}`;
    const text = await upload(Buffer.from('not an image at all'), 'text/plain');
    const jsonl = [
      { ...lines[0], image: good },
      { ...lines[1], image: lines[1].image }, // a path: an uploaded JSONL has no folder
      { ...lines[2], image: `sha256:${'0'.repeat(64)}` }, // never uploaded
      { ...lines[3], image: `sha256:${text}` }, // uploaded, but not an image
    ].map((l) => JSON.stringify(l)).join('\n');
    const blob = await upload(Buffer.from(jsonl));
    await expectBlobRejected(blob, 2, /must be a sha256:<hash> reference/);
    await expectBlobRejected(blob, 3, /not in the blob store/);
    await expectBlobRejected(blob, 4, /not an image/);
  });

  for (const [label, gzip, nested] of [['a .tar.gz', true, false], ['a .tar with one top-level folder', false, true]] as const) {
    test(`${label} archive holding examples.jsonl and its images`, async () => {
      const { dir, lines } = await writeDataset(5, { images: 2 });
      const blob = await upload(archiveOf(dir, { gzip, nested }));
      const r = await t.gql(IMPORT_BLOB, { name: 'by-archive', blob });
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      assert.deepEqual(await examplesOf(r.data.importDataset.id), expectedRows(dir, lines));
      for (const sha of new Set(expectedRows(dir, lines).map((e) => e.imageSha256))) {
        assert.deepEqual(await t.platform.blobs.read(sha), fs.readFileSync(path.join(dir, lines.find((l) => sha256(fs.readFileSync(path.join(dir, l.image))) === sha)!.image)));
      }
    });
  }

  test('an archive with a bad line (an image not in it, one outside it) writes nothing', async () => {
    const { dir, lines } = await writeDataset(3);
    writeJsonl(path.join(dir, 'data.jsonl'), [lines[0], { ...lines[1], image: 'img/missing.png' }, { ...lines[2], image: '../../etc/passwd' }]);
    const blob = await upload(archiveOf(dir, { gzip: true }));
    await expectBlobRejected(blob, 2, /not in the archive/);
    await expectBlobRejected(blob, 3, /stay inside the archive/);
  });

  test('an archive that unpacks past RIL_MAX_UNPACKED_BYTES (a gzip bomb) is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bomb-'));
    fs.writeFileSync(path.join(dir, 'examples.jsonl'), '');
    fs.writeFileSync(path.join(dir, 'zeros.bin'), Buffer.alloc(MAX_UNPACKED * 4));
    const out = path.join(dir, '..', `${path.basename(dir)}.tar`);
    execFileSync('tar', ['-cf', out, '-C', dir, '.']);
    const bomb = zlib.gzipSync(fs.readFileSync(out), { level: 9 });
    assert.ok(bomb.length < 50_000);
    const r = await t.gql(IMPORT_BLOB, { name: 'bomb', blob: await upload(bomb) });
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, new RegExp(`unpacks to more than ${MAX_UNPACKED} bytes`));
  });

  test('exactly one of blobSha256 and path; an unknown blob is NOT_FOUND', async () => {
    const { file } = await writeDataset(1);
    const both = await t.gql(`mutation($p: String!) { importDataset(input: { name: "x", path: $p, blobSha256: "${'a'.repeat(64)}" }) { id } }`, { p: file });
    assert.equal(errorCode(both), 'BAD_USER_INPUT');
    assert.equal(errorCode(await t.gql(`mutation { importDataset(input: { name: "x" }) { id } }`)), 'BAD_USER_INPUT');
    assert.equal(errorCode(await t.gql(IMPORT_BLOB, { name: 'x', blob: 'f'.repeat(64) })), 'NOT_FOUND');
    assert.equal(errorCode(await t.gql(IMPORT_BLOB, { name: 'x', blob: 'not-a-hash' })), 'BAD_USER_INPUT');
  });

  test('path is refused when RIL_DEPLOYMENT=functions (a function\'s disk is not the caller\'s)', { skip: TEST_PROVIDER !== 'postgres' && 'functions mode needs PostgreSQL' }, async () => {
    const { file } = await writeDataset(2);
    const platform = await createPlatform(loadEnv({ RIL_HOME: t.home, DATABASE_URL: t.platform.env.DATABASE_URL, RIL_DEPLOYMENT: 'functions', RIL_URL_SIGNING_SECRET: 'a-test-signing-secret-of-32-bytes!!' }));
    const server = await listen(platform, 0);
    try {
      const res = await fetch(`${server.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` },
        body: JSON.stringify({ query: IMPORT, variables: { name: 'from-path', path: file } }),
      });
      const body = await res.json() as any;
      assert.equal(body.errors[0].extensions.code, 'BAD_USER_INPUT');
      assert.match(body.errors[0].message, /only for the local CLI.*blobSha256/);
      assert.equal(await t.platform.db.prisma.dataset.count({ where: { name: 'from-path' } }), 0);
    } finally {
      await server.close();
      await platform.close();
    }
  });

  test('path is refused by the resolver whenever its environment says functions (any database)', async () => {
    const { datasetResolvers } = await import('../api/_lib/datasets/resolvers.js');
    const { file } = await writeDataset(2);
    const resolve = datasetResolvers.Mutation!.importDataset as (p: unknown, a: unknown, c: unknown) => Promise<unknown>;
    const ctx = { db: t.platform.db, blobs: t.platform.blobs, env: { ...t.platform.env, RIL_DEPLOYMENT: 'functions' } };
    await assert.rejects(async () => resolve({}, { input: { name: 'from-path', path: file } }, ctx), (err: any) => err.extensions?.code === 'BAD_USER_INPUT' && /only for the local CLI/.test(err.message));
    assert.equal(await t.platform.db.prisma.dataset.count({ where: { name: 'from-path' } }), 0);
  });

  test('ril datasets import <folder> against an API uploads the images and the JSONL, then imports', async () => {
    const { dir, lines } = await writeDataset(7, { images: 3 });
    fs.renameSync(path.join(dir, 'data.jsonl'), path.join(dir, 'examples.jsonl'));
    const r = await runCli(['datasets', 'import', dir, '--name', 'cli-upload', '--json'], { RIL_API_URL: t.url, RIL_API_KEY: t.adminKey });
    assert.equal(r.code, 0, r.stderr);
    const ds = JSON.parse(r.stdout);
    assert.deepEqual([ds.name, ds.exampleCount], ['cli-upload', 7]);
    assert.deepEqual(await examplesOf(ds.id), expectedRows(dir, lines));
    // a bad line is reported with the user's own line number
    writeJsonl(path.join(dir, 'examples.jsonl'), [lines[0], { ...lines[1], split: 'dev' }]);
    const bad = await runCli(['datasets', 'import', dir, '--name', 'cli-upload'], { RIL_API_URL: t.url, RIL_API_KEY: t.adminKey });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /\[BAD_USER_INPUT\][\s\S]*line 2: unknown split "dev"/);
  });
});
