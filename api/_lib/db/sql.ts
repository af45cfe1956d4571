// Portable raw SQL for the few queries Prisma's query API cannot express (window functions, grouped counts).
// Write `?` placeholders; PostgreSQL gets `$1..$n`. Identifiers are quoted, which both databases accept.
import type { Database } from './index.js';

export async function rawQuery<T>(db: Pick<Database, 'prisma' | 'provider'>, sql: string, params: unknown[]): Promise<T[]> {
  let i = 0;
  const text = db.provider === 'postgres' ? sql.replace(/\?/g, () => `$${++i}`) : sql;
  return db.prisma.$queryRawUnsafe<T[]>(text, ...params);
}

/** `?, ?, ?` for an IN list of n values. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** Counts come back as number, bigint or string depending on the driver. */
export const toInt = (v: unknown) => Number(v ?? 0);
