// GET /metrics as a Vercel function: only the figures read from the database (queue depth by job kind and status,
// teacher fills in progress), which every instance answers alike. Per-instance counters (HTTP, inference, resolver
// timings) are not kept in functions mode: an instance lives for minutes and a scraper cannot pick which one it
// reaches, so they would say nothing (docs/operations.md, "Metrics"). Needs an ADMIN key or RIL_METRICS_TOKEN.
import { openCore } from './_lib/core.js';
import { defineFunction } from './_lib/http/function.js';
import { createMetricsRoute } from './_lib/http/metrics.js';
import { DatabaseMetrics } from './_lib/observability/metrics.js';

export default defineFunction('metrics', async (env) => {
  const core = await openCore(env);
  return { route: createMetricsRoute(core, new DatabaseMetrics(core.db)), close: () => core.close() };
});
