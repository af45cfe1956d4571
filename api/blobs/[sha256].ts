// GET|HEAD|PUT /blobs/<sha256> as a Vercel function.
import { openCore } from '../_lib/core.js';
import { createBlobRoute } from '../_lib/http/blobs.js';
import { defineFunction } from '../_lib/http/function.js';

export default defineFunction('blobs', async (env) => {
  const core = await openCore(env);
  return { route: createBlobRoute(core), close: () => core.close() };
});
