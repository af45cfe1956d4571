// The student endpoint over HTTP: POST /v1/infer (our JSON; server-sent events with "stream": true) and
// POST /v1/chat/completions (the OpenAI-compatible subset: messages with text and image_url data URLs,
// model = deployment name, max_tokens, temperature, top_p, seed, stream). Both call the same
// InferenceService as the GraphQL `infer` field. Authorisation: a key with role INFERENCE or EDITOR (or
// ADMIN), see api/access.ts INFER; per-key token-bucket rate limit (RIL_INFER_RATE_LIMIT/_BURST) -> 429.
import crypto from 'node:crypto';
import type http from 'node:http';
import { INFER } from '../auth/access.js';
import type { Env } from '../env.js';
import { AppError, badInput, httpStatus } from '../errors.js';
import { authenticate, requireRole, type Principal } from '../auth/keys.js';
import type { InferencePort, InferRequest, InferResult } from '../inference/port.js';
import type { Services } from '../services.js';
import { keyOf, sendJson, type Route } from './respond.js';
import { assertStorableJson } from './storableText.js';

/** A token bucket per API key. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly perSecond: number, private readonly burst: number) {}

  /** 0 when allowed, else the seconds to wait. */
  take(key: string, now = performance.now()): number {
    if (this.perSecond <= 0) return 0;
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / this.perSecond;
  }
}

const tooMany = (message: string) => new AppError('TOO_MANY_REQUESTS' as never, message);
const tooLarge = (message: string) => new AppError('PAYLOAD_TOO_LARGE' as never, message);

async function readJson(req: http.IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(`request body of ${declared} bytes exceeds the limit of ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(`request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badInput('the request body is not valid JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badInput('the request body must be a JSON object');
  assertStorableJson(body, 'the request body');
  return body as Record<string, unknown>;
}

const DATA_URL = /^data:image\/[a-z0-9.+-]+;base64,/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}$/;

/** Image bytes from base64 or a base64 data URL. */
function imageBytes(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || !value) throw badInput(`${where} is required: base64 (or a data: URL) of a PNG, JPEG or WebP`);
  const b64 = value.replace(DATA_URL, '');
  if (b64 === value && value.startsWith('data:')) throw badInput(`${where} must be a base64 image data URL (data:image/...;base64,...)`);
  if (/^https?:/i.test(value)) throw badInput(`${where}: remote image URLs are not fetched; send a data: URL`);
  if (!BASE64.test(b64)) throw badInput(`${where} is not valid base64`);
  return Buffer.from(b64, 'base64');
}

function optNumber(body: Record<string, unknown>, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw badInput(`${key} must be a number`);
  return v;
}

function sseHeaders(res: http.ServerResponse) {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
}

const sse = (res: http.ServerResponse, data: unknown, event?: string) =>
  res.write(`${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`);

export const inferResponse = (r: InferResult) => ({
  deployment: r.deployment, revision: r.revision, answer: r.answer, tokens: r.tokens, token_ids: r.tokenIds, finish_reason: r.finishReason,
  timings: {
    preprocess_ms: r.timings.preprocessMs, ttft_ms: r.timings.ttftMs, decode_tokens_per_s: r.timings.decodeTokensPerSecond, total_ms: r.timings.totalMs,
  },
});

export interface InferRoutes {
  /** POST /v1/infer */
  infer: Route;
  /** POST /v1/chat/completions */
  chat: Route;
  /** GET /v1/models: the deployments with a live revision, in the OpenAI list format. */
  models: Route;
}

export function createInferRoutes(services: Services, inference: InferencePort): InferRoutes {
  const { env, db } = services;
  const limiter = new RateLimiter(env.RIL_INFER_RATE_LIMIT, env.RIL_INFER_RATE_BURST);

  // Authenticated keys are remembered for RIL_INFER_AUTH_CACHE_MS (a database round trip per request would
  // be most of the endpoint's overhead); a revoked key is refused at most that long after revocation.
  const principals = new Map<string, { principal: Principal; until: number }>();
  async function cachedPrincipal(req: http.IncomingMessage, principalOf: () => Promise<Principal | null>) {
    const header = req.headers.authorization;
    const hit = header ? principals.get(header) : undefined;
    if (hit && hit.until > Date.now()) return hit.principal;
    const principal = await principalOf();
    if (header && principal && env.RIL_INFER_AUTH_CACHE_MS > 0) {
      if (principals.size > 10_000) principals.clear();
      principals.set(header, { principal, until: Date.now() + env.RIL_INFER_AUTH_CACHE_MS });
    }
    return principal;
  }

  async function admit(req: http.IncomingMessage, principalOf: () => Promise<Principal | null>) {
    if (req.method !== 'POST') throw badInput(`method ${req.method} not allowed; use POST`);
    const principal = requireRole(await cachedPrincipal(req, principalOf), INFER);
    const wait = limiter.take(principal.keyId);
    if (wait > 0) throw Object.assign(tooMany(`rate limit of ${env.RIL_INFER_RATE_LIMIT} requests/s per key exceeded; retry in ${wait.toFixed(2)} s`), { retryAfter: Math.ceil(wait) });
    return readJson(req, env.RIL_INFER_MAX_BODY_BYTES);
  }

  /** Aborts generation when the client goes away mid-stream. */
  function abortOnClose(res: http.ServerResponse) {
    const ctrl = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ctrl.abort(); });
    return ctrl.signal;
  }

  async function infer(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    const body = await admit(req, principalOf);
    if (typeof body.deployment !== 'string' || !body.deployment) throw badInput('deployment is required (a deployment name)');
    if (typeof body.question !== 'string') throw badInput('question is required (a string)');
    const request: InferRequest = {
      deployment: body.deployment, question: body.question, image: imageBytes(body.image, 'image'),
      maxTokens: optNumber(body, 'max_tokens'), temperature: optNumber(body, 'temperature'), topP: optNumber(body, 'top_p'),
      topK: optNumber(body, 'top_k'), repetitionPenalty: optNumber(body, 'repetition_penalty'), seed: optNumber(body, 'seed'),
    };
    if (body.stream !== true) return sendJson(res, 200, inferResponse(await inference.infer(request)));
    let started = false;
    request.signal = abortOnClose(res);
    request.onToken = (id, text) => {
      if (!started) { started = true; sseHeaders(res); }
      sse(res, { token: id, text }, 'token');
    };
    try {
      const result = await inference.infer(request);
      if (!started) sseHeaders(res);
      sse(res, inferResponse(result), 'done');
      res.end();
    } catch (err) {
      if (!started) throw err;
      sse(res, { error: { code: (err as AppError).extensions?.code ?? 'INTERNAL_SERVER_ERROR', message: (err as Error).message } }, 'error');
      res.end();
    }
  }

  async function chat(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    const body = await admit(req, principalOf);
    if (typeof body.model !== 'string' || !body.model) throw badInput('model is required (the deployment name)');
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw badInput('messages must be a non-empty array');
    if (body.n !== undefined && body.n !== null && body.n !== 1) throw badInput('only n = 1 is supported');
    // The student answers one question about one image: the last user message's text, the image from its image_url part.
    const user = [...body.messages].reverse().find((m) => m && typeof m === 'object' && (m as { role?: unknown }).role === 'user') as { content?: unknown } | undefined;
    if (!user) throw badInput('messages need a user message');
    const texts: string[] = [];
    const images: Buffer[] = [];
    if (typeof user.content === 'string') texts.push(user.content);
    else if (Array.isArray(user.content)) {
      for (const [j, part] of user.content.entries()) {
        const p = part as { type?: unknown; text?: unknown; image_url?: { url?: unknown } | string };
        if (p?.type === 'text' && typeof p.text === 'string') texts.push(p.text);
        else if (p?.type === 'image_url') images.push(imageBytes(typeof p.image_url === 'string' ? p.image_url : p.image_url?.url, `content[${j}].image_url.url`));
        else throw badInput(`content[${j}] must be a text or image_url part`);
      }
    } else throw badInput('the user message content must be a string or an array of parts');
    if (images.length !== 1) throw badInput(`the user message needs exactly one image_url part (it has ${images.length})`);
    const maxTokens = optNumber(body, 'max_completion_tokens') ?? optNumber(body, 'max_tokens');
    const request: InferRequest = {
      deployment: body.model, question: texts.join('\n'), image: images[0], maxTokens,
      temperature: optNumber(body, 'temperature') ?? 1, topP: optNumber(body, 'top_p') ?? 1, seed: optNumber(body, 'seed'),
    };
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = (r: InferResult) => (r.finishReason === 'stop' ? 'stop' : 'length');
    const usage = (r: InferResult) => ({ prompt_tokens: Buffer.byteLength(request.question) + 2, completion_tokens: r.tokens, total_tokens: Buffer.byteLength(request.question) + 2 + r.tokens });
    if (body.stream !== true) {
      const r = await inference.infer(request);
      return sendJson(res, 200, {
        id, object: 'chat.completion', created, model: body.model, system_fingerprint: `rev-${r.revision}`,
        choices: [{ index: 0, message: { role: 'assistant', content: r.answer }, logprobs: null, finish_reason: finish(r) }], usage: usage(r),
      });
    }
    const chunk = (delta: object, finishReason: string | null) => ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    let started = false;
    const start = () => { if (!started) { started = true; sseHeaders(res); sse(res, chunk({ role: 'assistant', content: '' }, null)); } };
    request.signal = abortOnClose(res);
    request.onToken = (_id, text) => { start(); if (text) sse(res, chunk({ content: text }, null)); };
    try {
      const r = await inference.infer(request);
      start();
      sse(res, chunk({}, finish(r)));
      sse(res, '[DONE]');
      res.end();
    } catch (err) {
      if (!started) throw err;
      sse(res, { error: { code: (err as AppError).extensions?.code ?? 'INTERNAL_SERVER_ERROR', message: (err as Error).message } });
      res.end();
    }
  }

  /** One error policy for the OpenAI-style routes: 4xx in the OpenAI error shape, with retry-after on 429. */
  const openAiRoute = (fn: (req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) => Promise<void>): Route =>
    async (req, res) => {
      try {
        await fn(req, res, () => authenticate(db.prisma, keyOf(req)));
      } catch (err) {
        const code = (err as AppError).extensions?.code as string | undefined;
        if (!code || httpStatus(code) >= 500 || res.headersSent) throw err;
        const retryAfter = (err as { retryAfter?: number }).retryAfter;
        sendJson(res, httpStatus(code), { error: { code, message: (err as Error).message, type: code === 'TOO_MANY_REQUESTS' ? 'rate_limit_exceeded' : 'invalid_request_error' } },
          retryAfter ? { 'retry-after': String(retryAfter) } : {});
      }
    };

  async function models(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    if (req.method !== 'GET') throw badInput(`method ${req.method} not allowed; use GET`);
    requireRole(await cachedPrincipal(req, principalOf), INFER);
    const live = await db.prisma.deployment.findMany({ where: { liveRevisionId: { not: null } }, orderBy: { name: 'asc' } });
    sendJson(res, 200, { object: 'list', data: live.map((d) => ({ id: d.name, object: 'model', created: Math.floor(d.createdAt.getTime() / 1000), owned_by: 'ril' })) });
  }

  return { infer: openAiRoute(infer), chat: openAiRoute(chat), models: openAiRoute(models) };
}
