// A real local HTTP server (node:http on 127.0.0.1, a free port) that speaks OpenAI's chat-completions protocol,
// for tests of anything that calls a teacher or a judge. It checks the request shape, answers deterministically,
// can be scripted to fail per request, and records every request.
//
//   const mock = await startOpenAIMock({ apiKey: 'sk-test', script: ['429', 'ok'] });
//   // teacher.baseUrl = mock.url   (ends in /v1)
//   ... mock.requests.length, mock.requests[0].images[0], mock.maxInFlight ...
//   await mock.close();
//
// Request checks (a failing one gets a 400 in OpenAI's error shape and is recorded with `invalid` set):
// POST /v1/chat/completions, JSON body, `model` a non-empty string (equal to `model` if given), `messages` a
// non-empty array of {role, content}, content a string or an array of text / image_url parts, each image_url a
// base64 data URL whose bytes really are the declared image type (PNG, JPEG, GIF, WebP), `n` (if given) 1..8.
// With `requireImage`, the request must carry at least one image. With `apiKey`, the bearer token must match
// (else 401, whose message echoes the presented key like real servers do, so tests can check it is scrubbed).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the server does with one request:
 *  ok            200 with the answer from `respond`
 *  429           429 with `Retry-After: <retryAfter>` (option, default '0')
 *  500 / 503     server errors
 *  401           unauthorized (regardless of the key)
 *  400           a non-retryable client error
 *  hang          never answers (until the client gives up or the mock closes)
 *  garbage       200 with a non-JSON body
 *  garbage-json  200 with JSON that has no `choices`
 *  empty         200 with a well-formed answer whose content is ''
 *  drop          destroys the connection without answering (a network error for the client)
 *  {status, body?, headers?}  anything else
 */
export type MockStep =
  | 'ok' | '429' | '500' | '503' | '401' | '400' | 'hang' | 'garbage' | 'garbage-json' | 'empty' | 'drop'
  | { status: number; body?: string; headers?: Record<string, string> };

export interface MockRequest {
  /** 0-based arrival order. */
  index: number;
  receivedAt: number;
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined if it did not parse). */
  body: any;
  model?: string;
  /** The text parts of all messages, joined with '\n' (for a single user message: its question). */
  text: string;
  /** Decoded image bytes, in order of appearance. */
  images: Buffer[];
  imageTypes: string[];
  seed?: number;
  temperature?: number;
  maxTokens?: number;
  n: number;
  /** Why the request was rejected as malformed (then it got a 400), or undefined. */
  invalid?: string;
  /** The step the server played for it (after validation and auth). */
  step?: MockStep;
}

export interface OpenAIMockOptions {
  /** The answer for a valid request (default: `answer(<text>) seed=<seed>`); called once per choice. */
  respond?: (req: MockRequest, choice: number) => string;
  /** Per-request behaviour: an array consumed in arrival order ('ok' once exhausted), or a function. */
  script?: MockStep[] | ((req: MockRequest) => MockStep);
  /** Expected bearer token; requests without it get 401. */
  apiKey?: string;
  /** Expected model name; others get 404 model_not_found. */
  model?: string;
  /** Reject requests without an image_url part. */
  requireImage?: boolean;
  /** Retry-After header for '429' steps (seconds or an HTTP date; default '0'). */
  retryAfter?: string;
  /** Delay before every answer (ms), so concurrency can be observed. */
  latencyMs?: number;
}

export interface OpenAIMock {
  /** Base URL ending in /v1 (what a Teacher's baseUrl holds). */
  url: string;
  /** Every request received, in arrival order (including rejected ones). */
  requests: MockRequest[];
  /** Requests being handled right now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Forget recorded requests and counters; the script continues where it was. */
  reset(): void;
  close(): Promise<void>;
}

export const defaultRespond = (req: MockRequest, choice = 0) => `answer(${req.text}) seed=${req.seed ?? 'none'}${choice ? ` choice=${choice}` : ''}`;

const IMAGE_MAGIC: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/gif': (b) => b.subarray(0, 4).toString('latin1') === 'GIF8',
  'image/webp': (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
};

/** Fills text/images/... from the body; returns why it is malformed, or undefined. */
function inspect(req: MockRequest, opts: OpenAIMockOptions): string | undefined {
  if (req.method !== 'POST') return `method ${req.method}, expected POST`;
  if (req.path !== '/v1/chat/completions') return `path ${req.path}, expected /v1/chat/completions`;
  if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) return 'content-type is not application/json';
  const body = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'body is not a JSON object';
  if (typeof body.model !== 'string' || !body.model) return 'model must be a non-empty string';
  req.model = body.model;
  if (body.seed !== undefined) {
    if (!Number.isInteger(body.seed)) return 'seed must be an integer';
    req.seed = body.seed;
  }
  if (body.temperature !== undefined) {
    if (typeof body.temperature !== 'number' || body.temperature < 0 || body.temperature > 2) return 'temperature must be a number in 0..2';
    req.temperature = body.temperature;
  }
  if (body.max_tokens !== undefined) {
    if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return 'max_tokens must be a positive integer';
    req.maxTokens = body.max_tokens;
  }
  if (body.n !== undefined) {
    if (!Number.isInteger(body.n) || body.n < 1 || body.n > 8) return 'n must be an integer in 1..8';
    req.n = body.n;
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages must be a non-empty array';
  const texts: string[] = [];
  for (const [i, m] of body.messages.entries()) {
    if (!m || typeof m !== 'object' || !['system', 'user', 'assistant', 'developer'].includes(m.role)) return `messages[${i}].role is missing or unknown`;
    if (typeof m.content === 'string') {
      texts.push(m.content);
      continue;
    }
    if (!Array.isArray(m.content) || m.content.length === 0) return `messages[${i}].content must be a string or a non-empty array of parts`;
    for (const [j, part] of m.content.entries()) {
      const where = `messages[${i}].content[${j}]`;
      if (part?.type === 'text') {
        if (typeof part.text !== 'string') return `${where}.text must be a string`;
        texts.push(part.text);
      } else if (part?.type === 'image_url') {
        const url = part.image_url?.url;
        if (typeof url !== 'string') return `${where}.image_url.url must be a string`;
        const match = /^data:(image\/[a-z]+);base64,([A-Za-z0-9+/]+={0,2})$/.exec(url);
        if (!match) return `${where}.image_url.url is not a base64 image data URL`;
        const [, type, b64] = match;
        const bytes = Buffer.from(b64, 'base64');
        const check = IMAGE_MAGIC[type];
        if (!check) return `${where}: unsupported image type ${type}`;
        if (!check(bytes)) return `${where}: the data URL says ${type} but the bytes are not`;
        req.images.push(bytes);
        req.imageTypes.push(type);
      } else {
        return `${where}.type must be text or image_url`;
      }
    }
  }
  req.text = texts.join('\n');
  if (opts.requireImage && req.images.length === 0) return 'the request has no image_url part';
  return undefined;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', ...headers });
  res.end(text);
}

const apiError = (message: string, type: string, code: string | null = null) => ({ error: { message, type, param: null, code } });

export async function startOpenAIMock(opts: OpenAIMockOptions = {}): Promise<OpenAIMock> {
  const respond = opts.respond ?? defaultRespond;
  const requests: MockRequest[] = [];
  let arrivals = 0;
  let scriptPos = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) => new Promise<void>((resolve) => {
    const t = setTimeout(() => { timers.delete(t); resolve(); }, ms);
    timers.add(t);
  });

  const nextStep = (req: MockRequest): MockStep => {
    if (typeof opts.script === 'function') return opts.script(req);
    if (opts.script && scriptPos < opts.script.length) return opts.script[scriptPos++];
    return 'ok';
  };

  const server = http.createServer((httpReq, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    let counted = true;
    const done = () => { if (counted) { counted = false; inFlight--; } };
    res.on('close', done);

    const chunks: Buffer[] = [];
    httpReq.on('data', (c: Buffer) => chunks.push(c));
    httpReq.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try { body = JSON.parse(raw); } catch { body = undefined; }
      const req: MockRequest = {
        index: arrivals++, receivedAt: Date.now(), method: httpReq.method ?? '', path: (httpReq.url ?? '').split('?')[0],
        headers: httpReq.headers, body, text: '', images: [], imageTypes: [], n: 1,
      };
      requests.push(req);

      const auth = httpReq.headers.authorization;
      if (opts.apiKey !== undefined && auth !== `Bearer ${opts.apiKey}`) {
        const presented = auth?.replace(/^Bearer\s+/i, '') ?? '';
        return send(res, 401, apiError(`Incorrect API key provided: ${presented || '(none)'}.`, 'invalid_request_error', 'invalid_api_key'));
      }
      req.invalid = inspect(req, opts);
      if (req.invalid) return send(res, 400, apiError(req.invalid, 'invalid_request_error'));
      if (opts.model !== undefined && req.model !== opts.model) {
        return send(res, 404, apiError(`The model \`${req.model}\` does not exist`, 'invalid_request_error', 'model_not_found'));
      }

      const step = nextStep(req);
      req.step = step;
      if (opts.latencyMs) await wait(opts.latencyMs);
      if (res.destroyed) return;
      if (typeof step === 'object') return send(res, step.status, step.body ?? '', step.headers);
      switch (step) {
        case 'hang': return; // the client's timeout (or close()) ends it
        case 'drop': return void httpReq.socket.destroy();
        case '429': return send(res, 429, apiError('Rate limit reached', 'requests', 'rate_limit_exceeded'), { 'retry-after': opts.retryAfter ?? '0' });
        case '500': return send(res, 500, apiError('The server had an error while processing your request.', 'server_error'));
        case '503': return send(res, 503, apiError('The engine is currently overloaded.', 'server_error'));
        case '401': return send(res, 401, apiError('Invalid authentication.', 'invalid_request_error', 'invalid_api_key'));
        case '400': return send(res, 400, apiError('Invalid request.', 'invalid_request_error'));
        case 'garbage': return send(res, 200, '<html>502 Bad Gateway</html> not json {');
        case 'garbage-json': return send(res, 200, { id: 'x', object: 'chat.completion', model: req.model });
        case 'empty':
        case 'ok': {
          const choices = Array.from({ length: req.n }, (_, i) => ({
            index: i,
            message: { role: 'assistant', content: step === 'empty' ? '' : respond(req, i) },
            finish_reason: 'stop',
          }));
          const completion = choices.reduce((a, c) => a + c.message.content.split(/\s+/).filter(Boolean).length, 0);
          const prompt = req.text.split(/\s+/).filter(Boolean).length + 85 * req.images.length;
          return send(res, 200, {
            id: `chatcmpl-mock-${req.index}`, object: 'chat.completion', created: Math.floor(req.receivedAt / 1000), model: req.model,
            choices, usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
          });
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    get inFlight() { return inFlight; },
    get maxInFlight() { return maxInFlight; },
    reset() { requests.length = 0; maxInFlight = inFlight; },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections(); // hanging requests and keep-alive sockets
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
