// One Vercel function (the (req, res) contract of @vercel/node) from a route group. What a function needs is
// created once per warm instance, on its first request, and reused; a start-up that fails is not cached, so
// the next request tries again instead of the instance failing until it is recycled.
import type http from 'node:http';
import { loadEnv, type Env } from '../env.js';
import { routeOf, withRequestLog } from '../log.js';
import { isDatabaseFault, sendError, sendFailure, type Route } from './respond.js';

export interface FunctionInstance { route: Route; close(): Promise<void> }

export interface VercelFunction {
  (req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;
  /** Releases the instance (database pool, sessions); tests and hosts call it. */
  shutdown(): Promise<void>;
}

export function defineFunction(name: string, init: (env: Env) => Promise<FunctionInstance>): VercelFunction {
  let instance: Promise<FunctionInstance> | undefined;
  // request logs follow RIL_LOG_REQUESTS once the env has loaded; before (or when it cannot load) they stay on
  let logRequests = true;
  const start = () => {
    instance ??= (async () => {
      const env = loadEnv();
      logRequests = env.RIL_LOG_REQUESTS === '1';
      return init(env);
    })().catch((err) => {
      instance = undefined;
      throw Object.assign(err as Error, { startup: true });
    });
    return instance;
  };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) =>
    withRequestLog(req, res, { enabled: logRequests, route: routeOf }, () => handle(req, res));
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let route: Route;
    try {
      route = (await start()).route;
    } catch (err) {
      // Configuration and start-up faults name what to fix (an env var, `ril migrate`); they hold no secrets. A
      // database that cannot be reached is not configuration: its driver message names hosts, so it stays in the log.
      console.error(`[${name}] start-up failed:`, (err as Error).message);
      const reason = isDatabaseFault(err) ? 'the database is unavailable' : (err as Error).message;
      return sendError(res, 'SERVICE_UNAVAILABLE', `the ${name} function could not start: ${reason}`, { 'retry-after': '1' });
    }
    try {
      await route(req, res, url);
    } catch (err) {
      sendFailure(res, err);
    }
  };
  return Object.assign(handler, {
    async shutdown() {
      const current = instance;
      instance = undefined;
      if (current) await (await current.catch(() => null))?.close();
    },
  });
}
