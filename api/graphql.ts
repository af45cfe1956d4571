// POST /graphql as a Vercel function (vercel.json routes /graphql here).
import { openCore } from './_lib/core.js';
import { InferenceService } from './_lib/deployments/service.js';
import { defineFunction } from './_lib/http/function.js';
import { createGraphqlRoute } from './_lib/http/graphql.js';

export default defineFunction('graphql', async (env) => {
  const core = await openCore(env);
  const inference = new InferenceService(core);
  const graphql = await createGraphqlRoute(core, inference);
  return { route: graphql.route, close: async () => { await graphql.stop(); await inference.close(); await core.close(); } };
});
