// The dashboard (clients/web) at / : the static files `npm run build:web` wrote (index.html, app.js, app.css). Every
// datum it shows comes through /graphql with the user's key. Nothing is built at request time: on Vercel the same
// files are the deployment's static output, and `ril serve` only reads them.
//
// Every dashboard answer carries a strict Content-Security-Policy (DASHBOARD_CSP): scripts only from this origin
// (no inline script, no eval), data only from this origin and the blob store's, no framing. The same policy is in
// vercel.json `headers` for the static files on Vercel (there with any https: origin for images and data, since
// the bucket's origin is not known when vercel.json is written).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BlobStore } from '../blobs/store.js';
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

/** The dashboard's Content-Security-Policy. `blobOrigin`: where presigned blob URLs point (the S3 store), allowed
 * for images and fetches. Inline style attributes are allowed (the dashboard sets a few); inline script is not. */
export function dashboardCsp(blobOrigin?: string): string {
  const extra = blobOrigin ? ` ${blobOrigin}` : '';
  return [
    "default-src 'none'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", `img-src 'self' data: blob:${extra}`,
    `connect-src 'self'${extra}`, "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');
}

/** The origin presigned download URLs of this blob store point at (none for the local store, whose URLs are ours). */
export async function blobOriginOf(blobs: Pick<BlobStore, 'kind' | 'downloadUrl'>): Promise<string | undefined> {
  if (blobs.kind !== 's3') return undefined;
  return new URL((await blobs.downloadUrl('0'.repeat(64))).url).origin; // signing is local: no request is made
}

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

export function createDashboardRoute(env: Pick<Env, 'RIL_PUBLIC_DIR'>, blobOrigin?: string): Route {
  const dir = path.resolve(env.RIL_PUBLIC_DIR ?? DEFAULT_PUBLIC_DIR);
  const security = {
    'content-security-policy': dashboardCsp(blobOrigin), 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer',
  };
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
      res.writeHead(503, { ...security, 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page), 'cache-control': 'no-cache' });
      return void res.end(req.method === 'HEAD' ? undefined : page);
    }
    res.writeHead(200, { ...security, 'content-type': asset.type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
