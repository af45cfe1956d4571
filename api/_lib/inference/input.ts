// How an inference request carries its image, the same on every path: base64, a base64 data: URL of an image, or
// (only for hosts the operator lists in RIL_INFER_IMAGE_HOSTS) an https URL the server fetches. Shared by POST
// /v1/infer, /v1/chat/completions and Query.infer, so one cap, RIL_INFER_MAX_BODY_BYTES, bounds what each path
// accepts, whether it came in the body or from a fetch.
//
// The fetch goes through the platform's one outbound gate (api/_lib/net/outbound.ts: every resolved address
// checked, the connection pinned to it, no redirects, a body cap, a timeout), with stricter rules on top: the host
// must be listed (checked before any DNS query or connection), https unless RIL_INFER_IMAGE_ALLOW_HTTP=1, and a
// listed host is exempt from the private-address check only with RIL_INFER_IMAGE_ALLOW_PRIVATE=1.
import type { Env } from '../env.js';
import { AppError, badInput } from '../errors.js';
import { OutboundError, outboundRequest, type OutboundPolicy } from '../net/outbound.js';

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

export const payloadTooLarge = (message: string) => new AppError('PAYLOAD_TOO_LARGE' as never, message);

/** Image bytes from base64 or a base64 data URL; BAD_USER_INPUT for anything else. */
export function decodeImageInput(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !value) throw badInput(`${where} is required: base64 (or a data: URL) of an image`);
  const b64 = value.replace(DATA_URL, '');
  if (b64 === value && value.startsWith('data:')) throw badInput(`${where} must be a base64 image data URL (data:image/...;base64,...)`);
  if (/^https?:/i.test(value)) throw badInput(`${where}: remote image URLs are not fetched from this host (an operator lists the hosts that are in RIL_INFER_IMAGE_HOSTS); send a data: URL`);
  if (!BASE64.test(b64)) throw badInput(`${where} is not valid base64`);
  return Buffer.from(b64, 'base64');
}

/** The size an inference request's image and question take as text: what a /v1/infer body of the same request
 * would hold. Query.infer refuses more than RIL_INFER_MAX_BODY_BYTES like the HTTP routes do (with BAD_USER_INPUT,
 * GraphQL's code for a bad argument), so a GraphQL document cannot carry a larger image than /v1/infer. */
export function checkInferTextSize(image: string, question: string, maxBytes: number): void {
  const size = Buffer.byteLength(image) + Buffer.byteLength(question);
  if (size > maxBytes) throw badInput(`the image and question are ${size} bytes, more than the inference limit of ${maxBytes} (RIL_INFER_MAX_BODY_BYTES)`);
}

export type ImageFetchSettings = Pick<Env, 'RIL_INFER_IMAGE_HOSTS' | 'RIL_INFER_IMAGE_ALLOW_HTTP' | 'RIL_INFER_IMAGE_ALLOW_PRIVATE'
  | 'RIL_INFER_IMAGE_FETCH_MS' | 'RIL_INFER_MAX_BODY_BYTES'>;

/** Image bytes from base64, a data URL, or a URL on a listed host (fetched); BAD_USER_INPUT for anything else,
 * including every failed fetch (in our words: never the remote's body or headers). */
export async function loadImageInput(value: unknown, where: string, settings: ImageFetchSettings, signal?: AbortSignal): Promise<Buffer> {
  if (typeof value !== 'string' || !/^https?:/i.test(value)) return decodeImageInput(value, where);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(`${where} is not a valid URL`);
  }
  const host = url.hostname.toLowerCase();
  // the list is checked before anything else: an unlisted host gets no DNS query and no connection
  if (!settings.RIL_INFER_IMAGE_HOSTS.some((h) => h.toLowerCase() === host)) return decodeImageInput(value, where);
  if (url.protocol !== 'https:' && settings.RIL_INFER_IMAGE_ALLOW_HTTP !== '1') throw badInput(`${where}: image URLs must be https`);
  const policy: OutboundPolicy = {
    allowHosts: settings.RIL_INFER_IMAGE_ALLOW_PRIVATE === '1' ? [host] : [],
    maxBytes: settings.RIL_INFER_MAX_BODY_BYTES,
    timeoutMs: settings.RIL_INFER_IMAGE_FETCH_MS,
  };
  let res;
  try {
    res = await outboundRequest(url.href, { method: 'GET', headers: { accept: 'image/*' }, signal }, policy);
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    const reason = err.failure === 'too-large' ? `the image is larger than ${policy.maxBytes} bytes (RIL_INFER_MAX_BODY_BYTES)`
      : err.failure === 'timeout' ? `the fetch took longer than ${policy.timeoutMs} ms (RIL_INFER_IMAGE_FETCH_MS)`
        : err.failure === 'blocked' ? `${url.host} is not a public address (an operator may allow it with RIL_INFER_IMAGE_ALLOW_PRIVATE)`
          : err.message;
    throw badInput(`${where}: the image could not be fetched: ${reason}`);
  }
  if (res.status !== 200) throw badInput(`${where}: the image could not be fetched: HTTP ${res.status}`);
  const type = String(res.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!type.startsWith('image/')) throw badInput(`${where}: the URL did not answer with an image (content-type ${JSON.stringify(type || 'none')})`);
  return res.body;
}
