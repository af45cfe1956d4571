import type { Command } from 'commander';
import { loadEnv } from '../../../../api/_lib/index.js';
import { createPlatform, listen } from '../../../../api/_lib/server.js';
import { dashboardBuilt, ensureBootstrapAdmin, hasActiveAdmin, NOT_BUILT, queueOptionsOf } from '../../../../api/_lib/index.js';
import { fail, intOption } from '../output.js';
import { startInProcessWorker } from '../../../../functions/teacher-fill/worker.js';

/** Starts the platform; returns once it listens. Prints the bootstrap admin key on an empty key table (a fresh
 * installation) only; with keys but no active admin it says how to make one (`ril keys bootstrap`). */
export async function startServer(opts: { port?: number; host?: string; quiet?: boolean } = {}) {
  const env = loadEnv();
  const platform = await createPlatform(env);
  const bootstrapKey = await ensureBootstrapAdmin(platform.db.prisma);
  const http = await listen(platform, opts.port ?? env.PORT, opts.host ?? env.RIL_HOST);
  // TEACHER_FILL jobs are drained in this process (the same drain as `ril worker --kind teacher-fill` and the cron
  // function); a fill interrupted by shutdown is paused and resumed by the next drain.
  const worker = env.RIL_TS_WORKER_POLL_MS > 0
    ? startInProcessWorker(platform, { pollMs: env.RIL_TS_WORKER_POLL_MS, queue: queueOptionsOf(env) })
    : null;
  const shutdown = async () => { await worker?.stop(); await http.close(); await platform.close(); process.exit(0); };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  if (!opts.quiet) {
    console.log(`RIL platform on ${http.url} (database: ${platform.db.provider}, home: ${env.home})`);
    console.log(`  GraphQL  POST ${http.url}/graphql\n  health   GET  ${http.url}/healthz`);
    console.log(`  metrics  GET  ${http.url}/metrics (ADMIN key${env.RIL_METRICS_TOKEN ? ' or RIL_METRICS_TOKEN' : ''})${http.metricsUrl ? `; ${http.metricsUrl} (no auth, RIL_METRICS_LISTEN)` : ''}`);
    console.log(dashboardBuilt(env) ? `  dashboard GET  ${http.url}/` : `  dashboard: ${NOT_BUILT}`);
    if (bootstrapKey) console.log(`\nAdmin key (shown once, store it now):\n  ${bootstrapKey}\n`);
    else if (!(await hasActiveAdmin(platform.db.prisma))) console.log('\nNo active ADMIN key: run `ril keys bootstrap` on this server to make one.\n');
  }
  return { platform, http, bootstrapKey, env };
}

/** `ril serve` (its description is in ../main.ts). */
export function serveCommand(serve: Command) {
  serve
    .option('--port <port>', 'port (default $PORT or 4000)', intOption)
    .option('--host <host>', 'interface (default $RIL_HOST or 127.0.0.1)')
    .action(async (opts) => {
      try { await startServer({ port: opts.port, host: opts.host }); } catch (err) { fail(err); }
    });
}
