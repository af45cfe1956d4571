// Picks the blob store from the environment: RIL_BLOB_STORE=local (default; $RIL_HOME/blobs) or s3 (RIL_S3_*).
// Configuration faults are thrown here, at start-up, naming the variable to fix. The S3 SDK is loaded only for
// the S3 store.
import type { PrismaClient } from '../db/index.js';
import type { Env } from '../env.js';
import { LocalBlobStore } from './local.js';
import { lazySigner } from './signing.js';
import type { BlobStore } from './store.js';

export type { BlobStore } from './store.js';

export async function createBlobStore(env: Env, prisma: PrismaClient): Promise<BlobStore> {
  const signer = lazySigner(env);
  if (env.RIL_BLOB_STORE === 's3') {
    const { S3BlobStore, checkS3Config, s3ClientFor } = await import('./s3.js');
    checkS3Config(env);
    return new S3BlobStore({ client: s3ClientFor(env), bucket: env.RIL_S3_BUCKET!, prefix: env.RIL_S3_PREFIX, prisma, maxBytes: env.RIL_MAX_BLOB_BYTES, signer });
  }
  return new LocalBlobStore({ dir: env.blobDir, prisma, maxBytes: env.RIL_MAX_BLOB_BYTES, signer });
}
