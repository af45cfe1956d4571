// The guard of the cron functions (api/cron/*). Vercel calls them with `Authorization: Bearer $CRON_SECRET`; anyone
// else who finds the URL must not be able to make the platform drain queues on demand. With CRON_SECRET unset, a
// deployment (functions mode) refuses every call: an unset secret is a configuration fault, never "open". Embedded
// servers accept unauthenticated calls so the handlers can be tried locally.
import crypto from 'node:crypto';
import type http from 'node:http';
import type { Env } from '../env.js';
import { unauthenticated } from '../errors.js';
import { sendError, sendJson, type Route } from './respond.js';

/** Whether `given` equals the operator's secret, in constant time (also used for RIL_METRICS_TOKEN). */
export function sameSecret(given: string, expected: string): boolean {
  // compare digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte
  const a = crypto.createHash('sha256').update(given).digest();
  const b = crypto.createHash('sha256').update(expected).digest();
  return crypto.timingSafeEqual(a, b);
}

export function assertCronCaller(env: Pick<Env, 'CRON_SECRET' | 'RIL_DEPLOYMENT'>, req: http.IncomingMessage): void {
  const secret = env.CRON_SECRET;
  if (!secret) {
    if (env.RIL_DEPLOYMENT === 'functions') throw unauthenticated('cron functions refuse every call while CRON_SECRET is not set');
    return;
  }
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ') || !sameSecret(header.slice(7), secret)) throw unauthenticated('a cron call needs Authorization: Bearer $CRON_SECRET');
}

/** A cron route: GET (what Vercel sends) or POST, authorised, answering `work()`'s JSON summary. */
export function cronRoute(env: Env, work: (signal: AbortSignal) => Promise<unknown>): Route {
  return async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'POST') return sendError(res, 'BAD_USER_INPUT', `method ${req.method} not allowed on a cron function`);
    assertCronCaller(env, req);
    // a caller that hangs up (or a platform that kills the request) pauses the work instead of leaving it running
    const abort = new AbortController();
    const onClose = () => { if (!res.writableEnded) abort.abort(); };
    res.once('close', onClose);
    try {
      sendJson(res, 200, await work(abort.signal));
    } catch (err) {
      // the database could not be opened (lazyCore): say why, as defineFunction does for its start-up
      if (!(err as { startup?: boolean }).startup) throw err;
      console.error('[cron] start-up failed:', (err as Error).message);
      sendError(res, 'SERVICE_UNAVAILABLE', `the cron function could not start: ${(err as Error).message}`, { 'retry-after': '1' });
    } finally {
      res.off('close', onClose);
    }
  };
}
