// The dashboard (clients/web) at / : the static files `npm run build:web` wrote (index.html, app.js, app.css; the
// lazily loaded on-device runner's code under /chunks/, content-hashed names; onnxruntime-web's WebAssembly runtime
// under /ort/, served from this origin, never a CDN). Every datum it shows comes through /graphql with the user's key. Nothing is built at request time: on Vercel the same
// files are the deployment's static output, and `ril serve` only reads them.
//
// Every dashboard answer carries a strict Content-Security-Policy (DASHBOARD_CSP): scripts only from this origin
// (no inline script, no eval; 'wasm-unsafe-eval' lets the page compile WebAssembly, onnxruntime-web's runtime, and
// nothing else: JavaScript eval stays refused), data only from this origin and the blob store's, no framing. The same policy is in
// vercel.json `headers` for the static files on Vercel (there with any https: origin for images and data, since
// the bucket's origin is not known when vercel.json is written).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
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
    "default-src 'none'", "script-src 'self' 'wasm-unsafe-eval'", "style-src 'self' 'unsafe-inline'", `img-src 'self' data: blob:${extra}`,
    `connect-src 'self'${extra}`, "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'",
  ].join('; ');
}

/** The origin presigned download URLs of this blob store point at (none for the local store, whose URLs are ours). */
export async function blobOriginOf(blobs: Pick<BlobStore, 'kind' | 'downloadUrl'>): Promise<string | undefined> {
  if (blobs.kind !== 's3') return undefined;
  return new URL((await blobs.downloadUrl('0'.repeat(64))).url).origin; // signing is local: no request is made
}

export const DASHBOARD_PATHS = new Set(Object.keys(FILES));

/** The build's folders of generated files: esbuild's chunks (content-hashed) and onnxruntime-web's runtime files.
 * Only a plain name (no folder, no dot first) of .js, .mjs or .wasm is served from them. */
const ASSET_DIRS: Record<string, { cache: string }> = {
  chunks: { cache: 'public, max-age=31536000, immutable' }, // the name changes with the content
  ort: { cache: 'no-cache' }, // fixed names: revalidated (ETag), so an upgraded onnxruntime-web is picked up
};
const ASSET = /^\/(chunks|ort)\/([A-Za-z0-9_-][A-Za-z0-9._-]*\.(?:js|mjs|wasm))$/;
const ASSET_TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', mjs: 'text/javascript; charset=utf-8', wasm: 'application/wasm' };

/** Whether the dashboard route answers this path (its pages and its generated assets). */
export const isDashboardPath = (pathname: string) => DASHBOARD_PATHS.has(pathname) || ASSET.test(pathname);

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
    const generated = ASSET.exec(url.pathname);
    if (generated) return serveAsset(req, res, path.join(dir, generated[1], generated[2]), ASSET_DIRS[generated[1]].cache, security);
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

/** A generated asset, streamed (onnxruntime-web's .wasm is tens of MB); ETag from its size and mtime, so a reload
 * revalidates with a 304 instead of downloading it again. */
async function serveAsset(req: http.IncomingMessage, res: http.ServerResponse, file: string, cache: string, security: Record<string, string>) {
  const stat = await fsp.stat(file).catch(() => null);
  if (!stat?.isFile()) return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${req.url}`);
  const etag = `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
  const headers = { ...security, etag, 'cache-control': cache };
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers);
    return void res.end();
  }
  res.writeHead(200, { ...headers, 'content-type': ASSET_TYPES[path.extname(file).slice(1)], 'content-length': stat.size });
  if (req.method === 'HEAD') return void res.end();
  await pipeline(fs.createReadStream(file), res);
}
