// A fresh, migrated database per call, on the provider the suite runs against:
// RIL_TEST_DB=sqlite (default) or postgres (then RIL_TEST_PG_URL is an admin URL; scripts/pg-start.sh prints one).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../api/_lib/db/index.js';

export const TEST_PROVIDER = (process.env.RIL_TEST_DB ?? 'sqlite') as 'sqlite' | 'postgres';

export interface TestDatabase extends Database {
  home: string;
  databaseUrl?: string;
}

/** Creates an empty database (a new PostgreSQL database, or a new RIL_HOME for SQLite) and returns its URL. */
export async function createTestDatabaseUrl(): Promise<{ home: string; databaseUrl?: string }> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-test-'));
  if (TEST_PROVIDER !== 'postgres') return { home };
  const admin = process.env.RIL_TEST_PG_URL;
  if (!admin) throw new Error('RIL_TEST_DB=postgres needs RIL_TEST_PG_URL (run scripts/pg-start.sh)');
  return { home, databaseUrl: await createPostgresDatabase(admin) };
}

/** A new, empty database on the PostgreSQL server of `adminUrl`; returns its URL. */
export async function createPostgresDatabase(adminUrl: string, prefix = 'ril_test'): Promise<string> {
  const name = `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function openTestDatabase(): Promise<TestDatabase> {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const db = await openDatabase({ home, databaseUrl });
  return Object.assign(db, { home, databaseUrl });
}
