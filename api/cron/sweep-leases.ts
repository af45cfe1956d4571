// GET /api/cron/sweep-leases: a cron-triggered Vercel function that returns expired job leases to the queue (or fails
// them when out of attempts), so a job whose worker died (or whose drain paused it) is retried even when no worker
// is claiming. Answers { swept: <jobs moved> }. Needs `Authorization: Bearer $CRON_SECRET`.
import { lazyCore } from '../_lib/core.js';
import { cronRoute } from '../_lib/http/cron.js';
import { defineFunction } from '../_lib/http/function.js';
import { queueOptionsOf, requeueExpired } from '../_lib/jobs/queue.js';

export default defineFunction('cron/sweep-leases', async (env) => {
  const core = lazyCore(env);
  const route = cronRoute(env, async () => ({ swept: await requeueExpired((await core.get()).db, queueOptionsOf(env)) }));
  return { route, close: () => core.close() };
});
