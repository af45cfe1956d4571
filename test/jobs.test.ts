// The job queue and the worker protocol: atomic claims under concurrency (separate connections, both
// databases), lease expiry with attempts and backoff, cancellation through heartbeats, worker-key scoping.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openDatabase, type Database } from '../api/_lib/db/index.js';
import { claim, complete, enqueue, fail, heartbeat, requeueExpired, yieldLease, type QueueOptions } from '../api/_lib/jobs/queue.js';
import { createTestDatabaseUrl, openTestDatabase } from './helpers/db.js';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { cacheLines, writeDataset } from './helpers/fixtures.js';

const NO_BACKOFF: QueueOptions = { backoffBaseMs: 0, backoffMaxMs: 0 };

describe('queue service', () => {
  let conns: Database[] = [];
  let home: string;
  let databaseUrl: string | undefined;
  before(async () => {
    ({ home, databaseUrl } = await createTestDatabaseUrl());
    conns.push(await openDatabase({ home, databaseUrl }));
  });
  after(async () => { for (const c of conns) await c.close(); conns = []; });

  test('concurrent claimers in separate processes never get the same job, and every job is claimed once', { timeout: 90_000 }, async () => {
    const db = conns[0];
    for (let i = 0; i < 40; i++) await enqueue(db, { kind: 'TRAIN', payload: { i } });
    const startAt = Date.now() + 4000; // every process is up by then; they start claiming together
    const procs = ['p0', 'p1', 'p2'].map((w) => new Promise<string[]>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/claimer.ts', w], {
        env: { ...process.env, RIL_HOME: home, DATABASE_URL: databaseUrl ?? '', CLAIM_START_AT: String(startAt) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => { out += d; });
      child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`claimer ${w} exited ${code}`))));
    }));
    const results = await Promise.all(procs);
    const all = results.flat();
    assert.equal(all.length, 40, `claimed ${all.length}`);
    assert.equal(new Set(all).size, 40, 'no job was claimed twice');
    const rows = await db.prisma.job.findMany({ where: { kind: 'TRAIN' } });
    assert.ok(rows.every((j) => j.status === 'LEASED' && j.attempts === 1));
    for (const [i, ids] of results.entries()) for (const id of ids) assert.equal(rows.find((r) => r.id === id)!.leaseOwner, `p${i}`);
  });

  test('priority first, then age; kinds filter', async () => {
    const db = await openTestDatabase();
    conns.push(db);
    const low = await enqueue(db, { kind: 'EVALUATE', payload: {}, priority: 0 });
    const high = await enqueue(db, { kind: 'EVALUATE', payload: {}, priority: 5 });
    await enqueue(db, { kind: 'TEACHER_FILL', payload: {} });
    assert.equal((await claim(db, 'w', ['EVALUATE'], 60, NO_BACKOFF))!.id, high.id);
    assert.equal((await claim(db, 'w', ['EVALUATE'], 60, NO_BACKOFF))!.id, low.id);
    assert.equal(await claim(db, 'w', ['EVALUATE'], 60, NO_BACKOFF), null);
  });

  test('an expired lease returns the job with its attempt counted, after backoff; out of attempts it fails', async () => {
    const db = await openTestDatabase();
    conns.push(db);
    let now = new Date('2030-01-01T00:00:00Z');
    const opts: QueueOptions = { backoffBaseMs: 10_000, backoffMaxMs: 60_000, now: () => now };
    const job = await enqueue(db, { kind: 'EVALUATE', payload: { lease: true }, maxAttempts: 2 });
    await db.prisma.job.update({ where: { id: job.id }, data: { availableAt: now } });
    assert.equal((await claim(db, 'crashy', ['EVALUATE'], 30, opts))!.id, job.id);
    now = new Date(now.getTime() + 31_000);
    assert.equal(await requeueExpired(db, opts), 1);
    let row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.deepEqual([row.status, row.attempts, row.leaseOwner], ['QUEUED', 1, null]);
    assert.equal(row.availableAt.getTime(), now.getTime() + 10_000, 'backoff base * 2^0');
    assert.equal(await claim(db, 'other', ['EVALUATE'], 30, opts), null, 'not before the backoff');
    now = new Date(now.getTime() + 10_000);
    assert.equal((await claim(db, 'other', ['EVALUATE'], 30, opts))!.attempts, 2);
    await assert.rejects(heartbeat(db, job.id, 'crashy', { leaseSeconds: 30 }, opts), (e: any) => e.extensions.code === 'CONFLICT');
    now = new Date(now.getTime() + 31_000);
    await requeueExpired(db, opts);
    row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.equal(row.status, 'FAILED');
    assert.match(row.error!, /lease expired \(attempt 2 of 2\)/);
  });

  test('yieldLease (a paused drain): the job is re-queued by the next sweep without using up an attempt, however often it pauses', async () => {
    const db = await openTestDatabase();
    conns.push(db);
    let now = new Date('2030-01-01T00:00:00Z');
    const opts: QueueOptions = { backoffBaseMs: 0, backoffMaxMs: 0, now: () => now };
    const job = await enqueue(db, { kind: 'TEACHER_FILL', payload: {}, maxAttempts: 1 });
    await db.prisma.job.update({ where: { id: job.id }, data: { availableAt: now } });
    for (let pause = 0; pause < 3; pause++) {
      assert.equal((await claim(db, 'drain', ['TEACHER_FILL'], 600, opts))?.id, job.id, `claim after pause ${pause}`);
      await assert.rejects(yieldLease(db, job.id, 'someone-else', opts), (e: any) => e.extensions.code === 'CONFLICT');
      await yieldLease(db, job.id, 'drain', opts);
      const row = await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } });
      assert.deepEqual([row.status, row.attempts], ['LEASED', 0], 'still leased (nobody else claims it while paused), the attempt given back');
      now = new Date(now.getTime() + 1);
      assert.equal(await requeueExpired(db, opts), 1);
      assert.equal((await db.prisma.job.findUniqueOrThrow({ where: { id: job.id } })).status, 'QUEUED', 'maxAttempts 1, yet not FAILED');
    }
    await claim(db, 'drain', ['TEACHER_FILL'], 600, opts);
    assert.equal((await complete(db, job.id, 'drain', { ok: true }, opts)).status, 'SUCCEEDED');
    await assert.rejects(yieldLease(db, job.id, 'drain', opts), (e: any) => e.extensions.code === 'CONFLICT', 'a finished job cannot be paused');
  });

  test('fail: retryable goes back to the queue until maxAttempts; a lost lease cannot complete', async () => {
    const db = await openTestDatabase();
    conns.push(db);
    const job = await enqueue(db, { kind: 'TEACHER_FILL', payload: { f: 1 }, maxAttempts: 2 });
    await claim(db, 'w', ['TEACHER_FILL'], 60, NO_BACKOFF);
    assert.equal((await fail(db, job.id, 'w', 'boom', true, NO_BACKOFF)).status, 'QUEUED');
    await claim(db, 'w', ['TEACHER_FILL'], 60, NO_BACKOFF);
    const failed = await fail(db, job.id, 'w', 'boom again', true, NO_BACKOFF);
    assert.deepEqual([failed.status, failed.error], ['FAILED', 'boom again']);
    await assert.rejects(complete(db, job.id, 'w', {}, NO_BACKOFF), (e: any) => e.extensions.code === 'CONFLICT');
  });
});

describe('experiments, runs and the worker protocol over GraphQL', () => {
  let t: TestServer;
  let datasetId: string;
  let experimentId: string;
  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0', RIL_TS_WORKER_POLL_MS: '0' });
    const { file, lines } = await writeDataset(8);
    datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "jobs", path: $p }) { id } }`, { p: file })).data.importDataset.id;
    await t.gql(`mutation($d: ID!, $j: String!) { importTeacherResponses(input: { datasetId: $d, jsonl: $j }) { imported } }`,
      { d: datasetId, j: cacheLines(lines.map((l) => l.id), ['teach'], 2).map((l) => JSON.stringify(l)).join('\n') });
  });
  after(async () => { await t.close(); });

  const CREATE = `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id algorithm teachers config } }`;

  test('createExperiment fills the trainer defaults and rejects unknown keys, bad ranges and platform keys', async () => {
    const ok = await t.gql(CREATE, { i: { name: 'exp-ok', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { lr: 0.003, max_steps: 40 } } });
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    const cfg = ok.data.createExperiment.config;
    assert.equal(cfg.lr, 0.003);
    assert.equal(cfg.batch_size, 64, 'default filled in');
    assert.equal('seed' in cfg, false, 'platform keys are not part of the config');
    experimentId = ok.data.createExperiment.id;
    const bad = await t.gql(CREATE, { i: { name: 'exp-bad', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { lrr: 1, batch_size: 0, lr: 'x', seed: 3, target: 'nope' } } });
    assert.equal(errorCode(bad), 'BAD_USER_INPUT');
    const problems = bad.errors![0].extensions!.problems as string[];
    for (const p of [/unknown key lrr/, /batch_size must be >= 1/, /lr must be number/, /seed is set by the platform/, /target must be one of/]) {
      assert.ok(problems.some((x) => p.test(x)), `${p} in ${JSON.stringify(problems)}`);
    }
    assert.equal(errorCode(await t.gql(CREATE, { i: { name: 'exp-ril', datasetId, studentSize: 'nano', algorithm: 'RIL' } })), 'BAD_USER_INPUT', 'RIL needs teachers');
    assert.equal(errorCode(await t.gql(CREATE, { i: { name: 'exp-t', datasetId, studentSize: 'nano', algorithm: 'RIL', teachers: ['ghost'] } })), 'BAD_USER_INPUT');
    assert.equal(errorCode(await t.gql(CREATE, { i: { name: 'exp-ok', datasetId, studentSize: 'nano', algorithm: 'SFT' } })), 'CONFLICT');
    assert.equal(errorCode(await t.gql(CREATE, { i: { name: 'exp-size', datasetId, studentSize: 'huge', algorithm: 'SFT' } })), 'BAD_USER_INPUT');
  });

  async function worker(name: string) {
    const key = await t.keyFor('WORKER');
    const w = await t.gql(`mutation { registerWorker(input: { name: "${name}", capabilities: { device: "cpu" } }) { id } }`, {}, key);
    return { key, id: w.data.registerWorker.id as string };
  }
  const CLAIM = `mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN], leaseSeconds: 30 }) { id kind payload attempts run { id status } } }`;
  const HEARTBEAT = `mutation($j: ID!, $w: ID!, $s: Int, $a: Int = 1) { heartbeat(input: { jobId: $j, workerId: $w, step: $s, attempt: $a }) { cancelRequested } }`;
  const REPORT = `mutation($r: ID!, $w: ID!, $p: [MetricInput!]!, $a: Int = 1) { reportMetrics(input: { runId: $r, workerId: $w, points: $p, attempt: $a }) { written duplicates } }`;

  test('a run goes QUEUED -> RUNNING -> SUCCEEDED; metrics are idempotent; another key sees and touches nothing', async () => {
    const run = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 7 }) { id status totalSteps } }`, { e: experimentId })).data.startRun;
    assert.deepEqual([run.status, run.totalSteps], ['QUEUED', 40]);
    const a = await worker('a');
    const b = await worker('b');
    const job = (await t.gql(CLAIM, { w: a.id }, a.key)).data.claimJob;
    assert.equal(job.payload.seed, 7);
    assert.equal(job.payload.algorithm, 'sft');
    assert.equal(job.payload.config.lr, 0.003);
    assert.equal(job.run.status, 'RUNNING');
    assert.equal((await t.gql(CLAIM, { w: b.id }, b.key)).data.claimJob, null, 'nothing left for b');

    // scoping: b cannot use a's worker id, nor touch a's job or run, nor see it
    assert.equal(errorCode(await t.gql(HEARTBEAT, { j: job.id, w: a.id }, b.key)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(HEARTBEAT, { j: job.id, w: b.id }, b.key)), 'CONFLICT');
    assert.equal(errorCode(await t.gql(REPORT, { r: run.id, w: b.id, p: [{ name: 'x', step: 1, value: 1 }] }, b.key)), 'CONFLICT');
    assert.deepEqual((await t.gql('{ jobs { id } }', {}, b.key)).data.jobs, []);
    assert.equal(errorCode(await t.gql(`query($j: ID!) { job(id: $j) { id } }`, { j: job.id }, b.key)), 'NOT_FOUND');
    assert.deepEqual((await t.gql('{ jobs { id } }', {}, a.key)).data.jobs, [{ id: job.id }]);
    assert.equal(errorCode(await t.gql(`mutation($r: ID) { registerArtifact(input: { blobSha256: "${'a'.repeat(64)}", kind: OTHER, name: "x", runId: $r }) { id } }`, { r: run.id }, b.key)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(CLAIM, { w: a.id }, await t.keyFor('VIEWER'))), 'FORBIDDEN');

    const points = [{ name: 'reward/total', step: 1, value: 0.5 }, { name: 'reward/total', step: 2, value: 0.75 }, { name: 'policy/kl', step: 2, value: 0.01 }];
    assert.deepEqual((await t.gql(REPORT, { r: run.id, w: a.id, p: points }, a.key)).data.reportMetrics, { written: 3, duplicates: 0 });
    const replay = [...points, { name: 'reward/total', step: 3, value: 1 }];
    assert.deepEqual((await t.gql(REPORT, { r: run.id, w: a.id, p: replay }, a.key)).data.reportMetrics, { written: 1, duplicates: 3 });
    assert.deepEqual((await t.gql(HEARTBEAT, { j: job.id, w: a.id, s: 20 }, a.key)).data.heartbeat, { cancelRequested: false });
    const mid = await t.gql(`query($r: ID!) { run(id: $r) { step progress metrics(names: ["reward/total"]) { name points { step value } } } }`, { r: run.id });
    assert.deepEqual(mid.data.run.metrics, [{ name: 'reward/total', points: [{ step: 1, value: 0.5 }, { step: 2, value: 0.75 }, { step: 3, value: 1 }] }]);
    assert.equal(mid.data.run.progress, 0.5);
    const done = await t.gql(`mutation($j: ID!, $w: ID!) { completeJob(input: { jobId: $j, workerId: $w, attempt: 1, result: { ok: true } }) { status } }`, { j: job.id, w: a.id }, a.key);
    assert.equal(done.data.completeJob.status, 'SUCCEEDED');
    const final = await t.gql(`query($r: ID!) { run(id: $r) { status step finishedAt } }`, { r: run.id });
    assert.deepEqual([final.data.run.status, final.data.run.step], ['SUCCEEDED', 40]);
  });

  test('cancel: a queued run at once; a running run through the heartbeat; then retry re-queues it', async () => {
    const queued = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 1 }) { id } }`, { e: experimentId })).data.startRun;
    assert.equal((await t.gql(`mutation($r: ID!) { cancelRun(id: $r) { status } }`, { r: queued.id })).data.cancelRun.status, 'CANCELLED');
    const running = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 2 }) { id } }`, { e: experimentId })).data.startRun;
    const w = await worker('c');
    const job = (await t.gql(CLAIM, { w: w.id }, w.key)).data.claimJob;
    assert.equal(job.run.id, running.id);
    assert.equal((await t.gql(`mutation($r: ID!) { cancelRun(id: $r) { status } }`, { r: running.id })).data.cancelRun.status, 'RUNNING');
    assert.deepEqual((await t.gql(HEARTBEAT, { j: job.id, w: w.id }, w.key)).data.heartbeat, { cancelRequested: true });
    const ack = await t.gql(`mutation($j: ID!, $w: ID!) { failJob(input: { jobId: $j, workerId: $w, attempt: 1, error: "stopped on request" }) { status } }`, { j: job.id, w: w.id }, w.key);
    assert.equal(ack.data.failJob.status, 'CANCELLED');
    assert.equal((await t.gql(`query($r: ID!) { run(id: $r) { status } }`, { r: running.id })).data.run.status, 'CANCELLED');
    const retried = await t.gql(`mutation($r: ID!) { retryRun(id: $r) { status job { id status attempts } } }`, { r: running.id });
    assert.equal(retried.data.retryRun.status, 'QUEUED');
    assert.notEqual(retried.data.retryRun.job.id, job.id);
    assert.equal(errorCode(await t.gql(`mutation($r: ID!) { retryRun(id: $r) { status } }`, { r: running.id })), 'CONFLICT');
  });

  test('compareRuns aligns series, lists finals and the config keys that differ', async () => {
    const exp2 = (await t.gql(CREATE, { i: { name: 'exp-cmp', datasetId, studentSize: 'nano', algorithm: 'RIL', teachers: ['teach'], config: { lr: 0.001, max_steps: 40 } } })).data.createExperiment.id;
    const r1 = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 11 }) { id } }`, { e: experimentId })).data.startRun.id;
    const r2 = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e, seed: 12 }) { id } }`, { e: exp2 })).data.startRun.id;
    const { reportMetrics } = await import('../api/_lib/experiments/metrics.js');
    await reportMetrics(t.platform.db, r1, [{ name: 'eval/test/accuracy', step: 40, value: 0.5 }, { name: 'reward/total', step: 1, value: 1 }]);
    await reportMetrics(t.platform.db, r2, [{ name: 'eval/test/accuracy', step: 40, value: 0.7 }]);
    const cmp = (await t.gql(`query($ids: [ID!]!) { compareRuns(ids: $ids) { series { name runs { runId points { step value } } } finals { runId metrics { name value } } differingConfig { key values } } }`, { ids: [r1, r2] })).data.compareRuns;
    assert.deepEqual(cmp.series.map((s: any) => s.name), ['eval/test/accuracy', 'reward/total']);
    assert.deepEqual(cmp.series[1].runs.map((r: any) => r.points.length), [1, 0]);
    assert.deepEqual(cmp.finals.map((f: any) => f.metrics.find((m: any) => m.name === 'eval/test/accuracy').value), [0.5, 0.7]);
    const keys = cmp.differingConfig.map((d: any) => d.key);
    for (const k of ['algorithm', 'config.lr', 'seed', 'teachers']) assert.ok(keys.includes(k), `${k} in ${keys}`);
    assert.equal(keys.includes('config.batch_size'), false);
    assert.deepEqual(cmp.differingConfig.find((d: any) => d.key === 'config.lr').values, [0.003, 0.001]);
  });
});
