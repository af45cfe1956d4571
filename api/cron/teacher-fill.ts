// GET /api/cron/teacher-fill: a cron-triggered Vercel function that drains TEACHER_FILL jobs for RIL_CRON_BUDGET_MS
// (keep it under the function's maxDuration) and answers with what it did. A fill still running when the budget is
// spent is paused and resumed by a later call. Needs `Authorization: Bearer $CRON_SECRET`, checked before the
// database is opened.
import { lazyCore } from '../_lib/core.js';
import { cronRoute } from '../_lib/http/cron.js';
import { defineFunction } from '../_lib/http/function.js';
import { drainTeacherFills } from '../../functions/teacher-fill/drain.js';

export default defineFunction('cron/teacher-fill', async (env) => {
  const core = lazyCore(env);
  const route = cronRoute(env, async (signal) =>
    drainTeacherFills({ services: await core.get(), budgetMs: env.RIL_CRON_BUDGET_MS, signal, workerName: 'cron-teacher-fill' }));
  return { route, close: () => core.close() };
});
