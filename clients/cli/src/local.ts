// Commands that administer this machine's platform (datasets, teachers, keys) open the database and blob
// store named by RIL_HOME / DATABASE_URL / RIL_BLOB_STORE directly, like a server-side management command.
import { openDatabase, type Database } from '../../../api/_lib/index.js';
import { loadEnv, type Env } from '../../../api/_lib/index.js';
import { createBlobStore, type BlobStore } from '../../../api/_lib/index.js';

export interface Local { db: Database; blobs: BlobStore; env: Env }

export async function withLocal<T>(fn: (local: Local) => Promise<T>): Promise<T> {
  const env = loadEnv();
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, home: env.home });
  let blobs: BlobStore | undefined;
  try {
    blobs = await createBlobStore(env, db.prisma);
    return await fn({ db, env, blobs });
  } finally {
    blobs?.close();
    await db.close();
  }
}
