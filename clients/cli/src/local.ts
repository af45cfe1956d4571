// Commands that administer this machine's platform (datasets, teachers, keys) open the database and blob
// store named by RIL_HOME / DATABASE_URL directly, like a server-side management command.
import { openDatabase, type Database } from '../../../api/_lib/index.js';
import { loadEnv, type Env } from '../../../api/_lib/index.js';
import { BlobStore } from '../../../api/_lib/index.js';

export interface Local { db: Database; blobs: BlobStore; env: Env }

export async function withLocal<T>(fn: (local: Local) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, home: env.home });
  try {
    return await fn({ db, env, blobs: new BlobStore(env.blobDir, db.prisma, env.RIL_MAX_BLOB_BYTES) });
  } finally {
    await db.close();
  }
}
