// GET /healthz: the database answers.
import type { Services } from '../services.js';
import { sendJson, type Route } from './respond.js';

export function createHealthRoute({ db }: Services): Route {
  return async (_req, res) => {
    await db.prisma.$queryRawUnsafe('SELECT 1');
    sendJson(res, 200, { ok: true, database: db.provider });
  };
}
