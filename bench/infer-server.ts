// The benchmark's server process: the real platform on a fresh SQLite home, the bundle deployed as `small`, and
// next to it the loopback floor: a bare node:http server in the same process that reads the body and answers a tiny
// JSON (what any Node HTTP answer costs with the same client, body and sockets).
// Prints one JSON line {url, floorUrl, key} when ready. Configuration from the environment (e.g. RIL_KEY_CACHE_MS).
// Usage: node --import tsx bench/infer-server.ts <bundle.tar.gz>
//        node --import tsx bench/infer-server.ts <bundle.tar.gz> --spans <image.png> <question> <n>
//   --spans: times each step of one POST /v1/infer separately, in this process, n times each, and prints
//   {step: {p50, p99}} (ms) as one JSON line: the breakdown of the endpoint's overhead in docs/benchmarks.md.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { loadEnv } from '../api/_lib/env.js';
import { createPlatform, listen } from '../api/_lib/http/server.js';
import { authenticate, createApiKey, KeyCache } from '../api/_lib/auth/keys.js';
import { RateLimiter } from '../api/_lib/auth/rateLimit.js';
import { registerArtifact } from '../api/_lib/deployments/service.js';
import { inferResponse } from '../api/_lib/http/infer.js';
import { assertStorableJson } from '../api/_lib/http/storableText.js';
import { decodeImageInput } from '../api/_lib/inference/input.js';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';
import { promptOf } from '../api/_lib/inference/service.js';
import { createLogger, routeOf } from '../api/_lib/log.js';
import { destination } from 'pino';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bench-'));
const platform = await createPlatform(loadEnv({ ...process.env, RIL_HOME: home, DATABASE_URL: undefined, RIL_INFER_RATE_LIMIT: '0' }));
const sha = await platform.blobs.put(fs.readFileSync(process.argv[2]), 'application/gzip');
const art = await registerArtifact(platform, { blobSha256: sha, kind: 'BUNDLE', name: 'bench' });
await platform.deployments.deploy({ name: 'small', artifactId: art.id });
const key = (await createApiKey(platform.db.prisma, 'bench', 'INFERENCE')).secret;
const cleanup = async () => { await platform.close(); fs.rmSync(home, { recursive: true, force: true }); };

if (process.argv[3] === '--spans') {
  const [png, question, n] = [fs.readFileSync(process.argv[4]), process.argv[5], Number(process.argv[6] ?? 200)];
  const text = JSON.stringify({ deployment: 'small', image: png.toString('base64'), question, max_tokens: 16 });
  const spans: Record<string, number[]> = {};
  const time = async <T>(name: string, fn: () => T | Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await fn();
    (spans[name] ??= []).push(performance.now() - t);
    return out;
  };
  const limiter = new RateLimiter(platform.db, 1e9, 1e9); // on, never refusing: the cost of the database draw
  const cache = new KeyCache(platform.db.prisma, 60_000);
  const log = createLogger(destination({ dest: '/dev/null', sync: true }));
  for (let i = 0; i < n + 5; i++) {
    await time('read body: JSON.parse + storable-text check', () => { const b = JSON.parse(Buffer.from(text).toString('utf8')); assertStorableJson(b, 'the request body'); return b; });
    await time('auth: key lookup (database)', () => authenticate(platform.db.prisma, `Bearer ${key}`));
    await time('auth: key cache hit (RIL_KEY_CACHE_MS > 0)', () => cache.authenticate(`Bearer ${key}`));
    await time('rate limiter draw (database; off in this bench)', () => limiter.take('bench'));
    await time('request id + URL parse + route', () => { crypto.randomUUID(); return routeOf(new URL('/v1/infer', 'http://localhost')); });
    const resolved = await time('resolve deployment (cached live revision)', () => platform.inference.resolve('small'));
    if (resolved.runtime.family !== 'builtin') throw new Error('this bench breaks down a built-in student\'s request');
    const runtime = resolved.runtime;
    const bytes = await time('base64 decode', () => decodeImageInput(png.toString('base64'), 'image'));
    await time('preprocess, sharp (RIL_INFER_FAST_PNG=0)', () => preprocessImage(bytes, runtime.manifest.preprocessing, { fastPng: false }));
    const pixels = await time('preprocess, PNG fast path (default)', () => preprocessImage(bytes, runtime.manifest.preprocessing));
    const { promptIds } = await time('prompt (tokenize)', () => promptOf(runtime, question, 16));
    const turn = await time('admission gate', () => platform.inference.gate.acquire());
    const g = await time('generate (16 tokens max)', () => runtime.generate({ pixelValues: pixels, promptIds, maxTokens: 16, sampling: { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 } }));
    turn();
    resolved.release();
    const answer = await time('decode answer', () => runtime.tokenizer.decode(g.tokenIds));
    await time('metrics (inferred + observeHttp)', () => { platform.metrics.inferred('small', 'ok', 0.005, 1000, 1); platform.metrics.observeHttp('/v1/infer', 'POST', 200, false, 0.01); });
    await time('request log line (pino, synchronous write)', () => log.info({ msg: 'request', requestId: crypto.randomUUID(), method: 'POST', route: '/v1/infer', path: '/v1/infer', role: 'INFERENCE', status: 200, durationMs: 12.3 }));
    await time('response JSON.stringify', () => JSON.stringify(inferResponse({ deployment: 'small', revision: 1, answer, tokenIds: g.tokenIds, tokens: g.tokenIds.length, promptTokens: promptIds.length, finishReason: g.finishReason, timings: { preprocessMs: 1, ttftMs: 2, decodeTokensPerSecond: 1000, totalMs: 5 } })));
    await time('whole service call (InferenceService.infer)', () => platform.inference.infer({ deployment: 'small', question, image: bytes, maxTokens: 16 }));
    if (i === 4) for (const k of Object.keys(spans)) spans[k] = []; // warm-up
  }
  const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
  process.stdout.write(JSON.stringify(Object.fromEntries(Object.entries(spans).map(([k, v]) => [k, { p50: q(v, 0.5), p99: q(v, 0.99) }]))) + '\n');
  await cleanup();
  process.exit(0);
}

const server = await listen(platform, 0);
server.server.keepAliveTimeout = 120_000; // the load process pauses while PyTorch runs; keep its sockets
const floor = http.createServer((req, res) => {
  req.resume(); // read (and drop) the same body the endpoint gets
  req.on('end', () => {
    const text = JSON.stringify({ ok: true });
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
floor.keepAliveTimeout = 120_000;
await new Promise<void>((resolve) => floor.listen(0, '127.0.0.1', resolve));
const floorUrl = `http://127.0.0.1:${(floor.address() as { port: number }).port}`;
process.stdout.write(JSON.stringify({ url: server.url, floorUrl, key, bundleSha: sha, id: crypto.randomUUID() }) + '\n');
process.on('SIGTERM', async () => { floor.closeAllConnections(); floor.close(); await server.close(); await cleanup(); process.exit(0); });
