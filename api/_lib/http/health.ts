// GET /healthz: the database answers (200), or it does not (503, without the driver's message: it names hosts).
import { databaseUnavailable } from '../auth/keys.js';
import { faultSummary } from '../errors.js';
import type { Services } from '../services.js';
import { sendJson, type Route } from './respond.js';

export function createHealthRoute({ db }: Services): Route {
  return async (_req, res) => {
    try {
      await db.prisma.$queryRawUnsafe('SELECT 1');
    } catch (err) {
      console.error('[healthz] database check failed:', faultSummary(err));
      throw databaseUnavailable();
    }
    sendJson(res, 200, { ok: true, database: db.provider });
  };
}
