// The GraphQL API as one Vercel-style function (@vercel/node): the same handler `ril serve` runs, created
// once per warm instance and reused across invocations. Configure with the same env vars (DATABASE_URL for
// PostgreSQL in a serverless deployment; SQLite only makes sense with a persistent disk).
import type { VercelRequest, VercelResponse } from '@vercel/node';
import { createPlatform, type Platform } from './_lib/http/server.js';

let platform: Promise<Platform> | undefined;

export default async function handler(req: VercelRequest, res: VercelResponse): Promise<void> {
  platform ??= createPlatform();
  await (await platform).handler(req, res);
}

/** Lets tests and hosts release the database connection. */
export async function shutdown(): Promise<void> {
  if (platform) await (await platform).close();
  platform = undefined;
}
