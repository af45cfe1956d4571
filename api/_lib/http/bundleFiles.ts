// GET|HEAD /v1/deployments/<name>/bundle/<file>: the files of a deployment's live bundle, for a browser that runs
// the student on the user's device (the dashboard's "Run on this device", clients/web/src/ondevice/).
//
// - Who: the keys that may run the student on the server (INFER: INFERENCE, EDITOR; ADMIN passes), checked before
//   anything about the deployment is looked up, so a key without the role learns nothing (401/403 first). Each
//   request takes a token from the key's inference bucket (RIL_INFER_RATE_LIMIT/_BURST, shared with /v1/infer):
//   a bundle is a handful of requests per page load, and a key cannot turn the route into a bandwidth pump.
// - What: manifest.json, and exactly the names that are keys of its `files`; anything else is 404 (a name with a
//   `..` segment, an absolute one, a backslash, or a file of the bundle directory that the manifest does not list).
//   The name is only ever compared with the live manifest's keys and joined under this deployment's own bundle
//   directory, and the joined path must stay inside it: another deployment's files are not reachable by any name.
// - Caching: the client pins each file to the content it expects with ?sha256=<hex> (from the manifest it read):
//   such a URL names content, so it is `private, max-age=31536000, immutable`; if the live bundle switched and the
//   file no longer has that sha256, the answer is 409 (the client starts again from the manifest). Without the pin,
//   and for manifest.json (which changes with the live revision), `private, no-cache`: revalidated by ETag (304).
//   ETag = the file's sha256 from the manifest (the manifest's own: the bundle blob's sha256, `.<variant>` added
//   for a Hugging Face bundle). x-ril-revision and
//   x-ril-bundle-sha256 say which live revision answered. Files are streamed from disk, not buffered.
// - Variant: for a Hugging Face bundle (format 3), x-ril-variant names the variant the live revision serves (its
//   DeploymentRevision.variant, else the manifest's default_variant), so the browser fetches that variant's graphs
//   and runs the dtypes the server runs. The manifest's bytes stay the bundle's own.
// Errors are thrown and answered by the platform's one policy (respond.ts sendFailure).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { INFER } from '../auth/access.js';
import { KeyCache, requireRole } from '../auth/keys.js';
import { RateLimiter } from '../auth/rateLimit.js';
import { AppError, badInput, conflict, notFound } from '../errors.js';
import { liveBundle } from '../inference/liveBundle.js';
import type { Services } from '../services.js';
import { keyOf, type Route } from './respond.js';

/** The path this route answers: /v1/deployments/<name>/bundle/<file> (the file may hold `/`: onnx/model.onnx). */
export const BUNDLE_FILE_PATH = /^\/v1\/deployments\/([^/]+)\/bundle\/(.+)$/;


const SHA256 = /^[0-9a-f]{64}$/;
const YEAR = 365 * 24 * 3600;

interface Listed {
  files: Record<string, { sha256: string; bytes: number }>;
  /** A Hugging Face bundle's default_variant (undefined for a built-in bundle, which has no variants). */
  defaultVariant?: string;
}

/** The manifest's listed files, read once per bundle directory (a directory is immutable once unpacked). */
const manifests = new Map<string, Listed>();
async function listedFiles(dir: string): Promise<Listed> {
  let listed = manifests.get(dir);
  if (!listed) {
    const m = JSON.parse(await fsp.readFile(path.join(dir, 'manifest.json'), 'utf8')) as { files?: unknown; variants?: unknown; default_variant?: unknown };
    if (!m.files || typeof m.files !== 'object' || Array.isArray(m.files)) throw new Error(`bundle ${path.basename(dir)}: manifest.json lists no files`);
    const hasVariants = m.variants && typeof m.variants === 'object' && typeof m.default_variant === 'string';
    listed = { files: m.files as Listed['files'], defaultVariant: hasVariants ? m.default_variant as string : undefined };
    if (manifests.size > 64) manifests.clear();
    manifests.set(dir, listed);
  }
  return listed;
}

/** A name that can only mean a file inside the bundle directory: relative, no `.`/`..`/empty segment, no backslash
 * or NUL. Checked before the manifest is consulted, and the joined path is checked again after. */
function safeRelative(name: string): boolean {
  if (!name || name.startsWith('/') || /[\\\0]/.test(name) || /^[a-z]:/i.test(name)) return false;
  return name.split('/').every((s) => s !== '' && s !== '.' && s !== '..');
}

const typeOf = (name: string) => (name.endsWith('.json') ? 'application/json; charset=utf-8' : 'application/octet-stream');

export function createBundleFileRoute(services: Services): Route {
  const { env, db } = services;
  const keys = new KeyCache(db.prisma, env.RIL_KEY_CACHE_MS);
  const limiter = new RateLimiter(db, env.RIL_INFER_RATE_LIMIT, env.RIL_INFER_RATE_BURST);
  return async (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') throw badInput(`method ${req.method} not allowed; use GET`);
    const principal = requireRole(await keys.authenticate(keyOf(req)), INFER); // before any lookup: fails closed
    const wait = await limiter.take(`infer:${principal.keyId}`); // the same bucket as the inference routes
    if (wait > 0) {
      res.setHeader('retry-after', String(Math.ceil(wait)));
      throw new AppError('TOO_MANY_REQUESTS' as never, `rate limit of ${env.RIL_INFER_RATE_LIMIT} requests/s per key exceeded; retry in ${wait.toFixed(2)} s`);
    }
    const match = BUNDLE_FILE_PATH.exec(url.pathname.replace(/^\/api(?=\/v1\/)/, '')); // Vercel's function path too
    if (!match) throw notFound(`no route for ${req.method} ${url.pathname}`);
    let name: string;
    let file: string;
    try {
      name = decodeURIComponent(match[1]);
      file = decodeURIComponent(match[2]);
    } catch {
      throw badInput('the deployment or file name is not valid percent-encoding');
    }
    // a deployment name is a name (never a path, never a control character that a database might refuse)
    if (!/^[^\0-\x1f\x7f/\\]+$/.test(name)) throw notFound(`deployment ${JSON.stringify(name)}`);
    if (!safeRelative(file)) throw notFound(`bundle file ${JSON.stringify(file)}`);
    const live = await liveBundle(services, name);
    const { files, defaultVariant } = await listedFiles(live.dir);
    const isManifest = file === 'manifest.json';
    const entry = isManifest ? undefined : Object.hasOwn(files, file) ? files[file] : undefined;
    if (!isManifest && (!entry || typeof entry.sha256 !== 'string' || !SHA256.test(entry.sha256))) throw notFound(`bundle file ${JSON.stringify(file)} of deployment ${name}`);
    const full = path.resolve(live.dir, file);
    if (!full.startsWith(path.resolve(live.dir) + path.sep)) throw notFound(`bundle file ${JSON.stringify(file)}`);
    const pinned = url.searchParams.get('sha256');
    const sha = isManifest ? live.sha : entry!.sha256;
    if (pinned !== null && pinned !== sha) throw conflict(`${file} of deployment ${name} is no longer ${pinned.slice(0, 12)}… (the live revision is ${live.revision} now); read manifest.json again`);
    // a plain file, not a link: what the manifest lists is what was unpacked, nothing it points at
    const stat = await fsp.lstat(full).catch(() => null);
    if (!stat?.isFile()) throw notFound(`bundle file ${JSON.stringify(file)} of deployment ${name}`);
    const variant = live.variant ?? defaultVariant;
    // the manifest's answer depends on the variant too (x-ril-variant): a revision of the same bundle with another
    // variant must not revalidate as unchanged
    const etag = isManifest && variant !== undefined ? `"${sha}.${variant}"` : `"${sha}"`;
    const headers: Record<string, string> = {
      etag, 'x-ril-revision': String(live.revision), 'x-ril-bundle-sha256': live.sha, 'x-content-type-options': 'nosniff',
      'cache-control': pinned !== null && !isManifest ? `private, max-age=${YEAR}, immutable` : 'private, no-cache',
    };
    if (variant !== undefined) headers['x-ril-variant'] = variant;
    if (req.headers['if-none-match']?.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      res.writeHead(304, headers);
      return void res.end();
    }
    res.writeHead(200, { ...headers, 'content-type': typeOf(file), 'content-length': String(stat.size) });
    if (req.method === 'HEAD') return void res.end();
    await pipeline(fs.createReadStream(full), res as http.ServerResponse);
  };
}
