// Structured request logs: one JSON line per HTTP request (route, method, role, status, duration, request id),
// through one pino logger, so an operator can see an attack (bursts of 401/403, who hammers which route) without
// the logs becoming a place to steal from. What is logged is chosen field by field, never the whole request:
// no Authorization header, no query string (signed URLs and ?key= carry secrets there), no body. pino's `redact`
// is a second net for anything a later change adds by mistake.
//
// The role is learnt from the auth layer (auth/keys.ts notes each principal it resolves or checks) through an
// AsyncLocalStorage scoped to the request, so every route and every function gets it without passing it along.
import { AsyncLocalStorage } from 'node:async_hooks';
import crypto from 'node:crypto';
import type http from 'node:http';
import { pino, type Logger, type DestinationStream } from 'pino';

/** What a request learns about its caller while it runs. */
interface RequestScope { role?: string }

const scope = new AsyncLocalStorage<RequestScope>();

/** Called by the auth layer: this request's caller has `role` ('invalid' for a bad or revoked key). */
export function noteCaller(role: string): void {
  const current = scope.getStore();
  if (current) current.role = role;
}

/** Paths pino blanks if they ever reach a log line (defence in depth; the request logger never adds them). */
export const REDACTED_PATHS = [
  'authorization', 'headers.authorization', 'req.headers.authorization', 'headers.cookie', 'req.headers.cookie',
  'key', '*.key', 'secret', '*.secret', 'body', 'req.body', 'query', 'search', 'url',
];

export function createLogger(destination?: DestinationStream): Logger {
  const options = { base: undefined, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
  return destination ? pino(options, destination) : pino(options);
}

let shared: Logger | undefined;
/** The process's logger (stdout), created on first use. */
export const logger = (): Logger => (shared ??= createLogger());

export interface RequestLogOptions {
  /** false = do not log (RIL_LOG_REQUESTS=0); the request still runs in a scope. */
  enabled: boolean;
  /** The route template, e.g. `/blobs/:sha256` (paths hold no secrets, but templates keep lines groupable). */
  route: (url: URL) => string;
  log?: Logger;
  /** Called once per request when its response finished (or the client went away), with the route template: the
   * platform's HTTP metrics (ril_http_*). Must be synchronous and cheap; it runs after the response was sent. */
  observe?: (route: string, method: string | undefined, status: number, aborted: boolean, seconds: number) => void;
}

/**
 * Runs `handle` for one request and writes its line when the response finishes (or the client goes away).
 * Sets `x-request-id` on the response so a client can quote it when reporting a problem. `parsed`: the request's URL
 * if the caller parsed it already (the router does), so it is not parsed twice.
 */
export async function withRequestLog(req: http.IncomingMessage, res: http.ServerResponse, opts: RequestLogOptions,
  handle: () => Promise<void>, parsed?: URL): Promise<void> {
  const started = performance.now();
  const requestId = crypto.randomUUID();
  const state: RequestScope = {};
  if (!res.headersSent) res.setHeader('x-request-id', requestId);
  if (opts.enabled || opts.observe) {
    const rawUrl = req.url ?? '/';
    let written = false;
    const write = () => {
      if (written) return;
      written = true;
      const ms = performance.now() - started;
      let url: URL | undefined = parsed;
      try { url ??= new URL(rawUrl, 'http://localhost'); } catch { /* a request target that is no URL: route `other` */ }
      const route = url ? opts.route(url) : 'other';
      const aborted = !res.writableEnded;
      if (opts.observe) {
        try {
          opts.observe(route, req.method, res.statusCode, aborted, ms / 1000);
        } catch (err) {
          console.error('[metrics] observing a request failed:', err); // never let metrics break a response's listeners
        }
      }
      if (!opts.enabled) return;
      (opts.log ?? logger()).info({
        msg: 'request',
        requestId,
        method: req.method,
        route,
        path: !url ? '(invalid)' : url.pathname.length > 200 ? `${url.pathname.slice(0, 200)}…` : url.pathname,
        role: state.role ?? (req.headers.authorization ? 'unresolved' : 'anonymous'),
        status: res.statusCode,
        durationMs: Math.round(ms * 10) / 10,
        aborted: aborted || undefined,
      });
    };
    res.once('finish', write);
    res.once('close', write);
  }
  await scope.run(state, handle);
}

/** The route template of a platform path (for the `route` field). */
export function routeOf(url: URL): string {
  // a Vercel function sees the rewritten path (/api/graphql for /graphql): one template for both
  const p = url.pathname.replace(/^\/api(?=\/(graphql|healthz|metrics|blobs|v1)(\/|$))/, '');
  if (/^\/blobs\/[^/]+$/.test(p)) return '/blobs/:sha256';
  if (['/graphql', '/healthz', '/metrics', '/v1/infer', '/v1/chat/completions', '/v1/models'].includes(p)) return p;
  if (/^\/v1\/deployments\/[^/]+\/bundle\/.+$/.test(p)) return '/v1/deployments/:name/bundle/:file';
  if (/^\/(chunks|ort)\/[\w.-]+\.(js|mjs|wasm)$/.test(p)) return 'static';
  if (p.startsWith('/api/')) return p.length > 100 ? `${p.slice(0, 100)}…` : p;
  return p === '/' || /^\/[\w.-]+\.(js|css|html|ico|svg|png)$/.test(p) ? 'static' : 'other';
}
