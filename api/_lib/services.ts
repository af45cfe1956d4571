// What every platform service is handed: the database, the configuration and the blob store. Kept apart from
// the GraphQL context so services never import the API layer that calls them.
import type { Database } from './db/index.js';
import type { Env } from './env.js';
import type { BlobStore } from './blobs/store.js';

export interface Services {
  db: Database;
  env: Env;
  blobs: BlobStore;
}
