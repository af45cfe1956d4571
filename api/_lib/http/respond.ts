// Small helpers every route shares: JSON answers, bounded body reads, the caller's key, and the one place
// where an error thrown by a route becomes an HTTP answer (4xx with its message; 503 when the database is down;
// anything else 500, masked).
import type http from 'node:http';
import { faultSummary, httpStatus, isDatabaseFault } from '../errors.js';

export { isDatabaseFault };

/** A route group's handler: the platform's router and the Vercel functions call it the same way. */
export type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => Promise<void>;

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: http.ServerResponse, code: string, message: string, headers: Record<string, string> = {}) {
  sendJson(res, httpStatus(code), { error: { code, message } }, headers);
}

export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw Object.assign(new Error(`request body of ${declared} bytes exceeds the limit of ${limit}`), { code: 'PAYLOAD_TOO_LARGE' });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body exceeds ${limit} bytes`), { code: 'PAYLOAD_TOO_LARGE' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The key from `Authorization: Bearer ...`. Never from the URL (`?key=` would leak into logs and browser
 * history): an <img src> gets a signed blob URL instead (blobDownloadUrl, Example.imageUrl). */
export function keyOf(req: http.IncomingMessage): string | undefined {
  return req.headers.authorization ?? undefined;
}

/** Aborted when the client goes away before its answer is sent (the response closes unfinished): work done only for
 * this caller (an inference: its image fetch, its wait at the admission gate, its batcher row) stops with it. Take it
 * at the route's entry, so a client that leaves while the body is read is seen too (a listener added after the
 * 'close' never hears it). */
export function abortOnClose(res: http.ServerResponse): AbortSignal {
  const ctrl = new AbortController();
  res.on('close', () => { if (!res.writableFinished) ctrl.abort(); });
  return ctrl.signal;
}

/** Errors that only say the client went away mid-request (its connection closed; or our own abort of its work, an
 * AbortError): nobody is left to answer. */
const CLIENT_GONE = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/** The answer to an error a route threw: its code's 4xx and message; 503 (retry-after, generic message) when the
 * service is unavailable (a database fault, during authentication or after); otherwise a masked 500. Logged here, once. */
export function sendFailure(res: http.ServerResponse, err: unknown) {
  const code = (err as { extensions?: { code?: string }; code?: string }).extensions?.code ?? (err as { code?: string }).code;
  // a client that hung up is not an internal error (nor a log line per hang-up, which any key holder could cause)
  if (res.destroyed && ((code && CLIENT_GONE.has(code)) || (err as Error).name === 'AbortError')) return;
  // a request whose body was not read to the end (over the limit, refused before reading, a store that failed
  // mid-upload) leaves bytes on the connection: close it after the answer, or a client reusing it waits for the
  // server's keep-alive timeout
  const unread: Record<string, string> = res.req?.complete === false ? { connection: 'close' } : {};
  if (code && httpStatus(code) < 500) {
    if (!res.headersSent) return sendError(res, code, (err as Error).message, unread);
    return void res.destroy();
  }
  const unavailable = code === 'SERVICE_UNAVAILABLE' || isDatabaseFault(err);
  if (unavailable) {
    if (code !== 'SERVICE_UNAVAILABLE') console.error('[http] database unavailable:', faultSummary(err));
    if (!res.headersSent) return sendError(res, 'SERVICE_UNAVAILABLE', 'the service is temporarily unavailable; retry shortly', { 'retry-after': '1', ...unread });
    return void res.destroy();
  }
  console.error('[http] internal error:', err);
  if (!res.headersSent) return sendError(res, 'INTERNAL_SERVER_ERROR', 'internal server error', unread);
  res.destroy();
}
