// The student endpoint over HTTP: POST /v1/infer (our JSON; server-sent events with "stream": true) and
// POST /v1/chat/completions (the OpenAI-compatible subset: the conversation's messages (./chatMessages.ts) with
// one image_url, a data URL or a URL on a host listed in RIL_INFER_IMAGE_HOSTS; model = deployment name,
// max_tokens, temperature, top_p, seed, stop, stream). Both call the same
// InferenceService as the GraphQL `infer` field. Authorisation: a key with role INFERENCE or EDITOR (or
// ADMIN), see api/_lib/auth/access.ts INFER; per-key token-bucket rate limit (RIL_INFER_RATE_LIMIT/_BURST) -> 429, kept in
// the database so it holds across instances; the process's admission gate (RIL_INFER_CONCURRENCY/_QUEUE, in the
// InferenceService) -> 503, both with Retry-After. An error after a stream started is sent as an SSE `error` event:
// our code and message for an expected error, a generic message for anything else (logged here), never an internal one.
import crypto from 'node:crypto';
import type http from 'node:http';
import { INFER } from '../auth/access.js';
import type { Env } from '../env.js';
import { AppError, badInput, httpStatus } from '../errors.js';
import { KeyCache, requireRole, type Principal } from '../auth/keys.js';
import { RateLimiter } from '../auth/rateLimit.js';
import { loadImageInput, payloadTooLarge } from '../inference/input.js';
import type { ChatMessage, InferencePort, InferRequest, InferResult } from '../inference/port.js';
import { stopSequences } from '../inference/stop.js';
import { chatConversation } from './chatMessages.js';
import type { Services } from '../services.js';
import { abortOnClose, keyOf, sendJson, type Route } from './respond.js';
import { assertStorableJson } from './storableText.js';

export { RateLimiter } from '../auth/rateLimit.js';

const tooMany = (message: string) => new AppError('TOO_MANY_REQUESTS' as never, message);
const tooLarge = payloadTooLarge;

/** What a client may see of an error that ended a stream: expected errors keep their code and message; anything
 * else is logged here and becomes a generic INTERNAL_SERVER_ERROR. */
export function streamError(err: unknown): { code: string; message: string } {
  const code = (err as AppError).extensions?.code;
  if (typeof code === 'string' && httpStatus(code) < 500) return { code, message: (err as Error).message };
  if (code === 'SERVICE_UNAVAILABLE') return { code, message: (err as Error).message };
  console.error('[infer] a streamed request failed:', err);
  return { code: 'INTERNAL_SERVER_ERROR', message: 'internal server error' };
}

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
  deployment: r.deployment, revision: r.revision, answer: r.answer, tokens: r.tokens, token_ids: r.tokenIds, prompt_tokens: r.promptTokens,
  finish_reason: r.finishReason,
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
  /** The per-key rate limit of these routes, for the other inference path of this process (Query.infer): throws
   * TOO_MANY_REQUESTS (with retryAfter) when the key is over it. */
  limitKey(principal: Principal): Promise<void>;
}

export function createInferRoutes(services: Services, inference: InferencePort): InferRoutes {
  const { env, db } = services;
  // Shared by every instance on the database (api/_lib/auth/rateLimit.ts), keyed by the API key's id.
  const limiter = new RateLimiter(db, env.RIL_INFER_RATE_LIMIT, env.RIL_INFER_RATE_BURST);
  // Valid keys are trusted for RIL_KEY_CACHE_MS without a database read (0 = every request reads the key): a key
  // revoked through this process is refused at once, through another instance within that bound (docs/security.md).
  const keys = new KeyCache(db.prisma, env.RIL_KEY_CACHE_MS);

  async function limitKey(principal: Principal) {
    const wait = await limiter.take(`infer:${principal.keyId}`);
    if (wait > 0) throw Object.assign(tooMany(`rate limit of ${env.RIL_INFER_RATE_LIMIT} requests/s per key exceeded; retry in ${wait.toFixed(2)} s`), { retryAfter: Math.ceil(wait) });
  }

  async function admit(req: http.IncomingMessage, principalOf: () => Promise<Principal | null>) {
    if (req.method !== 'POST') throw badInput(`method ${req.method} not allowed; use POST`);
    const principal = requireRole(await principalOf(), INFER);
    await limitKey(principal);
    return readJson(req, env.RIL_INFER_MAX_BODY_BYTES);
  }

  async function infer(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    const signal = abortOnClose(res);
    const body = await admit(req, principalOf);
    if (typeof body.deployment !== 'string' || !body.deployment) throw badInput('deployment is required (a deployment name)');
    // `question`, or `messages` in our own shape ({role, text}: the conversation InferenceService takes)
    if (body.messages == null && typeof body.question !== 'string') throw badInput('question is required (a string)');
    const request: InferRequest = {
      deployment: body.deployment, question: body.question as string | undefined, messages: body.messages as ChatMessage[] | undefined,
      stop: stopSequences(body.stop),
      maxTokens: optNumber(body, 'max_tokens'), temperature: optNumber(body, 'temperature'), topP: optNumber(body, 'top_p'),
      topK: optNumber(body, 'top_k'), repetitionPenalty: optNumber(body, 'repetition_penalty'), seed: optNumber(body, 'seed'),
      image: await loadImageInput(body.image, 'image', env, signal), signal,
    };
    if (body.stream !== true) return sendJson(res, 200, inferResponse(await inference.infer(request)));
    let started = false;
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
      sse(res, { error: streamError(err) }, 'error');
      res.end();
    }
  }

  async function chat(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    const signal = abortOnClose(res);
    const body = await admit(req, principalOf);
    if (typeof body.model !== 'string' || !body.model) throw badInput('model is required (the deployment name)');
    if (body.n !== undefined && body.n !== null && body.n !== 1) throw badInput('only n = 1 is supported');
    const { messages, image } = chatConversation(body.messages);
    const stop = stopSequences(body.stop);
    const maxTokens = optNumber(body, 'max_completion_tokens') ?? optNumber(body, 'max_tokens');
    const request: InferRequest = {
      deployment: body.model, messages, stop, maxTokens,
      temperature: optNumber(body, 'temperature') ?? 1, topP: optNumber(body, 'top_p') ?? 1, seed: optNumber(body, 'seed'),
      image: await loadImageInput(image.value, image.where, env, signal), signal,
    };
    const id = `chatcmpl-${crypto.randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const finish = (r: InferResult) => (r.finishReason === 'stop' ? 'stop' : 'length');
    const usage = (r: InferResult) => ({ prompt_tokens: r.promptTokens, completion_tokens: r.tokens, total_tokens: r.promptTokens + r.tokens });
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
    request.onToken = (_id, text) => { start(); if (text) sse(res, chunk({ content: text }, null)); };
    try {
      const r = await inference.infer(request);
      start();
      sse(res, chunk({}, finish(r)));
      sse(res, '[DONE]');
      res.end();
    } catch (err) {
      if (!started) throw err;
      sse(res, { error: streamError(err) });
      res.end();
    }
  }

  /** One error policy for the OpenAI-style routes: 4xx and 503 in the OpenAI error shape, with retry-after on 429
   * and 503; anything else is rethrown (a masked 500). */
  const openAiRoute = (fn: (req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) => Promise<void>): Route =>
    async (req, res) => {
      try {
        await fn(req, res, () => keys.authenticate(keyOf(req)));
      } catch (err) {
        const code = (err as AppError).extensions?.code as string | undefined;
        if (!code || (httpStatus(code) >= 500 && code !== 'SERVICE_UNAVAILABLE') || res.headersSent) throw err;
        const retryAfter = (err as { retryAfter?: number }).retryAfter;
        const type = code === 'TOO_MANY_REQUESTS' ? 'rate_limit_exceeded' : code === 'SERVICE_UNAVAILABLE' ? 'server_overloaded' : 'invalid_request_error';
        sendJson(res, httpStatus(code), { error: { code, message: (err as Error).message, type } },
          retryAfter ? { 'retry-after': String(retryAfter) } : {});
      }
    };

  async function models(req: http.IncomingMessage, res: http.ServerResponse, principalOf: () => Promise<Principal | null>) {
    if (req.method !== 'GET') throw badInput(`method ${req.method} not allowed; use GET`);
    requireRole(await principalOf(), INFER);
    const live = await db.prisma.deployment.findMany({ where: { liveRevisionId: { not: null } }, orderBy: { name: 'asc' } });
    sendJson(res, 200, { object: 'list', data: live.map((d) => ({ id: d.name, object: 'model', created: Math.floor(d.createdAt.getTime() / 1000), owned_by: 'ril' })) });
  }

  return { infer: openAiRoute(infer), chat: openAiRoute(chat), models: openAiRoute(models), limitKey };
}
