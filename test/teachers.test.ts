import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { cacheLines, writeDataset } from './helpers/fixtures.js';

let t: TestServer;
let datasetId: string;
before(async () => {
  t = await startTestServer({ RIL_SECRET_ENV_ALLOWLIST: 'TEACHER_KEY' });
  const { file } = await writeDataset(6);
  datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "tt", path: $p }) { id } }`, { p: file })).data.importDataset.id;
});
after(async () => { await t.close(); });

const IMPORT = `mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported teachers { name kind } } }`;
const jsonl = (lines: object[]) => lines.map((l) => JSON.stringify(l)).join('\n');
const responses = () => t.platform.db.prisma.teacherResponse.count();

async function expectRejected(lines: (object | string)[], line: number, pattern: RegExp) {
  const before = { r: await responses(), t: await t.platform.db.prisma.teacher.count() };
  const text = lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n');
  const r = await t.gql(IMPORT, { d: datasetId, j: text });
  assert.equal(errorCode(r), 'BAD_USER_INPUT');
  const hit = (r.errors![0].extensions!.errors as any[]).find((e) => e.line === line);
  assert.ok(hit, JSON.stringify(r.errors));
  assert.match(hit.message, pattern);
  assert.deepEqual({ r: await responses(), t: await t.platform.db.prisma.teacher.count() }, before, 'nothing written');
}

describe('teachers and teacher caches', () => {
  test('register validates kind, URL and the key env var name; never stores a key', async () => {
    const reg = (input: string) => t.gql(`mutation { registerTeacher(input: { ${input} }) { name kind baseUrl apiKeyEnv } }`);
    assert.equal(errorCode(await reg('name: "e", model: "m", kind: ENDPOINT')), 'BAD_USER_INPUT');
    assert.equal(errorCode(await reg('name: "e", model: "m", kind: ENDPOINT, baseUrl: "ftp://x"')), 'BAD_USER_INPUT');
    assert.equal(errorCode(await reg('name: "e", model: "m", kind: ENDPOINT, baseUrl: "http://u:p@h/v1"')), 'BAD_USER_INPUT');
    assert.equal(errorCode(await reg('name: "e", model: "m", kind: ENDPOINT, baseUrl: "http://h/v1", apiKeyEnv: "sk-live-123"')), 'BAD_USER_INPUT');
    assert.equal(errorCode(await reg('name: "e", model: "m", kind: ENDPOINT, baseUrl: "http://h/v1", apiKeyEnv: "OTHER_KEY"')), 'BAD_USER_INPUT', 'not allowlisted');
    const ok = await reg('name: "e", model: "qwen-vl", kind: ENDPOINT, baseUrl: "http://teacher.example:8000/v1", apiKeyEnv: "TEACHER_KEY"');
    assert.deepEqual(ok.data.registerTeacher, { name: 'e', kind: 'ENDPOINT', baseUrl: 'http://teacher.example:8000/v1', apiKeyEnv: 'TEACHER_KEY' });
  });

  test('imports a cache for two teachers and reports coverage', async () => {
    const ids = ['ex-0', 'ex-1', 'ex-2', 'ex-3', 'ex-4', 'ex-5'];
    const lines = [...cacheLines(ids, ['alpha'], 2), ...cacheLines(ids.slice(0, 3), ['beta'], 1)];
    const r = await t.gql(IMPORT, { d: datasetId, j: jsonl(lines) });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    assert.equal(r.data.importTeacherResponses.imported, 15);
    assert.deepEqual(r.data.importTeacherResponses.teachers, [{ name: 'alpha', kind: 'IMPORTED' }, { name: 'beta', kind: 'IMPORTED' }]);
    const cov = await t.gql(`query($d: ID!) { dataset(id: $d) { teacherCoverage(minSamples: 2) { teacher { name } covered total responses } } }`, { d: datasetId });
    assert.deepEqual(cov.data.dataset.teacherCoverage.map((c: any) => [c.teacher.name, c.covered, c.total, c.responses]).sort(),
      [['alpha', 6, 6, 12], ['beta', 0, 6, 3]]);
    const one = await t.gql(`query($d: ID!) { teacher(name: "beta") { coverage(datasetId: $d) { covered total } } }`, { d: datasetId });
    assert.deepEqual(one.data.teacher.coverage, { covered: 3, total: 6 });
  });

  test('an unknown example is rejected with its line, nothing written', async () => {
    await expectRejected([{ example: 'ex-1', teacher: 'gamma', sample: 0, text: 'a' }, { example: 'ex-99', teacher: 'gamma', sample: 0, text: 'b' }], 2, /"ex-99" is not in dataset/);
  });

  test('duplicates in the file and against the cache are rejected', async () => {
    const l = { example: 'ex-5', teacher: 'gamma', sample: 0, text: 'a' };
    await expectRejected([l, { ...l, text: 'again' }], 2, /duplicate response .* first on line 1/);
    await expectRejected([{ example: 'ex-0', teacher: 'alpha', sample: 1, text: 'cached already' }], 1, /already cached/);
  });

  test('bad JSON, missing text and a bad sample are each reported', async () => {
    await expectRejected(['{oops', { example: 'ex-1', teacher: 'g', sample: 0 }, { example: 'ex-1', teacher: 'g', sample: -1, text: 'x' }], 1, /invalid JSON/);
    await expectRejected([{ example: 'ex-1', teacher: 'g', sample: 0 }], 1, /missing field "text"/);
    await expectRejected([{ example: 'ex-1', teacher: 'g', sample: 1.5, text: 'x' }], 1, /"sample" must be an integer/);
  });

  test('examples show their teacher responses side by side', async () => {
    const r = await t.gql(`query($d: ID!) { dataset(id: $d) { examples(first: 1) { edges { node { externalId teacherResponses { sample text teacher { name } } } } } } }`, { d: datasetId });
    const node = r.data.dataset.examples.edges[0].node;
    assert.equal(node.externalId, 'ex-0');
    assert.deepEqual(node.teacherResponses.map((x: any) => `${x.teacher.name}#${x.sample}`), ['alpha#0', 'alpha#1', 'beta#0']);
  });
});
