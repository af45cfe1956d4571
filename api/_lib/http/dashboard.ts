// The dashboard (clients/web) at / : public static files; every datum it shows comes through /graphql with
// the user's key.
import { dashboardAssets } from '../../../clients/web/build.js';
import { sendError, type Route } from './respond.js';

export const DASHBOARD_PATHS = new Set(['/', '/app.js', '/app.css']);

export const dashboardRoute: Route = async (req, res, url) => {
  const asset = (await dashboardAssets()).files.get(url.pathname);
  if (!asset) return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
  res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(req.method === 'HEAD' ? undefined : asset.body);
};
