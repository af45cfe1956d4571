import type { Command } from 'commander';
import { bootstrapAdmin, createApiKey, ROLES } from '../../../../api/_lib/index.js';
import { fail, print, table } from '../output.js';
import { withLocal } from '../local.js';

/** `ril keys` (the group's description is in ../main.ts). */
export function keysCommand(keys: Command) {
  keys.command('create').requiredOption('--role <role>', ROLES.join(' | ')).option('--name <name>', 'label', 'cli')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { key, secret } = await withLocal(({ db }) => createApiKey(db.prisma, opts.name, String(opts.role).toUpperCase()));
        print(opts, { id: key.id, name: key.name, role: key.role, secret }, () => `${key.role} key "${key.name}" (${key.id}):\n${secret}\nShown once: store it now.`);
      } catch (err) { fail(err); }
    });
  // Run by an operator on the server (it opens the database directly): the platform itself only makes an admin key on
  // an empty key table, so a lost or revoked admin key is replaced here, explicitly.
  keys.command('bootstrap').description('make an ADMIN key on this server\'s database (refused while an active admin key exists)')
    .option('--force', 'make one even though an active ADMIN key exists (a lost admin secret)')
    .option('--name <name>', 'label', 'bootstrap-admin').option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { key, secret } = await withLocal(({ db }) => bootstrapAdmin(db.prisma, { force: Boolean(opts.force), name: opts.name }));
        print(opts, { id: key.id, name: key.name, role: key.role, secret }, () => `ADMIN key "${key.name}" (${key.id}):\n${secret}\nShown once: store it now.`);
      } catch (err) { fail(err); }
    });
  keys.command('list').option('--json', 'JSON output').action(async (opts) => {
    try {
      const rows = await withLocal(({ db }) => db.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } }));
      const safe = rows.map(({ hash: _h, ...k }) => k);
      print(opts, safe, () => table(['id', 'name', 'role', 'prefix', 'created', 'last used', 'revoked'], safe.map((k) => [k.id, k.name, k.role, k.prefix, k.createdAt.toISOString(), k.lastUsedAt?.toISOString(), k.revokedAt?.toISOString()])));
    } catch (err) { fail(err); }
  });
}
