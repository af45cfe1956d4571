// The queue benchmark's core at a small size on the suite's database: separate claimer processes drain the
// queue with no job claimed twice and none lost, and every job ends SUCCEEDED. Plus the benchmark's own
// accounting: it must see a duplicate and a lost job when there is one, or its zeros would prove nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runQueueBench, tally } from '../bench/queue.js';
import type { ClaimerReport } from '../bench/queue-loop.js';
import { TEST_PROVIDER } from './helpers/db.js';

test('3 claimer processes over 60 jobs: 0 duplicates, 0 lost, all SUCCEEDED; so does the one-process baseline', { timeout: 180_000 }, async () => {
  const r = await runQueueBench({ provider: TEST_PROVIDER, jobs: 60, claimers: 3, pgAdminUrl: process.env.RIL_TEST_PG_URL });
  assert.equal(r.database, TEST_PROVIDER);
  for (const [phase, p] of [['baseline', r.baseline], ['concurrent', r.concurrent]] as const) {
    assert.deepEqual([p.duplicates, p.duplicateIds], [0, []], `${phase}: duplicates`);
    assert.deepEqual([p.lost, p.lostIds], [0, []], `${phase}: lost`);
    assert.deepEqual(p.statuses, { SUCCEEDED: 60 }, `${phase}: final statuses`);
    assert.equal(p.perClaimer.reduce((a, b) => a + b, 0), 60, `${phase}: completions add up to the jobs`);
  }
  assert.equal(r.baseline.processes, 1);
  assert.equal(r.concurrent.processes, 3);
  assert.equal(r.concurrent.perClaimer.length, 3, 'one report per claimer process');
});

test('the tally counts a job claimed twice as a duplicate, and a job never completed or not SUCCEEDED as lost', () => {
  const report = (worker: string, claimed: string[], completed = claimed): ClaimerReport =>
    ({ worker, claimed, completed, claimMs: [], completeMs: [], claimStatements: [], emptyHanded: 0, errors: {}, cpuMs: 0 });
  const ok = (id: string) => ({ id, status: 'SUCCEEDED', attempts: 1 });
  const t = tally(
    ['a', 'b', 'c', 'd', 'e'],
    [report('w1', ['a', 'b'], ['a', 'b']), report('w2', ['b', 'c', 'e'], ['c', 'e'])],
    [ok('a'), ok('b'), ok('c'), { id: 'd', status: 'QUEUED', attempts: 0 }, { id: 'e', status: 'LEASED', attempts: 2 }],
  );
  assert.deepEqual(t.duplicateIds, ['b', 'e'], 'b claimed by two workers; e leased twice per the database');
  assert.deepEqual(t.lostIds, ['d', 'e'], 'd never claimed; e completed by a worker but not SUCCEEDED');
  assert.deepEqual(t.statuses, { SUCCEEDED: 3, QUEUED: 1, LEASED: 1 });
  assert.deepEqual([t.duplicates, t.lost], [2, 2]);
  assert.deepEqual(tally(['a'], [report('w', ['a'])], [ok('a')]).duplicateIds, []);
});
