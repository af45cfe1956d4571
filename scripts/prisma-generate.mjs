// Derives the PostgreSQL variant of prisma/schema.prisma and generates both Prisma clients.
// One source schema, two providers: a schema, its migrations and its client belong to one provider,
// so we keep generated/sqlite and generated/postgres side by side behind api/_lib/db/.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = readFileSync(join(root, 'prisma/schema.prisma'), 'utf8');
const derived =
  '// GENERATED from ../schema.prisma by scripts/prisma-generate.mjs: do not edit.\n' +
  source
    .replace('provider = "sqlite"', 'provider = "postgresql"')
    .replace('url      = "file:./dev.db"', 'url      = env("DATABASE_URL")')
    .replace('output     = "../generated/sqlite"', 'output     = "../../generated/postgres"');
mkdirSync(join(root, 'prisma/postgres'), { recursive: true });
writeFileSync(join(root, 'prisma/postgres/schema.prisma'), derived);

const prisma = join(root, 'node_modules/prisma/build/index.js');
const env = { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://localhost/unused', PRISMA_HIDE_UPDATE_MESSAGE: '1' };
for (const config of ['prisma/sqlite.config.ts', 'prisma/postgres.config.ts']) {
  execFileSync(process.execPath, [prisma, 'generate', '--config', config], { cwd: root, env, stdio: 'inherit' });
}
