// Creates a new migration for BOTH providers: `node scripts/prisma-migration.mjs <name>`.
// Each migration folder keeps a snapshot of the schema it produced, so the next migration is the diff
// between that snapshot and the current schema (no shadow database, nothing downloaded).
// Applied by `ril migrate` (api/_lib/db/migrate.ts; also at `ril serve` start-up), which records what ran in the _ril_migrations table.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, copyFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: node scripts/prisma-migration.mjs <snake_case_name>');
  process.exit(2);
}
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
execFileSync(process.execPath, [join(root, 'scripts/prisma-generate.mjs')], { stdio: 'ignore' });
const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
const variants = [
  { provider: 'sqlite', config: 'prisma/sqlite.config.ts', schema: 'prisma/schema.prisma' },
  { provider: 'postgres', config: 'prisma/postgres.config.ts', schema: 'prisma/postgres/schema.prisma' },
];
for (const v of variants) {
  const dir = join(root, 'prisma/migrations', v.provider);
  mkdirSync(dir, { recursive: true });
  const previous = readdirSync(dir).filter((d) => existsSync(join(dir, d, 'schema.prisma'))).sort().at(-1);
  const from = previous ? ['--from-schema-datamodel', join(dir, previous, 'schema.prisma')] : ['--from-empty'];
  const sql = execFileSync(
    process.execPath,
    [join(root, 'node_modules/prisma/build/index.js'), 'migrate', 'diff', '--config', v.config, ...from, '--to-schema-datamodel', v.schema, '--script'],
    { cwd: root, env: { ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? 'postgresql://localhost/unused' } },
  ).toString();
  const out = join(dir, `${stamp}_${name}`);
  mkdirSync(out);
  writeFileSync(join(out, 'migration.sql'), sql);
  copyFileSync(join(root, v.schema), join(out, 'schema.prisma'));
  console.log(`wrote ${out}/migration.sql`);
}
