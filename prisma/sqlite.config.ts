// Prisma CLI config for the SQLite variant (used by `prisma generate` and `prisma migrate diff`).
// engine "js" runs the schema engine as WASM through a driver adapter: nothing is downloaded.
import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join(import.meta.dirname, 'schema.prisma'),
  async adapter() {
    return new PrismaBetterSQLite3({ url: process.env.PRISMA_SQLITE_URL ?? 'file::memory:' });
  },
});
