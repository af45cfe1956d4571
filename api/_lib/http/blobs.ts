// GET|HEAD|PUT /blobs/<sha256>: content-addressed bytes, hash- and size-checked on upload.
// GET/HEAD: a key with role EDITOR, VIEWER or WORKER (Authorization: Bearer), or a signed URL
// (?exp=..&sig=.., from blobDownloadUrl / Example.imageUrl) that authorises that one blob until it expires.
// API keys in the query string (?key=) are not accepted: they leak into logs and browser history.
// On the S3 store a GET answers 302 to a presigned S3 URL (the bytes never pass through the API).
// PUT: EDITOR or WORKER keys. Large uploads should use createBlobUpload (presigned, no body limit).
// The uploader names a blob's content type, and blobs share the dashboard's origin: only image and archive types
// are served as themselves (INLINE_TYPES); anything else (text/html, image/svg+xml, ...) is served as an
// attachment of type application/octet-stream in a CSP sandbox, so a stored page or script never runs here.
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { authenticate, requireRole } from '../auth/keys.js';
import { SHA256_RE } from '../blobs/store.js';
import { forbidden } from '../errors.js';
import type { Services } from '../services.js';
import { keyOf, sendError, sendJson, type Route } from './respond.js';

/** Content types a blob is served as (inline); every other type is served as an attachment. */
export const INLINE_TYPES: ReadonlySet<string> = new Set([
  'image/png', 'image/jpeg', 'image/webp', 'application/gzip', 'application/x-tar', 'application/octet-stream',
]);

/** The headers that say how a blob of this (uploader-chosen) content type is served. */
export function blobTypeHeaders(contentType: string): Record<string, string> {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (INLINE_TYPES.has(type)) return { 'content-type': type, 'x-content-type-options': 'nosniff' };
  return {
    'content-type': 'application/octet-stream', 'x-content-type-options': 'nosniff',
    'content-disposition': 'attachment', 'content-security-policy': 'sandbox',
  };
}

/** The hash is the last path segment, so the route works under /blobs/<sha> and under a function's own path. */
export function createBlobRoute({ db, blobs }: Services): Route {
  return async function blob(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const hash = url.pathname.split('/').pop() ?? '';
    if (req.method === 'GET' || req.method === 'HEAD') {
      const key = keyOf(req);
      const signed = !key && (url.searchParams.has('sig') || url.searchParams.has('exp'));
      if (signed) {
        if (!blobs.verifySignedUrl(hash, url.searchParams.get('exp'), url.searchParams.get('sig'))) throw forbidden('the signed URL is invalid or has expired');
      } else {
        requireRole(await authenticate(db.prisma, key), ['EDITOR', 'VIEWER', 'WORKER']);
      }
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256', { 'x-content-type-options': 'nosniff' });
      const row = await db.prisma.blob.findUnique({ where: { sha256: hash } });
      if (!row) return sendError(res, 'NOT_FOUND', `blob ${hash} not found`, { 'x-content-type-options': 'nosniff' });
      const typeHeaders = blobTypeHeaders(row.contentType);
      const headers = { ...typeHeaders, 'content-length': String(row.size), etag: `"${hash}"` };
      if (blobs.kind === 's3') {
        if (req.method === 'HEAD') return void res.writeHead(200, { ...headers, 'cache-control': 'private, no-cache' }).end();
        // the presigned URL overrides the stored type with the one served here (octet-stream unless allowlisted)
        const { url: location } = await blobs.downloadUrl(hash, typeHeaders['content-type']);
        return void res.writeHead(302, { location, 'cache-control': 'private, no-store', 'x-content-type-options': 'nosniff' }).end();
      }
      const body = await blobs.openRead(hash); // NOT_FOUND (404) when the row's file is missing
      res.writeHead(200, { ...headers, 'cache-control': 'private, max-age=31536000, immutable' });
      if (req.method === 'HEAD') return void (body.destroy(), res.end());
      try {
        await pipeline(body, res);
      } catch (err) {
        // the status is sent: all that is left is to cut the response short (the client sees a truncated body)
        if ((err as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') console.error(`[blobs] reading ${hash} failed:`, (err as Error).message);
        res.destroy();
      }
      return;
    }
    if (req.method === 'PUT') {
      requireRole(await authenticate(db.prisma, keyOf(req)), ['EDITOR', 'WORKER']);
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256');
      const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
      if (declared !== undefined && declared > blobs.maxBytes) return sendError(res, 'PAYLOAD_TOO_LARGE', `blob exceeds the limit of ${blobs.maxBytes} bytes`);
      const stored = await blobs.putStream(hash, req, String(req.headers['content-type'] ?? 'application/octet-stream'), Number.isSafeInteger(declared) ? declared : undefined);
      return sendJson(res, stored.created ? 201 : 200, stored);
    }
    return sendError(res, 'BAD_USER_INPUT', `method ${req.method} not allowed on /blobs`);
  };
}
