// Faults (issue 11, "keep them closed"), on the provider the suite runs against:
// - kill -9 of `ril serve` (a real child process) in the middle of a dataset import and in the middle of a deploy:
//   after a restart, everything or nothing is there (the dataset with all its examples or no dataset; the deployment
//   live on the new revision with a valid, servable artifact, or as it was before);
// - PostgreSQL restarted under load (a throwaway server of this test's own, never the shared one): while it is down
//   requests fail with 503 and no internals, never 500; once it is back they succeed again without restarting the API.
// The kill points are fractions of the duration of an uninterrupted run measured first, so some land before, some in
// and some after the write; every outcome is printed.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import Sqlite from 'better-sqlite3';
import { openDatabase, type Database } from '../api/_lib/db/index.js';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { createTestDatabaseUrl, TEST_PROVIDER } from './helpers/db.js';
import { writeDataset } from './helpers/fixtures.js';
import { findPython, studentBundle } from './helpers/bundle.js';
import { startServe, type ServeProcess } from './helpers/serve-process.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const KILL_POINTS = [0.4, 0.8, 1.0, 1.2];
const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c().catch(() => undefined); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function gql(url: string, key: string, query: string, variables?: Record<string, unknown>) {
  const r = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
  return { status: r.status, body: await r.json() as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] } };
}

/** A platform home + database, a serve process on it, and an admin key made through Prisma. */
async function platform() {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  let serve = await startServe({ home, databaseUrl });
  cleanups.push(() => serve.stop());
  const db: Database = await openDatabase({ home, databaseUrl, migrate: 'skip' });
  cleanups.push(() => db.close());
  const key = (await createApiKey(db.prisma, 'faults-admin', 'ADMIN')).secret;
  return {
    home, databaseUrl, db, key,
    get serve() { return serve; },
    async restart() { await serve.kill9(); serve = await startServe({ home, databaseUrl }); },
  };
}

test(`kill -9 in the middle of a dataset import leaves all or nothing (${TEST_PROVIDER})`, async () => {
  const p = await platform();
  const n = 6000;
  const ds = await writeDataset(n, { images: 40, dir: fs.mkdtempSync(path.join(p.home, 'fault-ds-')) });
  const importQuery = `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id exampleCount } }`;
  const t0 = performance.now();
  const base = await gql(p.serve.url, p.key, importQuery, { i: { name: 'baseline', path: ds.file } });
  const duration = performance.now() - t0;
  assert.equal(base.body.data?.importDataset?.exampleCount, n, JSON.stringify(base.body.errors));
  const outcomes: string[] = [];
  for (const [i, at] of KILL_POINTS.entries()) {
    const name = `killed-${i}`;
    const pending = gql(p.serve.url, p.key, importQuery, { i: { name, path: ds.file } }).catch(() => null);
    await sleep(duration * at);
    await p.restart(); // SIGKILL, then a fresh `ril serve` on the same home and database
    await pending;
    const dataset = await p.db.prisma.dataset.findFirst({ where: { name } });
    const rows = dataset ? await p.db.prisma.example.count({ where: { datasetId: dataset.id } }) : 0;
    outcomes.push(`${Math.round(at * 100)}%: ${dataset ? `all (${rows})` : 'nothing'}`);
    if (dataset) assert.equal(rows, n, `${name}: a dataset that exists has every example`);
    await checkThroughApi(p, name, dataset ? n : 0);
  }
  // and once exactly inside the write transaction, seen from outside: killed there, nothing may remain
  {
    const name = 'killed-in-transaction';
    const pending = gql(p.serve.url, p.key, importQuery, { i: { name, path: ds.file } }).catch(() => null);
    const waited = await waitForOpenWriteTransaction(p, 60_000);
    await p.restart();
    await pending;
    const dataset = await p.db.prisma.dataset.findFirst({ where: { name } });
    outcomes.push(`inside the transaction (after ${waited} ms): ${dataset ? 'all' : 'nothing'}`);
    assert.equal(dataset, null, 'a transaction killed before its commit leaves nothing');
    await checkThroughApi(p, name, 0);
  }
  const datasets = await p.db.prisma.dataset.findMany({ select: { id: true } });
  assert.equal(await p.db.prisma.example.count(), datasets.length * n, 'no orphan examples');
  console.log(`dataset import (${TEST_PROVIDER}, uninterrupted ${Math.round(duration)} ms), killed at: ${outcomes.join('; ')}`);
});

/** The restarted API agrees: the dataset is listed with every example, or not at all. */
async function checkThroughApi(p: { serve: ServeProcess; key: string }, name: string, examples: number) {
  const seen = await gql(p.serve.url, p.key, `query($n: String) { datasets(name: $n) { totalCount edges { node { exampleCount } } } }`, { n: name });
  assert.equal(seen.body.data.datasets.totalCount, examples ? 1 : 0);
  if (examples) assert.equal(seen.body.data.datasets.edges[0].node.exampleCount, examples);
}

/** Waits until the server holds a write transaction open (SQLite: the write lock is taken, probed with BEGIN
 * IMMEDIATE; PostgreSQL: a backend of this database inside a transaction). Returns the ms waited. */
async function waitForOpenWriteTransaction(p: { home: string; databaseUrl?: string }, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  if (!p.databaseUrl) {
    const probe = new Sqlite(path.join(p.home, 'ril.db'), { timeout: 0 });
    try {
      while (Date.now() - t0 < timeoutMs) {
        try {
          probe.exec('BEGIN IMMEDIATE');
          probe.exec('ROLLBACK');
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_BUSY') return Date.now() - t0;
          throw err;
        }
        await sleep(2);
      }
    } finally { probe.close(); }
  } else {
    const name = new URL(p.databaseUrl).pathname.slice(1);
    const c = new pg.Client({ connectionString: p.databaseUrl });
    await c.connect();
    try {
      while (Date.now() - t0 < timeoutMs) {
        const r = await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() AND xact_start IS NOT NULL AND query ILIKE '%INSERT%'`, [name]);
        if (r.rows[0].n > 0) return Date.now() - t0;
        await sleep(2);
      }
    } finally { await c.end(); }
  }
  throw new Error('the import never opened its write transaction');
}


const python = findPython().python;
test(`kill -9 in the middle of a deploy leaves the new revision live and servable, or the previous state (${TEST_PROVIDER})`, { skip: python ? false : 'no trainer Python to build the bundle fixture' }, async () => {
  const fx = await studentBundle();
  const p = await platform();
  const sha = (await import('node:crypto')).createHash('sha256').update(fx.archive).digest('hex');
  const put = await fetch(`${p.serve.url}/blobs/${sha}`, { method: 'PUT', headers: { authorization: `Bearer ${p.key}`, 'content-type': 'application/gzip' }, body: new Uint8Array(fx.archive) });
  assert.ok(put.status < 300);
  const artifactId = (await gql(p.serve.url, p.key, `mutation($s: String!) { registerArtifact(input: { blobSha256: $s, kind: BUNDLE, name: "fault" }) { id } }`, { s: sha })).body.data.registerArtifact.id;
  const deployQuery = `mutation($a: ID!) { deploy(input: { name: "fault", artifactId: $a }) { liveRevision { revision } } }`;
  const ex = fx.torch[0];
  const image = `data:image/png;base64,${fs.readFileSync(path.join(fx.data, ex.image)).toString('base64')}`;
  const infer = async () => {
    const r = await fetch(`${p.serve.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${p.key}` }, body: JSON.stringify({ deployment: 'fault', image, question: ex.question, max_tokens: 8 }) });
    return { status: r.status, json: await r.json() as any };
  };

  // a first deploy on a fresh server, timed: the kill points are fractions of it
  const t0 = performance.now();
  const first = await gql(p.serve.url, p.key, deployQuery, { a: artifactId });
  const duration = performance.now() - t0;
  assert.equal(first.body.data?.deploy?.liveRevision?.revision, 1, JSON.stringify(first.body.errors));
  const outcomes: string[] = [];
  for (const at of KILL_POINTS) {
    await p.restart(); // each deploy starts on a fresh process, as the timed one did
    const before = await p.db.prisma.deploymentRevision.count();
    const pending = gql(p.serve.url, p.key, deployQuery, { a: artifactId }).catch(() => null);
    await sleep(duration * at);
    await p.restart();
    await pending;
    const dep = await p.db.prisma.deployment.findUniqueOrThrow({ where: { name: 'fault' }, include: { revisions: { orderBy: { revision: 'desc' } } } });
    const live = dep.revisions.find((r) => r.id === dep.liveRevisionId);
    assert.ok(live, 'a live revision');
    assert.equal(live.id, dep.revisions[0].id, 'the newest revision is the live one: no revision was left half-made');
    assert.ok(dep.revisions.length === before || dep.revisions.length === before + 1);
    outcomes.push(`${Math.round(at * 100)}%: ${dep.revisions.length > before ? `new revision ${live.revision} live` : `previous (revision ${live.revision})`}`);
    // the live revision serves after the restart: its artifact is whole
    const r = await infer();
    assert.equal(r.status, 200, JSON.stringify(r.json));
    assert.equal(r.json.revision, live.revision);
    assert.deepEqual(r.json.token_ids, ex.tokens.slice(0, r.json.token_ids.length), 'the same answer as PyTorch: the bundle is intact');
  }
  console.log(`deploy (${TEST_PROVIDER}, uninterrupted ${Math.round(duration)} ms), killed at: ${outcomes.join('; ')}`);
});

// ---------------------------------------------------------------- PostgreSQL restarted under load

const PG_DIR = '/tmp/ril-pg-s5';
const PG_PORT = '55452';
function pgCtl(action: 'stop' | 'start') {
  const bin = fs.readdirSync('/usr/lib/postgresql').sort().map((v) => `/usr/lib/postgresql/${v}/bin`).pop()!;
  const args = action === 'stop'
    ? [`${bin}/pg_ctl`, '-D', PG_DIR, '-m', 'fast', '-w', 'stop']
    : [`${bin}/pg_ctl`, '-D', PG_DIR, '-l', `${PG_DIR}/server.log`, '-w', '-o', `-p ${PG_PORT} -k ${PG_DIR} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start'];
  const r = process.getuid?.() === 0 ? spawnSync('runuser', ['-u', 'postgres', '--', ...args]) : spawnSync(args[0], args.slice(1));
  if (r.status !== 0) throw new Error(`pg_ctl ${action}: ${r.stderr}`);
}

test('PostgreSQL restarted under load: the API stays up, answers every request, and recovers without a restart', { skip: TEST_PROVIDER === 'postgres' ? false : 'PostgreSQL only (RIL_TEST_DB=postgres)' }, async () => {
  const admin = execFileSync('bash', [path.join(ROOT, 'scripts/pg-start.sh')], { env: { ...process.env, RIL_PG_DIR: PG_DIR, RIL_PG_PORT: PG_PORT } }).toString().trim();
  cleanups.push(async () => { try { pgCtl('start'); } catch { /* already up */ } });
  const name = `ril_fault_${process.pid}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS ${name}`);
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const home = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'ril-fault-pg-'));
  const serve: ServeProcess = await startServe({ home, databaseUrl: url.toString() });
  cleanups.push(() => serve.stop());
  const db = await openDatabase({ home, databaseUrl: url.toString(), migrate: 'skip' });
  const key = (await createApiKey(db.prisma, 'load', 'VIEWER')).secret;
  await db.close();

  const seen: { phase: string; status: number; body: string; retryAfter?: string | null }[] = [];
  let phase = 'up';
  let stop = false;
  const load = async () => {
    while (!stop) {
      for (const req of [
        () => fetch(`${serve.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '{"query":"{ datasets { totalCount } }"}' }),
        () => fetch(`${serve.url}/healthz`),
      ]) {
        const sentIn = phase; // the phase the request was sent in (it may be answered in the next one)
        try {
          const r = await req();
          seen.push({ phase: sentIn, status: r.status, body: (await r.text()).slice(0, 500), retryAfter: r.headers.get('retry-after') });
        } catch (err) {
          seen.push({ phase: sentIn, status: 0, body: String(err) });
        }
      }
      await sleep(20);
    }
  };
  const workers = [load(), load(), load()];
  await sleep(500);
  phase = 'down';
  pgCtl('stop');
  await sleep(2500);
  phase = 'restarting';
  pgCtl('start');
  // recovery: requests succeed again within a bounded time, on the same process
  const deadline = Date.now() + 20_000;
  let recovered = false;
  while (Date.now() < deadline) {
    const r = await fetch(`${serve.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: '{"query":"{ datasets { totalCount } }"}' });
    const body = await r.json() as any;
    if (r.status === 200 && body.data?.datasets) { recovered = true; break; }
    await sleep(200);
  }
  phase = 'after';
  await sleep(500);
  stop = true;
  await Promise.all(workers);
  assert.equal(serve.child.exitCode, null, 'the API process was not restarted (and did not die)');
  const hist: Record<string, Record<number, number>> = {};
  for (const s of seen) (hist[s.phase] ??= {})[s.status] = ((hist[s.phase] ??= {})[s.status] ?? 0) + 1;
  console.log(`postgres restart under load: ${seen.length} requests; status by phase ${JSON.stringify(hist)}`);
  assert.ok(recovered, 'requests succeed again once PostgreSQL is back');
  assert.ok(seen.filter((s) => s.phase === 'after').every((s) => s.status === 200), 'all requests succeed after recovery');
  assert.ok(seen.every((s) => s.status !== 0), 'the server answered every request (no reset, no crash)');
  assert.ok(seen.some((s) => s.phase === 'down' && s.status !== 200), 'the outage was seen (the database really went away)');
  // what the outage looks like to a client (503, not 500 or 401, no internals) is the #7 test below
  (globalThis as any).__pgFaultSeen = seen;
});

test('#7 while PostgreSQL is down: 503 with Retry-After and no internals, never 401 or a driver message', { skip: TEST_PROVIDER === 'postgres' ? false : 'PostgreSQL only' }, () => {
  const seen = ((globalThis as any).__pgFaultSeen ?? []) as { phase: string; status: number; body: string; retryAfter?: string | null }[];
  assert.ok(seen.length > 0, 'the restart test ran');
  const down = seen.filter((s) => s.phase === 'down');
  const summary = (xs: typeof seen) => [...new Set(xs.map((s) => `${s.status} ${s.body.slice(0, 160)}`))];
  assert.deepEqual(summary(down.filter((s) => s.status !== 503 && s.status !== 200)), [], 'every request that fails during the outage is 503 (never 500, never 401)');
  assert.ok(down.some((s) => s.status === 503), 'some requests saw the outage as 503');
  assert.ok(down.filter((s) => s.status === 503).every((s) => s.retryAfter), 'a 503 says when to retry');
  const leaks = seen.filter((s) => /ECONNREFUSED|prisma|postgres|pg_|terminating connection|127\.0\.0\.1:\d+/i.test(s.body) && !/"database":"postgres"/.test(s.body));
  assert.deepEqual(summary(leaks), [], 'no driver message reaches a client');
});
