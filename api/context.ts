// The per-request context: the database, the blob store, the caller and fresh DataLoaders.
import type { Database } from './db/index.js';
import type { Env } from './env.js';
import type { Loaders } from './loaders.js';
import type { BlobStore } from './services/blobs.js';
import type { Principal } from './services/auth.js';
import type { InferenceService } from './services/deployments.js';

export interface Services {
  db: Database;
  env: Env;
  blobs: BlobStore;
}

export interface Context extends Services {
  inference: InferenceService;
  principal: Principal | null;
  loaders: Loaders;
}
