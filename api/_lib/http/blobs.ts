// GET|HEAD|PUT /blobs/<sha256>: content-addressed bytes, hash- and size-checked on upload.
import type http from 'node:http';
import { authenticate, requireRole } from '../auth/keys.js';
import { SHA256_RE } from '../blobs/store.js';
import type { Services } from '../services.js';
import { keyOf, sendError, sendJson, type Route } from './respond.js';

/** The hash is the last path segment, so the route works under /blobs/<sha> and under a function's own path. */
export function createBlobRoute({ db, blobs }: Services): Route {
  return async function blob(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    const hash = url.pathname.split('/').pop() ?? '';
    const principal = await authenticate(db.prisma, keyOf(req, url));
    if (req.method === 'GET' || req.method === 'HEAD') {
      requireRole(principal, ['EDITOR', 'VIEWER', 'WORKER']);
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256');
      const row = await db.prisma.blob.findUnique({ where: { sha256: hash } });
      if (!row || !blobs.has(hash)) return sendError(res, 'NOT_FOUND', `blob ${hash} not found`);
      res.writeHead(200, { 'content-type': row.contentType, 'content-length': row.size, 'cache-control': 'private, max-age=31536000, immutable', etag: `"${hash}"` });
      if (req.method === 'HEAD') return void res.end();
      const { createReadStream } = await import('node:fs');
      createReadStream(blobs.pathOf(hash)).pipe(res);
      return;
    }
    if (req.method === 'PUT') {
      requireRole(principal, ['EDITOR', 'WORKER']);
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > blobs.maxBytes) return sendError(res, 'PAYLOAD_TOO_LARGE', `blob exceeds the limit of ${blobs.maxBytes} bytes`);
      const stored = await blobs.putStream(hash, req, String(req.headers['content-type'] ?? 'application/octet-stream'));
      return sendJson(res, stored.created ? 201 : 200, stored);
    }
    return sendError(res, 'BAD_USER_INPUT', `method ${req.method} not allowed on /blobs`);
  };
}
