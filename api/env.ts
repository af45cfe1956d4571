// Configuration: every knob is an environment variable with a documented default, validated once here.
import path from 'node:path';
import { z } from 'zod';

const schema = z.object({
  /** Where the embedded defaults live: the SQLite file, the blob store, worker caches. */
  RIL_HOME: z.string().default('./.ril'),
  /** A postgresql:// URL switches storage to PostgreSQL; otherwise SQLite at $RIL_HOME/ril.db. */
  DATABASE_URL: z.string().optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Interface `ril serve` listens on (0.0.0.0 to accept remote workers). */
  RIL_HOST: z.string().default('127.0.0.1'),
  /** Largest blob accepted by PUT /blobs/<sha256> (bytes). */
  RIL_MAX_BLOB_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024),
  /** Largest image accepted in a dataset import (bytes). */
  RIL_MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  /** GraphQL query depth and cost limits. */
  RIL_MAX_QUERY_DEPTH: z.coerce.number().int().positive().default(10),
  RIL_MAX_QUERY_COST: z.coerce.number().int().positive().default(250_000),
  /** Log SQL queries to stderr (debugging). */
  RIL_LOG_SQL: z.enum(['0', '1']).default('0'),
});

export type Env = z.infer<typeof schema> & { home: string; blobDir: string };

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid environment: ${detail}`);
  }
  const home = path.resolve(parsed.data.RIL_HOME);
  return { ...parsed.data, home, blobDir: path.join(home, 'blobs') };
}
