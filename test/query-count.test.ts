// A nested query (datasets -> examples -> teacher responses -> teacher) must cost a number of SQL statements
// that does not grow with the number of rows: every relation goes through a per-request DataLoader.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { cacheLines, writeDataset } from './helpers/fixtures.js';

let t: TestServer;
before(async () => {
  t = await startTestServer();
  for (const name of ['qc-a', 'qc-b', 'qc-c']) {
    const { file, lines } = await writeDataset(100, { images: 10 });
    const id = (await t.gql(`mutation($p: String!, $n: String!) { importDataset(input: { name: $n, path: $p }) { id } }`, { p: file, n: name })).data.importDataset.id;
    const jsonl = cacheLines(lines.map((l) => l.id), ['teacher-a', 'teacher-b'], 2).map((l) => JSON.stringify(l)).join('\n');
    const r = await t.gql(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`, { d: id, j: jsonl });
    assert.equal(r.data.importTeacherResponses.imported, 400);
  }
});
after(async () => { await t.close(); });

const NESTED = `query($datasets: Int!, $examples: Int!) {
  datasets(first: $datasets) { edges { node { name
    examples(first: $examples) { totalCount edges { node { externalId dataset { name }
      teacherResponses { text teacher { name model } example { externalId } } } } } } } } }`;

async function countQueries(datasets: number, examples: number) {
  const before = t.platform.db.queryCount();
  const r = await t.gql(NESTED, { datasets, examples });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  const rows = r.data.datasets.edges.flatMap((d: any) => d.node.examples.edges);
  assert.equal(rows.length, datasets * examples);
  assert.equal(rows[0].node.teacherResponses.length, 4);
  return t.platform.db.queryCount() - before;
}

test('nested query over 100 examples costs a constant number of SQL statements', async () => {
  const small = await countQueries(1, 2);
  const large = await countQueries(1, 100);
  const wide = await countQueries(3, 100);
  assert.equal(large, small, `1x2: ${small} statements, 1x100: ${large}`);
  assert.equal(wide, small, `3x100 datasets: ${wide}`);
  assert.ok(large <= 10, `expected at most 10 statements, got ${large}`);
});
