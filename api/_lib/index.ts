// The platform library's facade for code outside api/ (the `ril` CLI, the worker functions under functions/,
// benchmarks): everything they may use is exported here, so the internals behind it can move without breaking
// them. The embedded HTTP server (Apollo, onnxruntime-node, sharp) is NOT exported here but from ./server.ts, so a
// worker function that imports this facade does not carry the inference runtime. Route handlers under api/ and tests may import internals directly. The boundary
// check (npm run check:boundaries, .dependency-cruiser.cjs) enforces this.
export { loadEnv, type Env } from './env.js';
export { faultSummary } from './errors.js';
export { openDatabase, type Database } from './db/index.js';
export { applyMigrations } from './db/migrate.js';
export { providerFor } from './db/provider.js';
export { sha256, type BlobStore } from './blobs/store.js';
export { createBlobStore } from './blobs/index.js';
export { bootstrapAdmin, createApiKey, ensureBootstrapAdmin, hasActiveAdmin, ROLES, type Role } from './auth/keys.js';
export { exportDataset, importDataset, splitCounts } from './datasets/service.js';
export { apiPathPolicy, localPathPolicy, type PathPolicy } from './datasets/serverFiles.js';
export { coverage, importTeacherResponses, readCacheFile, registerTeacher } from './teachers/service.js';
export { fillTeacherCache, type FillProgress, type FillResult } from './teachers/fill.js';
export { fillOptionsOf, queueTeacherFill } from './teachers/fillJob.js';
export { createExperiment, startRun } from './experiments/service.js';
export { finals } from './experiments/metrics.js';
export { claim, complete, fail, heartbeat, queueOptionsOf, reportJobProgress, requeueExpired, yieldLease, type QueueOptions } from './jobs/queue.js';
export { localWorker } from './jobs/workers.js';
export { openCore, type Core } from './core.js';
export type { Services } from './services.js';
export { REPO_ROOT, spawnPythonWorker, trainerPython } from './jobs/python.js';
export { dashboardBuilt, NOT_BUILT } from './http/dashboard.js';
export { createSuite, getSuite, queueSuiteEvaluation } from './evals/service.js';
export { evaluationTable } from './evals/table.js';
