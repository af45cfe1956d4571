import path from 'node:path';
import type { Command } from 'commander';
import { applyMigrations, loadEnv, providerFor } from '../../../../api/_lib/index.js';
import { fail, print } from '../output.js';

/** `ril migrate`: the release step that brings the database named by DATABASE_URL / RIL_HOME up to date.
 * Idempotent; run by `npm run demo` and by the Vercel build command. Functions never migrate at start-up. */
export function migrateCommand(migrate: Command) {
  migrate
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const env = loadEnv();
        const provider = providerFor(env.DATABASE_URL);
        if (provider === 'sqlite') (await import('node:fs')).mkdirSync(env.home, { recursive: true });
        const applied = await applyMigrations(provider, provider === 'postgres' ? env.DATABASE_URL! : path.join(env.home, 'ril.db'));
        print(opts, { provider, applied }, () => applied.length ? `${provider}: applied ${applied.join(', ')}` : `${provider}: up to date`);
      } catch (err) { fail(err); }
    });
}
