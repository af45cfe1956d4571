// Authorisation, failing closed: every Query and Mutation field must be listed here with the roles that may
// call it, or the schema refuses to build (see buildSchema in api/schema.ts). ADMIN passes every check.
// Access is checked before a resolver runs, so an unauthorised caller never learns whether an id exists.
import type { Role } from './keys.js';

export const ANY_KEY: readonly Role[] = ['ADMIN', 'EDITOR', 'VIEWER', 'WORKER', 'INFERENCE'];
const READ: readonly Role[] = ['EDITOR', 'VIEWER', 'WORKER'];
const WRITE: readonly Role[] = ['EDITOR'];
const ADMIN_ONLY: readonly Role[] = [];
const WORKER_ONLY: readonly Role[] = ['WORKER'];
/** Who may run the student: POST /v1/infer, POST /v1/chat/completions and Query.infer. INFERENCE keys reach
 * nothing else (besides Query.me); EDITOR keys may also infer (to try what they deploy); VIEWER and WORKER may not. */
export const INFER: readonly Role[] = ['INFERENCE', 'EDITOR'];
/** Artifacts are registered by editors and (after a training run) by workers. */
const ARTIFACT_WRITE: readonly Role[] = ['EDITOR', 'WORKER'];

export const ACCESS: Record<string, readonly Role[]> = {
  'Query.me': ANY_KEY,
  'Query.datasets': READ,
  'Query.dataset': READ,
  'Query.example': READ,
  'Query.teachers': READ,
  'Query.teacher': READ,
  'Query.apiKeys': ADMIN_ONLY,
  'Query.artifacts': READ,
  'Query.artifact': READ,
  'Query.deployments': READ,
  'Query.deployment': READ,
  'Query.infer': INFER,
  'Mutation.importDataset': WRITE,
  'Mutation.registerArtifact': ARTIFACT_WRITE,
  'Mutation.deploy': WRITE,
  'Mutation.rollbackDeployment': WRITE,
  'Mutation.registerTeacher': WRITE,
  // re-pointing a teacher sends its real key to the new URL: ADMIN only (EDITORs may only create teachers)
  'Mutation.updateTeacherEndpoint': ADMIN_ONLY,
  'Mutation.importTeacherResponses': WRITE,
  'Mutation.fillTeacherCache': WRITE,
  'Query.experiments': READ,
  'Query.experiment': READ,
  'Query.run': READ,
  'Query.runs': READ,
  'Query.compareRuns': READ,
  'Query.jobs': READ,
  'Query.job': READ,
  'Query.workers': READ,
  'Query.trainerConfigSchema': READ,
  'Query.teacherResponses': READ,
  'Mutation.createExperiment': WRITE,
  'Mutation.startRun': WRITE,
  'Mutation.cancelRun': WRITE,
  'Mutation.retryRun': WRITE,
  'Mutation.queueTeacherFill': WRITE,
  'Mutation.queueEvaluation': WRITE,
  // the worker protocol: WORKER keys (and ADMIN for operations); scoping to held jobs is in services/workers.ts
  'Mutation.registerWorker': WORKER_ONLY,
  'Mutation.claimJob': WORKER_ONLY,
  'Mutation.heartbeat': WORKER_ONLY,
  'Mutation.reportMetrics': WORKER_ONLY,
  'Mutation.completeJob': WORKER_ONLY,
  'Mutation.failJob': WORKER_ONLY,
  // blobs: uploads by those who write artifacts; short-lived download URLs for every reader
  'Mutation.createBlobUpload': ARTIFACT_WRITE,
  'Mutation.completeBlobUpload': ARTIFACT_WRITE,
  'Query.blobDownloadUrl': READ,
  // evaluation suites: read by every reader, written by editors; results only by the worker holding the EVALUATE
  // job that names the suite version and subject (scoping in evals/service.ts recordEvalResult)
  'Query.evalSuites': READ,
  'Query.evalSuite': READ,
  'Query.evaluationTable': READ,
  'Mutation.createEvalSuite': WRITE,
  'Mutation.addEvalSuiteVersion': WRITE,
  'Mutation.updateEvalSuiteVersion': WRITE,
  'Mutation.recordEvalResult': WORKER_ONLY,
  'Mutation.recordEvalExamples': WORKER_ONLY,
  // scoring a deployment or an external endpoint spends compute and money: editors queue it, like training
  'Mutation.queueSuiteEvaluation': WRITE,
  'Query.evalExamples': READ,
  'Mutation.createApiKey': ADMIN_ONLY,
  'Mutation.revokeApiKey': ADMIN_ONLY,
};
