// The platform library's one facade for code outside api/ (the `ril` CLI, the worker functions under
// functions/, benchmarks): everything they may use is exported here, so the internals behind it can move
// without breaking them. Route handlers under api/ and tests may import internals directly. The boundary
// check (npm run check:boundaries, .dependency-cruiser.cjs) enforces this.
export { loadEnv, type Env } from './env.js';
export { openDatabase, type Database } from './db/index.js';
export { applyMigrations } from './db/migrate.js';
export { providerFor } from './db/provider.js';
export { sha256, type BlobStore } from './blobs/store.js';
export { createBlobStore } from './blobs/index.js';
export { createApiKey, ensureBootstrapAdmin, ROLES, type Role } from './auth/keys.js';
export { exportDataset, importDataset, splitCounts } from './datasets/service.js';
export { coverage, importTeacherResponses, readCacheFile, registerTeacher } from './teachers/service.js';
export { fillTeacherCache } from './teachers/fill.js';
export { createExperiment, startRun } from './experiments/service.js';
export { finals } from './experiments/metrics.js';
export { claim, complete, fail, heartbeat, type QueueOptions } from './jobs/queue.js';
export { REPO_ROOT, spawnPythonWorker, trainerPython } from './jobs/python.js';
export { createPlatform, listen, type Platform } from './http/server.js';
