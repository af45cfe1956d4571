// Data access: one interface, two providers. SQLite (embedded default) and PostgreSQL share the source schema
// (prisma/schema.prisma); each has its own generated client and migrations folder (see scripts/prisma-generate.mjs).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { PrismaClient } from '../../../generated/sqlite/index.js';
import { applyMigrations, pendingMigrations } from './migrate.js';
import { providerFor, type Provider } from './provider.js';

export type { PrismaClient };
export type { Provider };

export interface Database {
  prisma: PrismaClient;
  provider: Provider;
  /** Number of SQL statements sent so far (tests assert that nested queries are batched). */
  queryCount(): number;
  close(): Promise<void>;
}

const require = createRequire(import.meta.url);

export { providerFor };

export interface OpenOptions {
  /** postgresql:// URL, or undefined for SQLite in `home`. */
  databaseUrl?: string;
  home: string;
  logSql?: boolean;
  /** `apply` (default): bring the schema up to date (a release step, or `ril serve`'s start); `check`: refuse to
   * open a database with pending migrations (serverless functions never migrate); `skip`: neither. */
  migrate?: 'apply' | 'check' | 'skip';
  /** Most PostgreSQL connections this process opens. */
  poolMax?: number;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  const provider = providerFor(opts.databaseUrl);
  let sqliteFile: string | undefined;
  let adapter;
  // Each adapter is imported only for its provider, so a PostgreSQL process never loads the SQLite driver.
  if (provider === 'postgres') {
    const { PrismaPg } = await import('@prisma/adapter-pg');
    adapter = new PrismaPg({ connectionString: opts.databaseUrl!, max: opts.poolMax ?? 10 });
  } else {
    const { PrismaBetterSQLite3 } = await import('@prisma/adapter-better-sqlite3');
    fs.mkdirSync(opts.home, { recursive: true });
    sqliteFile = path.join(opts.home, 'ril.db');
    adapter = new PrismaBetterSQLite3({ url: `file:${sqliteFile}`, timeout: 10_000 });
  }
  const target = provider === 'postgres' ? opts.databaseUrl! : sqliteFile!;
  const mode = opts.migrate ?? 'apply';
  if (mode === 'apply') await applyMigrations(provider, target);
  if (mode === 'check') {
    const pending = await pendingMigrations(provider, target);
    if (pending.length) throw new Error(`the database has ${pending.length} pending migration(s) (${pending.join(', ')}): run \`ril migrate\` (npm run migrate) as a release step`);
  }
  const { PrismaClient: Client } = require(provider === 'postgres' ? '../../../generated/postgres/index.js' : '../../../generated/sqlite/index.js');
  const prisma = new Client({ adapter, log: [{ emit: 'event', level: 'query' }] }) as PrismaClient;
  let count = 0;
  (prisma as unknown as { $on(e: 'query', cb: (e: { query: string }) => void): void }).$on('query', (e) => {
    count += 1;
    if (opts.logSql) console.error('[sql]', e.query);
  });
  if (provider === 'sqlite') {
    // WAL lets readers proceed during a write; the busy timeout makes concurrent writers wait instead of failing.
    await prisma.$queryRawUnsafe('PRAGMA journal_mode = WAL');
    await prisma.$executeRawUnsafe('PRAGMA foreign_keys = ON');
  }
  return {
    prisma,
    provider,
    queryCount: () => count,
    close: () => prisma.$disconnect(),
  };
}
