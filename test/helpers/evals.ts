// Evaluation-suite results written the way a worker writes them: the suite's EVALUATE job is queued
// (queueSuiteEvaluation), claimed by a registered worker with its WORKER key, and each dataset's accuracy is recorded
// on that lease through the real API (recordEvalResult).
import assert from 'node:assert/strict';
import { queueSuiteEvaluation, type SubjectInput, type SuiteEvaluationPayload } from '../../api/_lib/evals/service.js';
import type { TestServer } from './server.js';

export interface EvalWorker { id: string; key: string }

/** Registers a worker under a WORKER key (one per test file is enough: it holds one EVALUATE job at a time). */
export async function registerEvalWorker(t: TestServer, key: string, name = 'eval-box'): Promise<EvalWorker> {
  const r = await t.gql(`mutation($n: String!) { registerWorker(input: { name: $n }) { id } }`, { n: name }, key);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return { id: r.data.registerWorker.id, key };
}

/** Queues an EVALUATE job of `subject` over `suite` (its newest version) and leases it to `worker`. */
export async function leaseSuiteEvaluation(t: TestServer, worker: EvalWorker, suite: string, subject: SubjectInput) {
  const queued = await queueSuiteEvaluation(t.platform.db, { suite, subject }, t.platform.env);
  const r = await t.gql(`mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [EVALUATE] }) { id attempts payload } }`, { w: worker.id }, worker.key);
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  assert.equal(r.data.claimJob?.id, queued.id, 'the worker holds the job just queued');
  return { jobId: r.data.claimJob.id as string, attempt: r.data.claimJob.attempts as number, payload: r.data.claimJob.payload as SuiteEvaluationPayload };
}

/**
 * Scores `subject` on `suite`: `accuracies[i]` is the result of the suite's i-th dataset (in column order); null
 * leaves that dataset unscored (its cell stays empty and the subject gets no average).
 */
export async function recordSuiteScores(t: TestServer, worker: EvalWorker, suite: string, subject: SubjectInput, accuracies: (number | null)[]) {
  const lease = await leaseSuiteEvaluation(t, worker, suite, subject);
  assert.equal(lease.payload.datasets.length, accuracies.length, 'one accuracy per dataset of the suite');
  for (const [i, accuracy] of accuracies.entries()) {
    if (accuracy === null) continue;
    const r = await t.gql(`mutation($i: RecordEvalResultInput!) { recordEvalResult(input: $i) { id } }`, {
      i: { jobId: lease.jobId, workerId: worker.id, attempt: lease.attempt, entryId: lease.payload.datasets[i].entryId, accuracy, n: 2 },
    }, worker.key);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  }
  return lease;
}
