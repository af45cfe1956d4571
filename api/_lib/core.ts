// Opens what every entry point shares: the database (SQLite or PostgreSQL) and the blob store (local or S3).
import { openDatabase } from './db/index.js';
import { providerFor } from './db/provider.js';
import type { Env } from './env.js';
import { createBlobStore } from './blobs/index.js';
import type { Services } from './services.js';

export interface Core extends Services { close(): Promise<void> }

/** Embedded (`ril serve`) applies migrations at start; functions require PostgreSQL and only check them. */
export async function openCore(env: Env): Promise<Core> {
  const functions = env.RIL_DEPLOYMENT === 'functions';
  if (functions && providerFor(env.DATABASE_URL) !== 'postgres') {
    throw new Error('DATABASE_URL must be a postgresql:// URL when the platform runs as functions (RIL_DEPLOYMENT=functions or on Vercel): '
      + 'an instance\'s disk is per-instance and read-only, so the embedded SQLite cannot be shared');
  }
  const db = await openDatabase({
    databaseUrl: env.DATABASE_URL, home: env.home, logSql: env.RIL_LOG_SQL === '1',
    migrate: functions ? 'check' : 'apply', poolMax: env.RIL_DB_POOL_MAX,
  });
  const blobs = await createBlobStore(env, db.prisma).catch(async (err: unknown) => {
    await db.close();
    throw err;
  });
  return { db, env, blobs, close: async () => { blobs.close(); await db.close(); } };
}

/**
 * A Core opened on first use, for functions that must answer some calls without a database (the cron functions
 * refuse an unauthorised call before connecting). A failed opening is not kept: the next call tries again.
 */
export function lazyCore(env: Env): { get(): Promise<Core>; close(): Promise<void> } {
  let core: Promise<Core> | undefined;
  return {
    get: () => (core ??= openCore(env).catch((err) => {
      core = undefined;
      throw Object.assign(err as Error, { startup: true });
    })),
    async close() {
      const current = core;
      core = undefined;
      if (current) await (await current.catch(() => null))?.close();
    },
  };
}
