// GET /metrics: the Prometheus exposition text (api/_lib/observability/metrics.ts). Fails closed: a caller needs an
// ADMIN API key, or the scrape token RIL_METRICS_TOKEN (Authorization: Bearer <token>, compared in constant time; like
// every Authorization header it is never logged). Without either: 401; any other role: 403. An operator who would
// rather not hand Prometheus a key binds a separate listener instead (RIL_METRICS_LISTEN, served by
// `metricsListener` below, no auth: only whoever reaches that interface can scrape).
import http from 'node:http';
import { authenticate, requireRole } from '../auth/keys.js';
import type { Env } from '../env.js';
import { badInput } from '../errors.js';
import { noteCaller } from '../log.js';
import type { MetricsSource } from '../observability/metrics.js';
import type { Services } from '../services.js';
import { sameSecret } from './cron.js';
import { keyOf, sendError, sendFailure, type Route } from './respond.js';

const ADMIN_ONLY = [] as const;

/** The caller holds the scrape token (and RIL_METRICS_TOKEN is set). */
function hasScrapeToken(env: Pick<Env, 'RIL_METRICS_TOKEN'>, req: http.IncomingMessage): boolean {
  const token = env.RIL_METRICS_TOKEN;
  const header = req.headers.authorization;
  if (!token || !header?.startsWith('Bearer ')) return false;
  return sameSecret(header.slice(7).trim(), token);
}

async function answer(res: http.ServerResponse, metrics: MetricsSource, head: boolean) {
  const text = await metrics.text();
  res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(head ? undefined : text);
}

export function createMetricsRoute({ db, env }: Services, metrics: MetricsSource): Route {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw badInput(`method ${req.method} not allowed; use GET`);
    if (hasScrapeToken(env, req)) noteCaller('metrics-token');
    else requireRole(await authenticate(db.prisma, keyOf(req)), ADMIN_ONLY);
    await answer(res, metrics, req.method === 'HEAD');
  };
}

/** Parses RIL_METRICS_LISTEN (`host:port`, IPv6 in brackets). */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (!m || Number(m[2]) > 65535) throw new Error(`RIL_METRICS_LISTEN must be host:port (got ${JSON.stringify(value)})`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/**
 * The operator's metrics interface (RIL_METRICS_LISTEN): a listener of its own that answers only GET|HEAD /metrics,
 * without auth, and 404 to everything else. Its requests are neither logged nor counted.
 */
export async function metricsListener(metrics: MetricsSource, listen: string) {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return sendError(res, 'NOT_FOUND', 'only GET /metrics is served here');
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 'BAD_USER_INPUT', `method ${req.method} not allowed; use GET`);
    answer(res, metrics, req.method === 'HEAD').catch((err) => sendFailure(res, err));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    url: `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}/metrics`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
