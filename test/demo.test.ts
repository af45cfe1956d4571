// `ril demo` end to end, as a person runs it: a subprocess on a fresh RIL_HOME (and, in the PostgreSQL
// run, a fresh database), then the GraphQL query it prints, over real HTTP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createTestDatabaseUrl } from './helpers/db.js';

const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';

test('ril demo imports Fashion-MNIST VQA with both teachers at full coverage and serves it', { skip: !fs.existsSync(FASHION) && 'dataset-fashion-mnist not installed', timeout: 120_000 }, async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  // PORT=0: the demo binds a port of the kernel's choosing and prints its URL (a port picked here could be taken
  // while the demo imports its dataset, before it binds)
  const child = spawn(process.execPath, ['clients/cli/bin/ril.js', 'demo', '--limit', '150', '--no-train'], {
    env: { ...process.env, RIL_HOME: home, PORT: '0', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  child.stderr.on('data', (d) => { out += d; });
  try {
    const deadline = Date.now() + 100_000;
    while (!out.includes('Ctrl-C stops the server.')) {
      if (child.exitCode !== null || Date.now() > deadline) assert.fail(`demo did not come up:\n${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const base = /RIL platform on (http:\/\/\S+)/.exec(out)?.[1];
    assert.ok(base, out);
    const key = /admin key \(shown once\):\s+(ril_\S+)/.exec(out)?.[1];
    assert.ok(key, out);
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ datasets { edges { node { name exampleCount teacherCoverage { teacher { name } covered total } } } } }' }),
    });
    const body = await res.json() as any;
    const all = body.data.datasets.edges.map((e: any) => e.node);
    const ds = all.find((d: any) => d.name === 'fashion-mnist-vqa');
    assert.equal(ds.name, 'fashion-mnist-vqa');
    assert.equal(ds.exampleCount, 150);
    assert.deepEqual(ds.teacherCoverage.map((c: any) => [c.teacher.name, c.covered, c.total]),
      [['teacher-concise', 150, 150], ['teacher-verbose', 150, 150]]);
    // one evaluation dataset per question template (its test examples) and the demo's suite over them
    const suite = await fetch(`${base}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ evalSuite(name: "fashion-mnist-by-question") { latest { datasets { label dataset { exampleCount } } } } }' }),
    }).then((r) => r.json()) as any;
    const columns = suite.data.evalSuite.latest.datasets;
    assert.deepEqual(columns.map((c: any) => c.label), ['name', 'feet', 'body', 'sleeves', 'category'].map((t) => `fashion-mnist-vqa-${t}@1/test`));
    assert.equal(columns.reduce((a: number, c: any) => a + c.dataset.exampleCount, 0), 15, 'together, the build\'s test split (10% of 150)');
    for (const c of columns) assert.ok(all.some((d: any) => `${d.name}@1/test` === c.label && d.teacherCoverage.every((tc: any) => tc.covered === tc.total)), `${c.label}: imported with full teacher coverage`);
  } finally {
    child.kill('SIGTERM');
  }
});
