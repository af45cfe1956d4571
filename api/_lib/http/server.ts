// The embedded, single-process platform (`ril serve`): every route group of api/ mounted on one node:http
// server. The Vercel functions under api/ call the same route modules one group each.
//   POST /graphql            ./graphql.ts
//   GET  /healthz            ./health.ts
//   GET|PUT /blobs/<sha256>  ./blobs.ts
//   POST /v1/infer, POST /v1/chat/completions, GET /v1/models   ./infer.ts
//   GET  /v1/deployments/<name>/bundle/<file>   ./bundleFiles.ts (the live bundle's files, for on-device inference)
//   GET  /metrics            ./metrics.ts (ADMIN key or RIL_METRICS_TOKEN; RIL_METRICS_LISTEN: a listener of its own)
//   GET  /, /app.js, /app.css, /chunks/*, /ort/*   the dashboard, as built by `npm run build:web` (./dashboard.ts)
import http from 'node:http';
import { openCore } from '../core.js';
import { DeploymentService } from '../deployments/service.js';
import { InferenceService } from '../inference/service.js';
import { loadEnv, type Env } from '../env.js';
import { routeOf, withRequestLog } from '../log.js';
import { PlatformMetrics } from '../observability/metrics.js';
import { observeQueue } from '../observability/queueEvents.js';
import type { Services } from '../services.js';
import { createBlobRoute } from './blobs.js';
import { BUNDLE_FILE_PATH, createBundleFileRoute } from './bundleFiles.js';
import { blobOriginOf, createDashboardRoute, isDashboardPath } from './dashboard.js';
import { createGraphqlRoute } from './graphql.js';
import { createHealthRoute } from './health.js';
import { createInferRoutes } from './infer.js';
import { createMetricsRoute, metricsListener } from './metrics.js';
import { sendError, sendFailure, type Route } from './respond.js';

export { sendJson } from './respond.js';

export interface Platform extends Services {
  inference: InferenceService;
  deployments: DeploymentService;
  /** This platform's Prometheus registry and instruments (GET /metrics). */
  metrics: PlatformMetrics;
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  close(): Promise<void>;
}

export async function createPlatform(env: Env = loadEnv()): Promise<Platform> {
  const core = await openCore(env);
  // one registry per platform; whatever runs the queue on this database counts its lease expiries here
  const metrics = new PlatformMetrics(core.db);
  observeQueue(core.db, metrics);
  const inference = new InferenceService(core, metrics);
  const deployments = new DeploymentService(core, inference.bundleCheck());
  const infer = createInferRoutes(core, inference);
  // Query.infer runs in this process too: the same per-key rate limit as /v1/* (and the same admission gate)
  const graphql = await createGraphqlRoute(core, inference, deployments, { limitInference: infer.limitKey, plugins: [metrics.graphqlPlugin()] });
  const exact = new Map<string, Route>([
    ['/graphql', graphql.route],
    ['/healthz', createHealthRoute(core)],
    ['/metrics', createMetricsRoute(core, metrics)],
    ['/v1/infer', infer.infer],
    ['/v1/chat/completions', infer.chat],
    ['/v1/models', infer.models],
  ]);
  const blob = createBlobRoute(core);
  const bundleFile = createBundleFileRoute(core);
  const dashboard = createDashboardRoute(env, await blobOriginOf(core.blobs));

  const logOptions = {
    enabled: env.RIL_LOG_REQUESTS === '1', route: routeOf,
    observe: (route: string, method: string | undefined, status: number, aborted: boolean, seconds: number) => metrics.observeHttp(route, method, status, aborted, seconds),
  };

  async function handler(req: http.IncomingMessage, res: http.ServerResponse) {
    // parsed once, for the router and the log line / metrics; a request target that is no URL is answered 400
    let url: URL | undefined;
    try { url = new URL(req.url ?? '/', 'http://localhost'); } catch { url = undefined; }
    await withRequestLog(req, res, logOptions, () => dispatch(req, res, url), url);
  }

  async function dispatch(req: http.IncomingMessage, res: http.ServerResponse, url: URL | undefined) {
    if (!url) return sendError(res, 'BAD_USER_INPUT', 'the request target is not a valid URL');
    try {
      const route = exact.get(url.pathname)
        ?? (/^\/blobs\/[^/]+$/.test(url.pathname) ? blob : undefined)
        ?? (BUNDLE_FILE_PATH.test(url.pathname) ? bundleFile : undefined)
        ?? ((req.method === 'GET' || req.method === 'HEAD') && isDashboardPath(url.pathname) ? dashboard : undefined);
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
    metrics,
    handler,
    async close() {
      await graphql.stop();
      await inference.close();
      await core.close();
    },
  };
}

/** Starts the platform on a port (0 = any free port), and its metrics listener when RIL_METRICS_LISTEN is set. */
export async function listen(platform: Platform, port: number, host = '127.0.0.1') {
  const server = http.createServer((req, res) => void platform.handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const close = () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); });
  let side;
  try {
    side = platform.env.RIL_METRICS_LISTEN ? await metricsListener(platform.metrics, platform.env.RIL_METRICS_LISTEN) : undefined;
  } catch (err) {
    await close();
    throw err;
  }
  return {
    server,
    port: actualPort,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    /** The unauthenticated metrics URL of RIL_METRICS_LISTEN, if set. */
    metricsUrl: side?.url,
    close: async () => { await Promise.all([close(), side?.close()]); },
  };
}
