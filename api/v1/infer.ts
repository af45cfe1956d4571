// The student endpoint as one Vercel-style function (@vercel/node): POST /v1/infer and
// POST /v1/chat/completions, the same code `ril serve` runs (api/http/infer.ts). The platform (database for
// keys and deployments, loaded runtimes) is created once per warm instance and reused by every invocation,
// so sessions are created and warmed up once per deployment revision, not per request.
import type { VercelRequest, VercelResponse } from '@vercel/node';
import { createPlatform, sendJson, type Platform } from '../_lib/http/server.js';

let platform: Promise<Platform> | undefined;

const ROUTES = new Set(['/v1/infer', '/v1/chat/completions', '/healthz']);

export default async function handler(req: VercelRequest, res: VercelResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (!ROUTES.has(path)) return sendJson(res, 404, { error: { code: 'NOT_FOUND', message: `no route for ${req.method} ${path} in the inference function` } });
  platform ??= createPlatform();
  await (await platform).handler(req, res);
}

/** Lets tests and hosts release the database connection and the sessions. */
export async function shutdown(): Promise<void> {
  if (platform) await (await platform).close();
  platform = undefined;
}
