import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { png, writeDataset, writeJsonl } from './helpers/fixtures.js';

const IMPORT = `mutation($name: String!, $path: String!) { importDataset(input: { name: $name, path: $path }) { id name version exampleCount } }`;

let t: TestServer;
before(async () => { t = await startTestServer({ RIL_MAX_IMAGE_BYTES: '4096' }); });
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
