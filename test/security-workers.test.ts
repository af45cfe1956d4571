// Security: workers touch only what their lease covers (issue 11, items 1, 11, 12, 13). Every test is an
// exploit attempt over real HTTP against the real platform on a fresh database (SQLite or PostgreSQL), with
// the key of the role an attacker would hold.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { uploadBlob } from './helpers/deploy.js';
import { writeDataset } from './helpers/fixtures.js';

const CLAIM = `mutation($w: ID!, $s: Int = 30) { claimJob(input: { workerId: $w, kinds: [TRAIN], leaseSeconds: $s }) { id attempts run { id } } }`;
const HEARTBEAT = `mutation($j: ID!, $w: ID!, $a: Int!, $s: Int = 60) { heartbeat(input: { jobId: $j, workerId: $w, attempt: $a, leaseSeconds: $s }) { cancelRequested leaseExpiresAt } }`;
const REPORT = `mutation($r: ID!, $w: ID!, $a: Int!, $p: [MetricInput!]!) { reportMetrics(input: { runId: $r, workerId: $w, attempt: $a, points: $p }) { written duplicates } }`;
const COMPLETE = `mutation($j: ID!, $w: ID!, $a: Int!) { completeJob(input: { jobId: $j, workerId: $w, attempt: $a }) { status } }`;
const REGISTER = `mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id kind createdAt } }`;
const LATEST = `query($r: ID!) { run(id: $r) { latestCheckpoint { id metadata } artifacts(kind: CHECKPOINT) { id } } }`;

describe('security: workers and leases', () => {
  let t: TestServer;
  let experimentId: string;
  let editorKey: string;
  before(async () => {
    t = await startTestServer({ RIL_JOB_BACKOFF_MS: '0' });
    editorKey = await t.keyFor('EDITOR');
    const { file } = await writeDataset(4);
    const datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "sec", path: $p }) { id } }`, { p: file })).data.importDataset.id;
    experimentId = (await t.gql(`mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }`,
      { i: { name: 'sec-exp', datasetId, studentSize: 'nano', algorithm: 'SFT', config: { max_steps: 40 } } })).data.createExperiment.id;
  });
  after(async () => { await t.close(); });

  async function worker(name: string, key?: string) {
    key ??= await t.keyFor('WORKER');
    const w = await t.gql(`mutation { registerWorker(input: { name: "${name}" }) { id } }`, {}, key);
    return { key, id: w.data.registerWorker.id as string };
  }
  /** A fresh run whose TRAIN job `w` has claimed: the run, the job and the lease's fencing token. */
  async function leasedRun(w: { key: string; id: string }, leaseSeconds = 3600) {
    // (an hour: a lease that ran out while the describe goes on would let the next claim re-queue this older job first)
    const runId = (await t.gql(`mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e: experimentId })).data.startRun.id as string;
    const job = (await t.gql(CLAIM, { w: w.id, s: leaseSeconds }, w.key)).data.claimJob;
    assert.equal(job.run.id, runId, 'the worker holds the new run');
    return { runId, jobId: job.id as string, attempt: job.attempts as number };
  }
  const blob = (label: string) => uploadBlob(t, Buffer.concat([Buffer.from(`checkpoint ${label} `), crypto.randomBytes(16)]));

  test('#1 an EDITOR (or an ADMIN) cannot plant a CHECKPOINT or a BUNDLE for a run, even naming the lease', async () => {
    const w = await worker('victim');
    const { runId, jobId, attempt } = await leasedRun(w);
    const sha = await blob('planted');
    const planted = { blobSha256: sha, kind: 'CHECKPOINT', name: 'checkpoint-999999999', runId, metadata: { step: 1e9 } };
    // what the exploit sent before: no worker at all
    assert.equal(errorCode(await t.gql(REGISTER, { i: planted }, editorKey)), 'FORBIDDEN');
    // and what an EDITOR can read about the lease (Job.leaseOwner, Job.attempts): still not its worker
    const seen = (await t.gql(`query($j: ID!) { job(id: $j) { attempts leaseOwner { id } } }`, { j: jobId }, editorKey)).data.job;
    assert.deepEqual(seen, { attempts: attempt, leaseOwner: { id: w.id } });
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...planted, workerId: w.id, attempt } }, editorKey)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...planted, workerId: w.id, attempt } })), 'FORBIDDEN', 'ADMIN neither');
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...planted, kind: 'BUNDLE' } }, editorKey)), 'FORBIDDEN', "a run's BUNDLE neither");
    // another WORKER key, with its own worker or with the victim's
    const other = await worker('other');
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...planted, workerId: other.id, attempt } }, other.key)), 'CONFLICT');
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...planted, workerId: w.id, attempt } }, other.key)), 'FORBIDDEN');
    const r = (await t.gql(LATEST, { r: runId })).data.run;
    assert.deepEqual([r.latestCheckpoint, r.artifacts], [null, []], 'nothing was registered');
    // the lease holder itself may
    const ok = await t.gql(REGISTER, { i: { ...planted, name: 'checkpoint-00000010', metadata: { step: 10 }, workerId: w.id, attempt } }, w.key);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    assert.equal((await t.gql(LATEST, { r: runId })).data.run.latestCheckpoint.id, ok.data.registerArtifact.id);
  });

  test('#1 a worker whose lease expired and was claimed again is refused, even with the same key and worker', async () => {
    const w = await worker('flaky');
    const { runId, jobId, attempt: stale } = await leasedRun(w, 1);
    await new Promise((r) => setTimeout(r, 1_200)); // the lease runs out; the next claim requeues and re-leases it
    const again = (await t.gql(CLAIM, { w: w.id }, w.key)).data.claimJob;
    assert.deepEqual([again.id, again.attempts], [jobId, stale + 1], 'the same worker holds the job again, on a new attempt');
    const i = { blobSha256: await blob('stale'), kind: 'CHECKPOINT', name: 'checkpoint-00000001', runId, workerId: w.id, attempt: stale };
    assert.equal(errorCode(await t.gql(REGISTER, { i }, w.key)), 'CONFLICT');
    assert.equal(errorCode(await t.gql(HEARTBEAT, { j: jobId, w: w.id, a: stale }, w.key)), 'CONFLICT');
    assert.equal(errorCode(await t.gql(REPORT, { r: runId, w: w.id, a: stale, p: [{ name: 'train/loss', step: 1, value: 1 }] }, w.key)), 'CONFLICT');
    assert.equal(errorCode(await t.gql(COMPLETE, { j: jobId, w: w.id, a: stale }, w.key)), 'CONFLICT');
    assert.equal((await t.gql(LATEST, { r: runId })).data.run.latestCheckpoint, null);
    assert.equal((await t.gql(`query($j: ID!) { job(id: $j) { status } }`, { j: jobId })).data.job.status, 'LEASED', 'the stale completion changed nothing');
    // the current lease works
    const ok = await t.gql(REGISTER, { i: { ...i, attempt: again.attempts } }, w.key);
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
    assert.equal((await t.gql(COMPLETE, { j: jobId, w: w.id, a: again.attempts }, w.key)).data.completeJob.status, 'SUCCEEDED');
  });

  test('#1 the newest checkpoint is the one registered last, whatever its metadata.step says', async () => {
    const w = await worker('ordered');
    const { runId, attempt } = await leasedRun(w);
    const ids: string[] = [];
    for (const step of [1e9, 5, 3]) {
      const r = await t.gql(REGISTER, { i: { blobSha256: await blob(`s${step}`), kind: 'CHECKPOINT', name: `c${step}`, runId, workerId: w.id, attempt, metadata: { step } } }, w.key);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      ids.push(r.data.registerArtifact.id);
    }
    const latest = (await t.gql(LATEST, { r: runId }, w.key)).data.run.latestCheckpoint;
    assert.deepEqual([latest.id, latest.metadata.step], [ids[2], 3]);
  });

  test('#11 a WORKER key sees only its own workers and the jobs it holds (Run.job is null otherwise)', async () => {
    const a = await worker('tenant-a');
    const b = await worker('tenant-b');
    const { runId, jobId } = await leasedRun(a);
    const RUN_JOB = `query($r: ID!) { run(id: $r) { id job { id payload error } } }`;
    assert.equal((await t.gql(RUN_JOB, { r: runId }, b.key)).data.run.job, null, "b cannot read a's job through the run");
    assert.equal((await t.gql(RUN_JOB, { r: runId }, a.key)).data.run.job.id, jobId, 'a holds it');
    assert.equal((await t.gql(RUN_JOB, { r: runId }, editorKey)).data.run.job.id, jobId, 'people still see it');
    const runs = (await t.gql(`query($e: ID!) { runs(experimentId: $e) { id job { id } } }`, { e: experimentId }, b.key)).data.runs;
    assert.ok(runs.length >= 1 && runs.every((r: any) => r.job === null), 'no job of any run in a list either');
    const seenByB = (await t.gql('{ workers { id } }', {}, b.key)).data.workers.map((x: any) => x.id);
    assert.deepEqual(seenByB, [b.id]);
    const seenByEditor = (await t.gql('{ workers { id } }', {}, editorKey)).data.workers.map((x: any) => x.id);
    assert.ok(seenByEditor.includes(a.id) && seenByEditor.includes(b.id));
  });

  test('#12 heartbeat cannot extend a lease beyond the cap', async () => {
    const w = await worker('greedy');
    const { jobId, attempt } = await leasedRun(w);
    const before = (await t.gql(`query($j: ID!) { job(id: $j) { leaseExpiresAt } }`, { j: jobId })).data.job.leaseExpiresAt;
    for (const s of [10 ** 9, 3601, 0, -5]) {
      assert.equal(errorCode(await t.gql(HEARTBEAT, { j: jobId, w: w.id, a: attempt, s }, w.key)), 'BAD_USER_INPUT', `leaseSeconds ${s}`);
    }
    assert.equal((await t.gql(`query($j: ID!) { job(id: $j) { leaseExpiresAt } }`, { j: jobId })).data.job.leaseExpiresAt, before, 'the lease is unchanged');
    const ok = (await t.gql(HEARTBEAT, { j: jobId, w: w.id, a: attempt, s: 3600 }, w.key)).data.heartbeat;
    assert.ok(new Date(ok.leaseExpiresAt).getTime() <= Date.now() + 3600_000 + 5_000);
  });

  test('#13 concurrent replays of a reported batch mixed with new points write each point once', async () => {
    const w = await worker('replayer');
    const { runId, attempt } = await leasedRun(w);
    const point = (step: number) => ({ name: 'train/loss', step, value: step / 7 });
    const first = Array.from({ length: 300 }, (_, i) => point(i));
    assert.deepEqual((await t.gql(REPORT, { r: runId, w: w.id, a: attempt, p: first }, w.key)).data.reportMetrics, { written: 300, duplicates: 0 });
    // eight workers' retries at once: each replays the stored batch plus the same 200 new points, so their
    // reads and inserts interleave (the old read-then-insert raced into a duplicate key inside a transaction)
    const replay = Array.from({ length: 500 }, (_, i) => point(i));
    const results = await Promise.all(Array.from({ length: 8 }, () => t.gql(REPORT, { r: runId, w: w.id, a: attempt, p: replay }, w.key)));
    for (const r of results) assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const written = results.reduce((n, r) => n + r.data.reportMetrics.written, 0);
    assert.equal(written, 200, 'the 200 new points are written exactly once between them');
    assert.ok(results.every((r) => r.data.reportMetrics.written + r.data.reportMetrics.duplicates === 500));
    const stored = (await t.gql(`query($r: ID!) { run(id: $r) { metrics(names: ["train/loss"], points: 10000) { points { step value } } } }`, { r: runId })).data.run.metrics[0].points;
    assert.equal(stored.length, 500);
    const wrong = stored.filter((p: any, i: number) => p.step !== i || p.value !== i / 7);
    assert.deepEqual(wrong, [], "every point once, with its first value");
  });
});
