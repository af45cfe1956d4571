// What the three inference functions (/v1/infer, /v1/chat/completions, /v1/models) share: the database, the
// loaded student runtimes of this instance, and the OpenAI-style routes. Created once per warm instance, so a
// deployment revision's sessions are created and warmed once, not per request.
import { openCore } from '../core.js';
import { InferenceService } from '../inference/service.js';
import type { Env } from '../env.js';
import { defineFunction, type VercelFunction } from './function.js';
import { createInferRoutes, type InferRoutes } from './infer.js';

export function inferFunction(name: string, pick: (routes: InferRoutes) => InferRoutes['infer' | 'chat' | 'models']): VercelFunction {
  return defineFunction(name, async (env: Env) => {
    const core = await openCore(env);
    const inference = new InferenceService(core);
    return { route: pick(createInferRoutes(core, inference)), close: async () => { await inference.close(); await core.close(); } };
  });
}
