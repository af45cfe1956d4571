// GET|HEAD /v1/deployments/<name>/bundle/<file> (the live bundle's files, for on-device inference) as a Vercel
// function. It unpacks the bundle blob on this instance when needed, but never loads it: no onnxruntime-node here.
import { openCore } from '../../../../_lib/core.js';
import { createBundleFileRoute } from '../../../../_lib/http/bundleFiles.js';
import { defineFunction } from '../../../../_lib/http/function.js';

export default defineFunction('v1/deployments/bundle', async (env) => {
  const core = await openCore(env);
  return { route: createBundleFileRoute(core), close: () => core.close() };
});
