// The embedded, single-process platform (`ril serve`): every route group of api/ mounted on one node:http
// server. The Vercel functions under api/ call the same route modules one group each.
//   POST /graphql            ./graphql.ts
//   GET  /healthz            ./health.ts
//   GET|PUT /blobs/<sha256>  ./blobs.ts
//   POST /v1/infer, POST /v1/chat/completions, GET /v1/models   ./infer.ts
//   GET  /, /app.js, /app.css   the dashboard, as built by `npm run build:web` (./dashboard.ts)
import http from 'node:http';
import { openCore } from '../core.js';
import { DeploymentService } from '../deployments/service.js';
import { InferenceService } from '../inference/service.js';
import { loadEnv, type Env } from '../env.js';
import { routeOf, withRequestLog } from '../log.js';
import type { Services } from '../services.js';
import { createBlobRoute } from './blobs.js';
import { blobOriginOf, createDashboardRoute, DASHBOARD_PATHS } from './dashboard.js';
import { createGraphqlRoute } from './graphql.js';
import { createHealthRoute } from './health.js';
import { createInferRoutes } from './infer.js';
import { sendError, sendFailure, type Route } from './respond.js';

export { sendJson } from './respond.js';

export interface Platform extends Services {
  inference: InferenceService;
  deployments: DeploymentService;
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  close(): Promise<void>;
}

export async function createPlatform(env: Env = loadEnv()): Promise<Platform> {
  const core = await openCore(env);
  const inference = new InferenceService(core);
  const deployments = new DeploymentService(core, inference.bundleCheck());
  const infer = createInferRoutes(core, inference);
  // Query.infer runs in this process too: the same per-key rate limit as /v1/* (and the same admission gate)
  const graphql = await createGraphqlRoute(core, inference, deployments, { limitInference: infer.limitKey });
  const exact = new Map<string, Route>([
    ['/graphql', graphql.route],
    ['/healthz', createHealthRoute(core)],
    ['/v1/infer', infer.infer],
    ['/v1/chat/completions', infer.chat],
    ['/v1/models', infer.models],
  ]);
  const blob = createBlobRoute(core);
  const dashboard = createDashboardRoute(env, await blobOriginOf(core.blobs));

  const logOptions = { enabled: env.RIL_LOG_REQUESTS === '1', route: routeOf };

  async function handler(req: http.IncomingMessage, res: http.ServerResponse) {
    await withRequestLog(req, res, logOptions, () => dispatch(req, res));
  }

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      const route = exact.get(url.pathname)
        ?? (/^\/blobs\/[^/]+$/.test(url.pathname) ? blob : undefined)
        ?? ((req.method === 'GET' || req.method === 'HEAD') && DASHBOARD_PATHS.has(url.pathname) ? dashboard : undefined);
      if (!route) return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
      await route(req, res, url);
    } catch (err) {
      sendFailure(res, err);
    }
  }

  return {
    ...core,
    inference,
    deployments,
    handler,
    async close() {
      await graphql.stop();
      await inference.close();
      await core.close();
    },
  };
}

/** Starts the platform on a port (0 = any free port). */
export async function listen(platform: Platform, port: number, host = '127.0.0.1') {
  const server = http.createServer((req, res) => void platform.handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
