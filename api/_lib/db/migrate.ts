// Applies the committed migrations (prisma/migrations/<provider>/*/migration.sql) in name order and records
// each in _ril_migrations. We run them through the database drivers rather than `prisma migrate deploy`
// because the Prisma 6 WASM schema engine cannot deploy to PostgreSQL here (see docs/architecture.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Provider } from './provider.js';

const MIGRATIONS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../prisma/migrations');

export function listMigrations(provider: Provider): { name: string; sql: string }[] {
  const dir = path.join(MIGRATIONS, provider);
  return fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'migration.sql'))).sort()
    .map((name) => ({ name, sql: fs.readFileSync(path.join(dir, name, 'migration.sql'), 'utf8') }));
}

/** Names of the committed migrations the database has not applied (read-only; serverless start-up checks it). */
export async function pendingMigrations(provider: Provider, target: string): Promise<string[]> {
  const names = listMigrations(provider).map((m) => m.name);
  let done: Set<string>;
  if (provider === 'sqlite') {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(target, { timeout: 10_000 });
    try {
      const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_ril_migrations'").get();
      done = new Set(has ? db.prepare('SELECT name FROM _ril_migrations').all().map((r) => (r as { name: string }).name) : []);
    } finally {
      db.close();
    }
  } else {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: target });
    await client.connect();
    try {
      const has = (await client.query("SELECT to_regclass('_ril_migrations') AS t")).rows[0].t;
      done = new Set(has ? (await client.query('SELECT name FROM _ril_migrations')).rows.map((r) => r.name as string) : []);
    } finally {
      await client.end();
    }
  }
  return names.filter((n) => !done.has(n));
}

export async function applyMigrations(provider: Provider, target: string): Promise<string[]> {
  const applied: string[] = [];
  const migrations = listMigrations(provider);
  if (provider === 'sqlite') {
    const { default: Sqlite } = await import('better-sqlite3');
    const db = new Sqlite(target, { timeout: 10_000 });
    try {
      db.exec('CREATE TABLE IF NOT EXISTS _ril_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)');
      // BEGIN IMMEDIATE takes the write lock first, so two processes starting together apply each migration once.
      const run = db.transaction(() => {
        const done = new Set(db.prepare('SELECT name FROM _ril_migrations').all().map((r) => (r as { name: string }).name));
        for (const m of migrations) {
          if (done.has(m.name)) continue;
          db.exec(m.sql);
          db.prepare('INSERT INTO _ril_migrations (name, applied_at) VALUES (?, ?)').run(m.name, new Date().toISOString());
          applied.push(m.name);
        }
      });
      run.immediate();
    } finally {
      db.close();
    }
    return applied;
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  // All pending migrations in one transaction under a transaction-level advisory lock: two releases running at
  // once apply each migration once, and no session-level state is left behind (safe behind a transaction pooler).
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(727274)');
    await client.query('CREATE TABLE IF NOT EXISTS _ril_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)');
    const done = new Set((await client.query('SELECT name FROM _ril_migrations')).rows.map((r) => r.name as string));
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new Error(`migration ${m.name} failed: ${(err as Error).message}`);
      }
      await client.query('INSERT INTO _ril_migrations (name, applied_at) VALUES ($1, now())', [m.name]);
      applied.push(m.name);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
  return applied;
}
