// GET /api/cron/sweep-leases: a cron-triggered Vercel function that returns expired job leases to the queue (or fails
// them when out of attempts), so a job whose worker died is retried even when no worker is claiming. Needs
// `Authorization: Bearer $CRON_SECRET`.
import { openCore } from '../_lib/core.js';
import { cronRoute } from '../_lib/http/cron.js';
import { defineFunction } from '../_lib/http/function.js';
import { queueOptionsOf, requeueExpired } from '../_lib/jobs/queue.js';

export default defineFunction('cron/sweep-leases', async (env) => {
  const core = await openCore(env);
  const route = cronRoute(env, async () => ({ swept: await requeueExpired(core.db, queueOptionsOf(env)) }));
  return { route, close: () => core.close() };
});
