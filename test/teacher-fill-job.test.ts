// Teacher fills as queued jobs: fillTeacherCache (GraphQL) checks the request and queues a TEACHER_FILL job; the one
// drain (functions/teacher-fill/drain.ts) works it in `ril serve`'s in-process loop and in the cron function
// api/cron/teacher-fill.ts (called over HTTP, with and without the cron secret); a drain whose budget runs out pauses
// its job mid-fill and a later drain finishes it, each sample asked of the (local, real-HTTP) teacher exactly once;
// api/cron/sweep-leases.ts re-queues an expired lease.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { startOpenAIMock, type OpenAIMock } from './helpers/openaiMock.js';
import { writeDataset } from './helpers/fixtures.js';
import { startInProcessWorker } from '../functions/teacher-fill/worker.js';
import { drainTeacherFills } from '../functions/teacher-fill/drain.js';
import { claim, enqueue } from '../api/_lib/jobs/queue.js';
import { runCli } from './helpers/cli.js';
import { until } from './helpers/until.js';

let t: TestServer;
let seq = 0;
const mocks: OpenAIMock[] = [];

before(async () => {
  // the mock teachers listen on 127.0.0.1, which outbound calls may reach only when the operator allows it
  t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_JOB_BACKOFF_MAX_MS: '0', RIL_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
});
after(async () => {
  for (const m of mocks) await m.close();
  await t.close();
});

const FILL = `mutation($i: FillTeacherCacheInput!) { fillTeacherCache(input: $i) { id kind status result payload } }`;
const JOB = `query($j: ID!) { job(id: $j) { id status error result attempts leaseExpiresAt leaseOwner { name } } }`;

/** A dataset of n examples and an ENDPOINT teacher pointed at a fresh mock. */
async function setup(n: number, mockOpts: Parameters<typeof startOpenAIMock>[0] = {}) {
  const k = ++seq;
  const mock = await startOpenAIMock({ requireImage: true, ...mockOpts });
  mocks.push(mock);
  const { file } = await writeDataset(n);
  const imported = await t.gql(`mutation($p: String!, $n: String!) { importDataset(input: { name: $n, path: $p }) { id } }`, { p: file, n: `fill${k}` });
  const datasetId = imported.data.importDataset.id as string;
  const teacher = `mockvlm${k}`;
  await t.gql(`mutation($n: String!, $u: String!) { registerTeacher(input: { name: $n, model: "mock", kind: ENDPOINT, baseUrl: $u }) { name } }`, { n: teacher, u: mock.url });
  return { mock, datasetId, teacher };
}

async function waitFor(jobId: string) {
  for (let i = 0; i < 400; i++) {
    const r = await t.gql(JOB, { j: jobId });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.data.job.status)) return r.data.job;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('job did not finish');
}

/** (question, seed) of every request the mock received, to check nothing was asked twice. */
const asked = (mock: OpenAIMock) => mock.requests.map((r) => `${r.text}#${r.seed}`);

describe('fillTeacherCache queues a TEACHER_FILL job', () => {
  test('the mutation answers a QUEUED job at once, without calling the teacher', async () => {
    const { mock, datasetId, teacher } = await setup(3);
    const r = await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 2 } });
    assert.equal(r.errors, undefined);
    const job = r.data.fillTeacherCache;
    assert.deepEqual([job.kind, job.status, job.result], ['TEACHER_FILL', 'QUEUED', null]);
    assert.deepEqual(job.payload, { datasetId, teacher, samplesPerExample: 2, concurrency: 4 });
    assert.equal(mock.requests.length, 0);
    await t.platform.db.prisma.job.update({ where: { id: job.id }, data: { status: 'CANCELLED' } }); // out of the other tests' way
  });

  test('bad input is refused when queueing (typed errors), and nothing is queued', async () => {
    const { datasetId, teacher } = await setup(1);
    const before = await t.platform.db.prisma.job.count();
    await t.gql(`mutation { registerTeacher(input: { name: "imported-only", model: "m", kind: IMPORTED }) { name } }`);
    const cases: [Record<string, unknown>, string][] = [
      [{ datasetId: 'nope', teacher }, 'NOT_FOUND'],
      [{ datasetId, teacher: 'nobody' }, 'NOT_FOUND'],
      [{ datasetId, teacher: 'imported-only' }, 'BAD_USER_INPUT'],
      [{ datasetId, teacher, samplesPerExample: 0 }, 'BAD_USER_INPUT'],
      [{ datasetId, teacher, concurrency: 1000 }, 'BAD_USER_INPUT'],
    ];
    for (const [input, code] of cases) assert.equal(errorCode(await t.gql(FILL, { i: input })), code, JSON.stringify(input));
    const viewer = await t.keyFor('VIEWER');
    assert.equal(errorCode(await t.gql(FILL, { i: { datasetId, teacher } }, viewer)), 'FORBIDDEN');
    assert.equal(await t.platform.db.prisma.job.count(), before);
  });

  test('ril serve\'s in-process loop drains it; a second fill asks nothing', async () => {
    const { mock, datasetId, teacher } = await setup(5);
    const worker = startInProcessWorker(t.platform, { pollMs: 50, queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
    try {
      const job = (await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 2, concurrency: 2 } })).data.fillTeacherCache;
      const done = await waitFor(job.id);
      assert.equal(done.status, 'SUCCEEDED', done.error);
      assert.equal(done.leaseOwner, null);
      assert.deepEqual(done.result, { requested: 10, filled: 10, alreadyCached: 0, failed: 0, errors: [] });
      assert.equal(mock.requests.length, 10);
      const cov = await t.gql(`query($d: ID!, $n: String!) { teacher(name: $n) { coverage(datasetId: $d, minSamples: 2) { covered total } } }`, { d: datasetId, n: teacher });
      assert.deepEqual(cov.data.teacher.coverage, { covered: 5, total: 5 });
      const again = await waitFor((await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 2 } })).data.fillTeacherCache.id);
      assert.deepEqual([again.status, again.result.alreadyCached, again.result.requested, mock.requests.length], ['SUCCEEDED', 10, 0, 10]);
    } finally {
      await worker.stop();
    }
  });
});

describe('a drain with a time budget', () => {
  test('stops mid-job, leaving it leased and paused; a later drain resumes it and each sample is asked exactly once', async () => {
    // 120 requests of 120 ms, two at a time: 7.2 s of work for a 6 s budget. The budget is large enough that its
    // reserve (600 ms: no new request after 5.4 s, in-flight ones cancelled at 5.85 s) leaves a loaded machine room
    // to finish and cache the requests in flight and to settle the job inside the budget.
    const BUDGET_MS = 6000;
    const TOTAL = 120;
    const { mock, datasetId, teacher } = await setup(40, { latencyMs: 120 });
    const job = (await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 3, concurrency: 2 } })).data.fillTeacherCache;
    const first = await drainTeacherFills({ services: t.platform, budgetMs: BUDGET_MS, workerName: 'budget-test', queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
    assert.equal(first.stoppedBy, 'budget');
    assert.deepEqual(first.jobs.map((j) => [j.id, j.outcome]), [[job.id, 'PAUSED']]);
    assert.ok(first.elapsedMs < BUDGET_MS, `kept to its budget (${first.elapsedMs} ms)`);
    const paused = await t.platform.db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(paused.status, 'LEASED', 'left leased, not failed');
    assert.ok(paused.leaseExpiresAt!.getTime() <= Date.now(), 'its lease expires at once, so it is re-queued by the next claim or sweep');
    assert.equal(paused.attempts, 0, 'a pause does not use up an attempt');
    const cached = await t.platform.db.prisma.teacherResponse.count({ where: { teacher: { name: teacher } } });
    assert.ok(cached > 0 && cached < TOTAL, `some but not all pairs cached (${cached})`);
    assert.equal(mock.requests.length, cached, 'requests in flight at the stop were let finish and were cached');
    assert.equal(JSON.parse(paused.result!).progress.done, cached, 'the job shows its progress');

    const second = await drainTeacherFills({ services: t.platform, budgetMs: Infinity, workerName: 'budget-test', queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
    assert.equal(second.stoppedBy, 'empty');
    assert.deepEqual(second.jobs.map((j) => [j.id, j.outcome]), [[job.id, 'SUCCEEDED']]);
    const done = (await t.gql(JOB, { j: job.id })).data.job;
    assert.equal(done.status, 'SUCCEEDED');
    assert.deepEqual([done.result.requested, done.result.alreadyCached, done.result.filled], [TOTAL - cached, cached, TOTAL - cached]);
    assert.equal(mock.requests.length, TOTAL);
    assert.equal(new Set(asked(mock)).size, TOTAL, 'no (example, sample) was asked twice');
  });
});

describe('the CLI', () => {
  /** The test server's database, for commands that open it directly. */
  const local = () => ({ RIL_HOME: t.home, DATABASE_URL: t.platform.env.DATABASE_URL, RIL_API_URL: undefined, RIL_JOB_BACKOFF_MS: '0', RIL_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });

  test('ril teachers fill (local) queues the job and drains it in-process; --no-wait only queues it', async () => {
    const { mock, datasetId, teacher } = await setup(3);
    const r = await runCli(['teachers', 'fill', '--dataset', datasetId, '--teacher', teacher, '--samples', '2', '--json'], local());
    assert.equal(r.code, 0, r.stderr);
    const job = JSON.parse(r.stdout);
    assert.equal(job.status, 'SUCCEEDED');
    assert.deepEqual([job.result.requested, job.result.filled], [6, 6]);
    assert.equal(mock.requests.length, 6);
    const queued = await runCli(['teachers', 'fill', '--dataset', datasetId, '--teacher', teacher, '--samples', '3', '--no-wait', '--json'], local());
    assert.equal(queued.code, 0, queued.stderr);
    assert.equal(JSON.parse(queued.stdout).status, 'QUEUED');
    assert.equal(mock.requests.length, 6, 'nothing asked yet');

    // ... and `ril worker --kind teacher-fill` (connected to the database like ril serve) drains it
    const w = await runCli(['worker', '--kind', 'teacher-fill', '--exit-when-idle'], local());
    assert.equal(w.code, 0, w.stderr);
    const done = (await t.gql(JOB, { j: JSON.parse(queued.stdout).id })).data.job;
    assert.deepEqual([done.status, done.result.requested, done.result.alreadyCached], ['SUCCEEDED', 3, 6]);
    assert.equal(mock.requests.length, 9);
    assert.equal(new Set(asked(mock)).size, 9);
    const bad = await runCli(['worker', '--kind', 'gpu'], local());
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--kind must be one of train, teacher-fill/);
  });

  test('ril teachers fill against an API queues the job and watches the server drain it', async () => {
    const { mock, datasetId, teacher } = await setup(4, { latencyMs: 20 });
    const worker = startInProcessWorker(t.platform, { pollMs: 50, queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
    try {
      const r = await runCli(['teachers', 'fill', '--dataset', datasetId, '--teacher', teacher, '--json'], { RIL_API_URL: t.url, RIL_API_KEY: t.adminKey });
      assert.equal(r.code, 0, r.stderr);
      const job = JSON.parse(r.stdout);
      assert.deepEqual([job.status, job.result.filled, job.result.failed], ['SUCCEEDED', 4, 0]);
      assert.equal(mock.requests.length, 4);
      const refused = await runCli(['teachers', 'fill', '--dataset', 'nope', '--teacher', teacher], { RIL_API_URL: t.url, RIL_API_KEY: t.adminKey });
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /\[NOT_FOUND\]: dataset nope not found/);
    } finally {
      await worker.stop();
    }
  });
});

// ---- the cron functions, served as @vercel/node serves them ----

type Fn = ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) & { shutdown(): Promise<void> };

async function serve(fn: Fn) {
  const server = http.createServer((req, res) => void fn(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('cron functions', () => {
  const saved = { ...process.env };
  const SECRET = 'cron-secret-for-tests-0123456789';
  let fill: Fn;
  let sweep: Fn;
  let fillUrl: string;
  let sweepUrl: string;
  const servers: { close(): Promise<void> }[] = [];

  before(async () => {
    // the functions read their configuration from the environment: the test server's database
    process.env.RIL_HOME = t.home;
    if (t.platform.env.DATABASE_URL) process.env.DATABASE_URL = t.platform.env.DATABASE_URL; else delete process.env.DATABASE_URL;
    Object.assign(process.env, { CRON_SECRET: SECRET, RIL_JOB_BACKOFF_MS: '0', RIL_JOB_BACKOFF_MAX_MS: '0', RIL_CRON_BUDGET_MS: '20000', RIL_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' });
    fill = (await import('../api/cron/teacher-fill.js')).default as Fn;
    sweep = (await import('../api/cron/sweep-leases.js')).default as Fn;
    const f = await serve(fill);
    const s = await serve(sweep);
    servers.push(f, s);
    fillUrl = `${f.url}/api/cron/teacher-fill`;
    sweepUrl = `${s.url}/api/cron/sweep-leases`;
  });
  after(async () => {
    for (const s of servers) await s.close();
    await fill?.shutdown();
    await sweep?.shutdown();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  const call = (url: string, secret?: string) => fetch(url, { headers: secret ? { authorization: `Bearer ${secret}` } : {} });

  test('teacher-fill: refused without the cron secret (nothing drained), drains with it and answers a summary', async () => {
    const { mock, datasetId, teacher } = await setup(4);
    const job = (await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 2 } })).data.fillTeacherCache;
    for (const secret of [undefined, 'wrong-secret']) {
      const refused = await call(fillUrl, secret);
      assert.equal(refused.status, 401);
      assert.match((await refused.json() as any).error.message, /CRON_SECRET/);
    }
    assert.equal((await t.gql(JOB, { j: job.id })).data.job.status, 'QUEUED');
    assert.equal(mock.requests.length, 0);

    const res = await call(fillUrl, SECRET);
    assert.equal(res.status, 200);
    const summary = await res.json() as any;
    assert.equal(summary.stoppedBy, 'empty');
    assert.deepEqual(summary.jobs.filter((j: any) => j.id === job.id).map((j: any) => [j.outcome, j.result.filled]), [['SUCCEEDED', 8]]);
    const done = (await t.gql(JOB, { j: job.id })).data.job;
    assert.deepEqual([done.status, done.leaseOwner], ['SUCCEEDED', null]);
    assert.equal(mock.requests.length, 8);
  });

  test('sweep-leases: re-queues an expired lease (and only that)', async () => {
    const db = t.platform.db;
    const worker = await db.prisma.worker.create({ data: { name: 'dead-worker', keyId: null } });
    const expired = await enqueue(db, { kind: 'EVALUATE', payload: {}, priority: 100 });
    const live = await enqueue(db, { kind: 'EVALUATE', payload: {}, priority: 99 });
    assert.equal((await claim(db, worker.id, ['EVALUATE'], 600, { backoffBaseMs: 0, backoffMaxMs: 0 }))?.id, expired.id);
    assert.equal((await claim(db, worker.id, ['EVALUATE'], 600, { backoffBaseMs: 0, backoffMaxMs: 0 }))?.id, live.id);
    // the worker that took the first job died: its lease ran out a minute ago
    await db.prisma.job.update({ where: { id: expired.id }, data: { leaseExpiresAt: new Date(Date.now() - 60_000) } });

    assert.equal((await call(sweepUrl)).status, 401);
    assert.equal((await db.prisma.job.findUniqueOrThrow({ where: { id: expired.id } })).status, 'LEASED');
    const res = await call(sweepUrl, SECRET);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { swept: 1 });
    const after = await db.prisma.job.findUniqueOrThrow({ where: { id: expired.id } });
    assert.deepEqual([after.status, after.leaseOwner], ['QUEUED', null]);
    assert.match(after.error ?? '', /lease expired/);
    assert.equal((await db.prisma.job.findUniqueOrThrow({ where: { id: live.id } })).status, 'LEASED', 'a live lease is kept');
    assert.deepEqual(await (await call(sweepUrl, SECRET)).json(), { swept: 0 }, 'sweeping twice moves nothing');
    await db.prisma.job.updateMany({ where: { id: { in: [expired.id, live.id] } }, data: { status: 'CANCELLED', leaseOwner: null } });
  });

  test('in functions mode with CRON_SECRET unset, every call is refused (before touching the database)', async () => {
    await fill.shutdown();
    await sweep.shutdown();
    process.env.RIL_DEPLOYMENT = 'functions';
    delete process.env.CRON_SECRET;
    try {
      for (const url of [fillUrl, sweepUrl]) {
        for (const secret of [undefined, SECRET, '']) {
          const res = await call(url, secret);
          assert.equal(res.status, 401, url);
          assert.match((await res.json() as any).error.message, /CRON_SECRET is not set/);
        }
      }
    } finally {
      await fill.shutdown();
      await sweep.shutdown();
      delete process.env.RIL_DEPLOYMENT;
      process.env.CRON_SECRET = SECRET;
    }
  });
});

describe('#15 a heartbeat that fails does not cost the job', () => {
  // A real fault: a trigger makes every heartbeat's UPDATE of Job.heartbeatAt fail until two have failed, then goes
  // away. The drain must retry (with backoff, while its lease holds) and finish the job; before, one failed heartbeat
  // failed the job.
  test('heartbeats fail mid-fill: the drain retries them and the job still succeeds, each sample asked once', async () => {
    const { mock, datasetId, teacher } = await setup(24, { latencyMs: 150 });
    const job = (await t.gql(FILL, { i: { datasetId, teacher, samplesPerExample: 1, concurrency: 1 } })).data.fillTeacherCache;
    const { prisma, provider } = t.platform.db;
    if (provider === 'sqlite') {
      await prisma.$executeRawUnsafe('CREATE TABLE ril_test_hb_fault (on_ INTEGER)');
      await prisma.$executeRawUnsafe(`CREATE TRIGGER ril_test_hb_fault BEFORE UPDATE OF "heartbeatAt" ON "Job" WHEN (SELECT count(*) FROM ril_test_hb_fault) > 0 BEGIN SELECT RAISE(ABORT, 'injected heartbeat fault'); END`);
    } else {
      await prisma.$executeRawUnsafe('CREATE TABLE ril_test_hb_fault (on_ INTEGER)');
      await prisma.$executeRawUnsafe(`CREATE FUNCTION ril_test_hb_fault() RETURNS trigger AS $$ BEGIN IF (SELECT count(*) FROM ril_test_hb_fault) > 0 THEN RAISE EXCEPTION 'injected heartbeat fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`);
      await prisma.$executeRawUnsafe(`CREATE TRIGGER ril_test_hb_fault BEFORE UPDATE OF "heartbeatAt" ON "Job" FOR EACH ROW EXECUTE FUNCTION ril_test_hb_fault()`);
    }
    try {
      // The drain logs each failed heartbeat: the fault stays on until two have failed (the first try and a retry),
      // however slow or fast the machine, and then goes away while the lease still holds.
      const failures: string[] = [];
      const logError = console.error;
      console.error = (...args: unknown[]) => { if (String(args[0]).includes(`heartbeat of job ${job.id} failed`)) failures.push(String(args[0])); else logError(...args); };
      let summary, during;
      try {
        const drained = drainTeacherFills({ services: t.platform, budgetMs: Infinity, leaseSeconds: 4, workerName: 'hb-fault', queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
        await until(async () => (await prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status === 'LEASED', 'the drain to claim the job', 10_000, 20);
        await prisma.$executeRawUnsafe('INSERT INTO ril_test_hb_fault (on_) VALUES (1)');
        const claimed = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
        await until(() => failures.length >= 2, 'two failed heartbeats (due every 4/3 s, retried after 250 ms)', 10_000, 20);
        during = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
        assert.equal(during.heartbeatAt?.getTime(), claimed.heartbeatAt?.getTime(), 'no heartbeat got through during the fault');
        assert.equal(during.status, 'LEASED', 'the job is still being worked');
        await prisma.$executeRawUnsafe('DELETE FROM ril_test_hb_fault');
        summary = await drained;
      } finally {
        console.error = logError;
      }
      assert.deepEqual(summary.jobs.map((j) => [j.id, j.outcome]), [[job.id, 'SUCCEEDED']]);
      const done = await prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      assert.ok(done.heartbeatAt! > during.heartbeatAt!, 'a retried heartbeat got through once the fault was gone');
      assert.equal(mock.requests.length, 24);
      assert.equal(new Set(asked(mock)).size, 24, 'no sample was asked twice');
    } finally {
      await prisma.$executeRawUnsafe(`DROP TRIGGER ril_test_hb_fault${provider === 'sqlite' ? '' : ' ON "Job"'}`);
      if (provider !== 'sqlite') await prisma.$executeRawUnsafe('DROP FUNCTION ril_test_hb_fault()');
      await prisma.$executeRawUnsafe('DROP TABLE ril_test_hb_fault');
    }
  });
});
