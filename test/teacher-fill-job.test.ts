// TEACHER_FILL through the queue: queued over GraphQL, run by the in-process TypeScript worker against a local
// chat-completions server, visible as a job that succeeds; a second fill asks nothing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from './helpers/server.js';
import { startOpenAIMock, type OpenAIMock } from './helpers/openaiMock.js';
import { writeDataset } from './helpers/fixtures.js';
import { startInProcessWorker, type InProcessWorker } from '../functions/teacher-fill/worker.js';

let t: TestServer;
let mock: OpenAIMock;
let worker: InProcessWorker;
before(async () => {
  t = await startTestServer();
  mock = await startOpenAIMock();
  worker = await startInProcessWorker(t.platform, { pollMs: 50, queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
});
after(async () => { await worker.stop(); await mock.close(); await t.close(); });

async function waitFor(jobId: string) {
  for (let i = 0; i < 200; i++) {
    const r = await t.gql(`query($j: ID!) { job(id: $j) { status error result attempts leaseOwner { name } } }`, { j: jobId });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(r.data.job.status)) return r.data.job;
    await new Promise((res) => setTimeout(res, 50));
  }
  throw new Error('job did not finish');
}

test('queueTeacherFill is run by the in-process worker', async () => {
  const { file } = await writeDataset(5);
  const datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "fill", path: $p }) { id } }`, { p: file })).data.importDataset.id;
  await t.gql(`mutation($u: String!) { registerTeacher(input: { name: "mockvlm", model: "mock", kind: ENDPOINT, baseUrl: $u }) { name } }`, { u: mock.url });
  const queue = `mutation($d: ID!) { queueTeacherFill(input: { datasetId: $d, teacher: "mockvlm", samplesPerExample: 2, concurrency: 2 }) { id kind status } }`;
  const job = (await t.gql(queue, { d: datasetId })).data.queueTeacherFill;
  assert.deepEqual([job.kind, job.status], ['TEACHER_FILL', 'QUEUED']);
  const done = await waitFor(job.id);
  assert.equal(done.status, 'SUCCEEDED', done.error);
  assert.deepEqual([done.result.filled, done.result.failed], [10, 0]);
  assert.equal(mock.requests.length, 10);
  const cov = await t.gql(`query($d: ID!) { teacher(name: "mockvlm") { coverage(datasetId: $d, minSamples: 2) { covered total } } }`, { d: datasetId });
  assert.deepEqual(cov.data.teacher.coverage, { covered: 5, total: 5 });
  const again = await waitFor((await t.gql(queue, { d: datasetId })).data.queueTeacherFill.id);
  assert.deepEqual([again.status, again.result.alreadyCached, mock.requests.length], ['SUCCEEDED', 10, 10]);
});
