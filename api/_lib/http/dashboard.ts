// The dashboard (clients/web) at / : the static files `npm run build:web` wrote (index.html, app.js, app.css). Every
// datum it shows comes through /graphql with the user's key. Nothing is built at request time: on Vercel the same
// files are the deployment's static output, and `ril serve` only reads them.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env } from '../env.js';
import { sendError, type Route } from './respond.js';

/** The package's public/ folder (where `npm run build:web` writes by default). */
export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
};

export const DASHBOARD_PATHS = new Set(Object.keys(FILES));

export const NOT_BUILT = 'the dashboard is not built: run `npm run build:web` (it writes public/index.html, app.js and app.css)';

function notBuiltPage(dir: string): string {
  return `<!doctype html><meta charset="utf-8"><title>RIL: dashboard not built</title>
<h1>The dashboard is not built</h1>
<p>Run <code>npm run build:web</code> in the platform's folder (it writes <code>index.html</code>, <code>app.js</code> and
<code>app.css</code> into <code>${dir.replace(/[<>&]/g, '')}</code>), then reload. The API itself (<code>/graphql</code>) works without it.</p>\n`;
}

/** Whether the built dashboard is where the server will look for it (`ril serve` warns at start when not). */
export function dashboardBuilt(env: Pick<Env, 'RIL_PUBLIC_DIR'>): boolean {
  return fs.existsSync(path.join(path.resolve(env.RIL_PUBLIC_DIR ?? DEFAULT_PUBLIC_DIR), 'index.html'));
}

export function createDashboardRoute(env: Pick<Env, 'RIL_PUBLIC_DIR'>): Route {
  const dir = path.resolve(env.RIL_PUBLIC_DIR ?? DEFAULT_PUBLIC_DIR);
  return async (req, res, url) => {
    const asset = FILES[url.pathname];
    if (!asset) return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    let body: Buffer;
    try {
      body = await fsp.readFile(path.join(dir, asset.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (asset.file !== 'index.html') return sendError(res, 'SERVICE_UNAVAILABLE', NOT_BUILT);
      const page = notBuiltPage(dir);
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page), 'cache-control': 'no-cache' });
      return void res.end(req.method === 'HEAD' ? undefined : page);
    }
    res.writeHead(200, { 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
