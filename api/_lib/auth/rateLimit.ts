// The per-key token bucket, kept in the database (RateBucket) so that a limit holds across every instance that
// serves the API (the Vercel functions scale out; several `ril serve` processes may share one PostgreSQL).
// One statement per request refills and draws atomically: an upsert whose DO UPDATE only fires when a whole
// token is available, RETURNING the row — so two instances can never both spend the last token, on SQLite
// (one writer at a time) or PostgreSQL (the row lock of ON CONFLICT DO UPDATE). A refused draw writes nothing
// and costs one more SELECT to say how long to wait.
//
// Time is the calling instance's clock (ms since the epoch); the stored time never moves backwards, so a
// skewed instance can at worst refill a bucket late, never twice.
import type { Database } from '../db/index.js';
import { rawQuery } from '../db/sql.js';

const REAL = 'CAST(? AS DOUBLE PRECISION)'; // the same cast both databases read (SQLite: REAL affinity)

export class RateLimiter {
  constructor(
    private readonly db: Pick<Database, 'prisma' | 'provider'>,
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Draws one token from `key`'s bucket: 0 when allowed, else the seconds to wait. */
  async take(key: string): Promise<number> {
    if (this.perSecond <= 0) return 0;
    const now = this.clock();
    const perMs = this.perSecond / 1000;
    const pg = this.db.provider === 'postgres';
    const least = pg ? 'LEAST' : 'MIN';
    const greatest = pg ? 'GREATEST' : 'MAX';
    const refilled = `${least}(${REAL}, "RateBucket"."tokens" + ${greatest}(0, excluded."refilledAtMs" - "RateBucket"."refilledAtMs") * ${REAL})`;
    const drawn = await rawQuery<{ tokens: unknown }>(this.db,
      `INSERT INTO "RateBucket" ("key", "tokens", "refilledAtMs") VALUES (?, ${REAL}, ${REAL})
       ON CONFLICT ("key") DO UPDATE SET "tokens" = ${refilled} - 1,
         "refilledAtMs" = ${greatest}(excluded."refilledAtMs", "RateBucket"."refilledAtMs")
       WHERE ${refilled} >= 1
       RETURNING "tokens"`,
      [key, this.burst - 1, now, this.burst, perMs, this.burst, perMs]);
    if (drawn.length > 0) return 0;
    const [row] = await rawQuery<{ tokens: unknown; refilledAtMs: unknown }>(this.db,
      'SELECT "tokens", "refilledAtMs" FROM "RateBucket" WHERE "key" = ?', [key]);
    if (!row) return 1 / this.perSecond;
    const tokens = Math.min(this.burst, Number(row.tokens) + Math.max(0, now - Number(row.refilledAtMs)) * perMs);
    return Math.max(0.01, 1 - tokens) / this.perSecond; // refused: never "wait 0"
  }
}
