// How an inference request carries its image, the same on every path: base64, or a base64 data: URL of an image
// (never a remote URL: the server fetches nothing). Shared by POST /v1/infer, /v1/chat/completions and Query.infer,
// so one cap, RIL_INFER_MAX_BODY_BYTES, bounds what each path accepts.
import { AppError, badInput } from '../errors.js';

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

export const payloadTooLarge = (message: string) => new AppError('PAYLOAD_TOO_LARGE' as never, message);

/** Image bytes from base64 or a base64 data URL; BAD_USER_INPUT for anything else. */
export function decodeImageInput(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !value) throw badInput(`${where} is required: base64 (or a data: URL) of a PNG, JPEG or WebP`);
  const b64 = value.replace(DATA_URL, '');
  if (b64 === value && value.startsWith('data:')) throw badInput(`${where} must be a base64 image data URL (data:image/...;base64,...)`);
  if (/^https?:/i.test(value)) throw badInput(`${where}: remote image URLs are not fetched; send a data: URL`);
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
