// POST /graphql as a Vercel function (vercel.json routes /graphql here). It runs no students: deploys check the
// bundle archive, and Query.infer is forwarded to the /v1/infer function, so this function never loads
// onnxruntime-node or sharp.
import { openCore } from './_lib/core.js';
import { archiveCheck, DeploymentService } from './_lib/deployments/service.js';
import { defineFunction } from './_lib/http/function.js';
import { createGraphqlRoute } from './_lib/http/graphql.js';
import { RemoteInference } from './_lib/inference/remote.js';

export default defineFunction('graphql', async (env) => {
  const core = await openCore(env);
  const graphql = await createGraphqlRoute(core, new RemoteInference(env.publicUrl), new DeploymentService(core, archiveCheck(core)));
  return { route: graphql.route, close: async () => { await graphql.stop(); await core.close(); } };
});
