// The RIL SDK: one small client for the GraphQL API, the blob store and the inference endpoint, typed by the
// documents that GraphQL Code Generator makes from schema.graphql + operations.graphql (`npm run codegen`).
// Runs in Node 20 and in the browser (fetch, Web Crypto, streams; no Node modules).
//
//   const ril = new RilClient({ url: 'http://127.0.0.1:4000', apiKey });
//   const { run } = await ril.request(RunDocument, { id });   // result and variables typed from the schema
//
// Failures are RilError with `code` (extensions.code: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND,
// CONFLICT, ...; NETWORK_ERROR when the server could not be reached). Network errors are retried with backoff:
// queries always, mutations only when the connection was refused (the request never reached the server).
import { BlobDownloadUrlDocument, CompleteBlobUploadDocument, CreateBlobUploadDocument, type TypedDocumentString } from './generated/graphql.js';

export * from './generated/graphql.js';
export { describeGpus, describeNeeds, describeStudent, describeWorker } from './describe.js';

export type ErrorCode =
  | 'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'CONFLICT' | 'TOO_MANY_REQUESTS'
  | 'PAYLOAD_TOO_LARGE' | 'INTERNAL_SERVER_ERROR' | 'NETWORK_ERROR' | (string & {});

export interface GraphQLErrorBody { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> & { code?: string } }

export class RilError extends Error {
  readonly code: ErrorCode;
  readonly status?: number;
  /** Every GraphQL error of the response (the first one names `code` and `message`). */
  readonly errors: GraphQLErrorBody[];
  readonly extensions: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, opts: { status?: number; errors?: GraphQLErrorBody[]; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RilError';
    this.code = code;
    this.status = opts.status;
    this.errors = opts.errors ?? [];
    this.extensions = this.errors[0]?.extensions ?? { code };
  }
}

export interface RilClientOptions {
  /** Base URL of the platform, e.g. http://127.0.0.1:4000 (no trailing /graphql). */
  url: string;
  apiKey?: string;
  /** Retries after a network error (default 3), with exponential backoff from retryDelayMs (default 200). */
  retries?: number;
  retryDelayMs?: number;
  fetch?: typeof fetch;
}

/** The answer of POST /v1/infer (its JSON, snake_case as on the wire). */
export interface InferResponse {
  deployment: string;
  revision: number;
  answer: string;
  tokens: number;
  token_ids: number[];
  finish_reason: string;
  /** Tokens of the prompt the student read (image tokens included for Hugging Face students). */
  prompt_tokens?: number;
  timings: { preprocess_ms: number; ttft_ms: number; decode_tokens_per_s: number | null; total_ms: number };
}

/** One turn of a conversation (Hugging Face students apply their chat template; built-in students take one user turn). */
export interface InferMessage { role: 'system' | 'user' | 'assistant'; text: string }

export interface InferRequest {
  deployment: string;
  /** Image bytes, or base64 / a data: URL. */
  image: Uint8Array | string;
  /** The question (a one-user-turn conversation); or give `messages` instead. */
  question?: string;
  messages?: InferMessage[];
  /** Generation ends when the text contains one of these (not included in the answer); up to 4. */
  stop?: string | string[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  repetition_penalty?: number;
  seed?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function base64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function hex(buf: ArrayBuffer): string {
  return [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Whether a URL the API returned is absolute (presigned, elsewhere) rather than relative to the API. */
const isAbsolute = (url: string) => /^[a-z][a-z0-9+.-]*:/i.test(url);

/** True when the connection was refused: nothing reached the server, so even a mutation may be sent again. */
function refused(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ECONNREFUSED';
}

export class RilClient {
  readonly url: string;
  readonly apiKey?: string;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: RilClientOptions) {
    this.url = opts.url.replace(/\/+$/, '').replace(/\/graphql$/, '');
    this.apiKey = opts.apiKey;
    this.retries = opts.retries ?? 3;
    this.retryDelayMs = opts.retryDelayMs ?? 200;
    this.fetchImpl = opts.fetch ?? ((...args) => fetch(...args));
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}), ...extra };
  }

  /** A URL the API returned, made absolute: relative ones are relative to the API's base URL. */
  resolveUrl(url: string): string {
    return isAbsolute(url) ? url : `${this.url}${url.startsWith('/') ? '' : '/'}${url}`;
  }

  /** fetch (of a path of the API, or an absolute URL) with retries on network errors (and 502/503/504 when `idempotent`). */
  private async send(path: string, init: RequestInit, idempotent: boolean): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetchImpl(this.resolveUrl(path), init);
      } catch (err) {
        if ((err as Error)?.name === 'AbortError') throw err;
        if (attempt < this.retries && (idempotent || refused(err))) {
          await sleep(this.retryDelayMs * 2 ** attempt);
          continue;
        }
        const detail = (err as { cause?: { message?: string } })?.cause?.message ?? (err as Error)?.message;
        throw new RilError('NETWORK_ERROR', `cannot reach ${this.url}: ${detail}`, { cause: err });
      }
      if (idempotent && attempt < this.retries && [502, 503, 504].includes(res.status)) {
        await sleep(this.retryDelayMs * 2 ** attempt);
        continue;
      }
      return res;
    }
  }

  /** Runs one typed operation; resolves to its `data` or rejects with a RilError. */
  async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables, opts: { signal?: AbortSignal } = {}): Promise<TResult> {
    const query = document.toString();
    const isMutation = /^\s*mutation\b/.test(query);
    const res = await this.send('/graphql', {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ query, variables: variables ?? {} }),
      signal: opts.signal,
    }, !isMutation);
    let body: { data?: TResult | null; errors?: GraphQLErrorBody[] };
    try {
      body = await res.json() as typeof body;
    } catch {
      throw new RilError(res.status >= 500 ? 'INTERNAL_SERVER_ERROR' : `HTTP_${res.status}`, `HTTP ${res.status} from ${this.url}/graphql (not a GraphQL response)`, { status: res.status });
    }
    if (body.errors?.length) {
      const first = body.errors[0];
      throw new RilError(first.extensions?.code ?? 'INTERNAL_SERVER_ERROR', first.message, { status: res.status, errors: body.errors });
    }
    if (!body.data) throw new RilError('INTERNAL_SERVER_ERROR', `HTTP ${res.status}: no data in the response`, { status: res.status });
    return body.data;
  }

  /**
   * A short-lived URL (about an hour) that serves a blob without a key, for <img src> or a plain fetch
   * (blobDownloadUrl; an Example's `imageUrl` is the same for its image). API keys never travel in URLs.
   */
  async blobUrl(sha256: string): Promise<string> {
    const { blobDownloadUrl } = await this.request(BlobDownloadUrlDocument, { sha256 });
    return this.resolveUrl(blobDownloadUrl.url);
  }

  /**
   * Uploads bytes to the content-addressed blob store; resolves to their sha256. createBlobUpload says where
   * to send them (the API's PUT /blobs/<sha256>, or a presigned URL of the S3 store, so large blobs never
   * pass through the API), then completeBlobUpload verifies and records them. Nothing is sent when the
   * blob is already stored.
   */
  async putBlob(bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    const sha = hex(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
    const { createBlobUpload: up } = await this.request(CreateBlobUploadDocument, { input: { sha256: sha, size: bytes.byteLength, contentType } });
    if (!up.alreadyExists) {
      if (!up.url) throw new RilError('INTERNAL_SERVER_ERROR', `createBlobUpload gave no URL for ${sha}`);
      // the API's own URL takes the key; a presigned one must not get it (and must not see it)
      const headers = { ...(up.headers as Record<string, string>), ...(isAbsolute(up.url) ? {} : this.headers()) };
      const res = await this.send(up.url, { method: up.method, headers, body: bytes as Uint8Array<ArrayBuffer> }, true);
      if (res.status >= 300) throw await this.httpError(res);
      await res.arrayBuffer().catch(() => undefined);
    }
    await this.request(CompleteBlobUploadDocument, { sha256: sha });
    return sha;
  }

  private async httpError(res: Response): Promise<RilError> {
    const text = await res.text();
    try {
      const e = (JSON.parse(text) as { error: { code: string; message: string } }).error;
      return new RilError(e.code, e.message, { status: res.status });
    } catch {
      return new RilError(`HTTP_${res.status}`, text.slice(0, 500) || `HTTP ${res.status}`, { status: res.status });
    }
  }

  /**
   * Asks a deployed student (POST /v1/infer). With `onToken`, the answer streams in as server-sent events and
   * onToken sees each token's text as it is chosen; resolves to the final answer with its timings either way.
   */
  async infer(req: InferRequest, opts: { onToken?: (text: string, id: number) => void; signal?: AbortSignal } = {}): Promise<InferResponse> {
    const image = typeof req.image === 'string' ? req.image : base64(req.image);
    const stream = Boolean(opts.onToken);
    const res = await this.send('/v1/infer', {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/json', ...(stream ? { accept: 'text/event-stream' } : {}) }),
      body: JSON.stringify({ ...req, image, stream }),
      signal: opts.signal,
    }, false);
    if (res.status !== 200) throw await this.httpError(res);
    if (!stream) return await res.json() as InferResponse;
    if (!res.body) throw new RilError('INTERNAL_SERVER_ERROR', 'the stream has no body');
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
        const payload = JSON.parse(data.join('\n'));
        if (event === 'token') opts.onToken!(payload.text, payload.token);
        else if (event === 'done') { await reader.cancel().catch(() => {}); return payload as InferResponse; }
        else if (event === 'error') throw new RilError(payload.error.code, payload.error.message, { status: 200 });
      }
    }
    throw new RilError('NETWORK_ERROR', 'the answer stream ended before its done event');
  }
}
