// GET /healthz as a Vercel function: the database answers.
import { openCore } from './_lib/core.js';
import { defineFunction } from './_lib/http/function.js';
import { createHealthRoute } from './_lib/http/health.js';

export default defineFunction('healthz', async (env) => {
  const core = await openCore(env);
  return { route: createHealthRoute(core), close: () => core.close() };
});
