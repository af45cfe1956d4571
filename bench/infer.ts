// `npm run bench:infer`: the student endpoint on `small`: its overhead, a concurrency sweep, and PyTorch eager.
//
// 1. A `small` bundle made by the trainer (test/helpers/bundle.ts) with its weights as initialised (one step at
//    lr 1e-7): speed does not depend on the weights, and greedy answers then run to the token budget, so every
//    request decodes its max_tokens.
// 2. Four server processes (bench/infer-server.ts), the same platform and bundle: before issue 15's cuts
//    (RIL_KEY_CACHE_MS=0: a database read of the key per request; RIL_INFER_FAST_PNG=0: sharp for every image;
//    RIL_INFER_BATCH=0), the key cache alone (unbatched), the defaults (batched decoding on; the per-token table and
//    the PyTorch comparison use this one) and the defaults with RIL_INFER_BATCH=0 (batching off); each also runs the
//    loopback floor (a bare node:http server answering a tiny JSON). Load from this process with plain fetch.
// 3. Overhead: per round, one request to the floor, one to each endpoint and one raw session loop
//    (StudentRuntime.generate in this process, no HTTP, no preprocessing), interleaved so all four see the same
//    machine; overhead = endpoint - raw loop at p50 and p99, next to the floor. Then the per-step breakdown
//    (bench/infer-server.ts --spans).
// 4. Concurrency sweep: 1, 2, 4, 8, 16 clients, N requests each (16-token answers): requests/s, tokens/s, p50/p99
//    latency, one column set per server configuration (SWEEP below: before, batching off, batching on), measured
//    in slices that take turns configuration by configuration for each client count, and the ratio batching on / off.
// 5. PyTorch eager: the trainer's own generate() (test/helpers/torch_greedy.py --bench), same examples,
//    same thread count (RIL_INFER_THREADS, default 1); BENCH_TORCH=0 skips it.
// Prints markdown tables. Env: BENCH_N (requests per measurement, default 60).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { loadEnv } from '../api/_lib/env.js';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';
import { StudentRuntime } from '../api/_lib/inference/runtime.js';
import { studentBundle } from '../test/helpers/bundle.js';

const N = Number(process.env.BENCH_N ?? 60);
const TORCH = process.env.BENCH_TORCH !== '0';
const THREADS = Number(process.env.RIL_INFER_THREADS ?? 1);
const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
const f = (x: number | null | undefined, d = 2) => (x == null || Number.isNaN(x) ? "-" : x.toFixed(d));

const loadAtStart = os.loadavg();
const fx = await studentBundle({ size: 'small', steps: 1, lr: 1e-7, examples: 300, parity: 16, maxNewTokens: 32 });
const examples = fx.torch.map((e) => ({ ...e, png: fs.readFileSync(path.join(fx.data, e.image)) }));

// ---- server processes: the key cache off (the default) and on
const archive = path.join(path.dirname(fx.bundleDir), 'bundle.tar.gz');
function startServer(env: Record<string, string>, args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'infer-server.ts'), archive, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RIL_INFER_THREADS: String(THREADS), ...env } });
  const first = new Promise<string>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench/infer-server.ts ${args.join(' ')} exited with ${code}`)));
  });
  return { child, first };
}
const servers = await Promise.all(([
  { RIL_KEY_CACHE_MS: '0', RIL_INFER_FAST_PNG: '0', RIL_INFER_BATCH: '0' }, // before issue 15's cuts
  { RIL_KEY_CACHE_MS: '1000', RIL_INFER_FAST_PNG: '0', RIL_INFER_BATCH: '0' }, // the key cache alone
  {}, // the defaults: key cache, PNG fast path, batched decoding
  { RIL_INFER_BATCH: '0' }, // the defaults with batching off
] as Record<string, string>[]).map(async (env) => {
  const s = startServer(env);
  const info = JSON.parse(await s.first) as { url: string; floorUrl: string; key: string };
  return { ...info, child: s.child };
}));
const [base, keyOnly, cached, unbatched] = servers;

async function call(i: number, maxTokens: number, srv: { url: string; key: string } = cached, route = '/v1/infer') {
  const ex = examples[i % examples.length];
  const t = performance.now();
  const r = await fetch(`${srv.url}${route}`, {
    method: 'POST', headers: { authorization: `Bearer ${srv.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deployment: 'small', image: ex.png.toString('base64'), question: ex.question, max_tokens: maxTokens }),
  });
  const body = await r.json() as any;
  if (r.status !== 200) throw new Error(JSON.stringify(body));
  return { ms: performance.now() - t, body };
}
const floorCall = (i: number) => call(i, 16, { url: base.floorUrl, key: base.key }, '/');

const rows: string[][] = [];
const results: Record<string, number> = {};
// ---- raw runtime, same bundle, same inputs
const rt = await StudentRuntime.load(fx.bundleDir, { threads: THREADS });
const pixels = await Promise.all(examples.map((e) => preprocessImage(e.png, rt.manifest.preprocessing)));
const preMs: number[] = [];
for (const e of examples) { const t = performance.now(); await preprocessImage(e.png, rt.manifest.preprocessing); preMs.push(performance.now() - t); }

const greedy = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };
const rawCall = async (i: number, maxTokens: number) => {
  const k = i % examples.length;
  const t = performance.now();
  await rt.generate({ pixelValues: pixels[k], promptIds: rt.tokenizer.encodePrompt(examples[k].question), maxTokens, sampling: greedy });
  return performance.now() - t;
};

// ---- overhead: floor, the four endpoints and the raw loop, interleaved request by request (16-token answers; the
// single-client comparison of batching on and off under the same machine load)
const lat: Record<'floor' | 'base' | 'keyOnly' | 'cached' | 'unbatched' | 'raw', number[]> = { floor: [], base: [], keyOnly: [], cached: [], unbatched: [], raw: [] };
for (let i = 0; i < 10; i++) { await floorCall(i); await call(i, 16, base); await call(i, 16, keyOnly); await call(i, 16, cached); await call(i, 16, unbatched); await rawCall(i, 16); } // warm
for (let i = 0; i < N * 2; i++) {
  lat.floor.push((await floorCall(i)).ms);
  lat.base.push((await call(i, 16, base)).ms);
  lat.keyOnly.push((await call(i, 16, keyOnly)).ms);
  lat.cached.push((await call(i, 16, cached)).ms);
  lat.unbatched.push((await call(i, 16, unbatched)).ms);
  lat.raw.push(await rawCall(i, 16));
}

// ---- PyTorch eager
function torchBench(maxTokens: number) {
  const out = execFileSync(fx.python, [path.join('test', 'helpers', 'torch_greedy.py'), '--checkpoint', fx.checkpoint, '--data', fx.data, '--bench',
    '--n', String(examples.length), '--max-new-tokens', String(maxTokens), '--threads', String(THREADS), '--repeats', String(Math.max(1, Math.ceil(N / examples.length)))],
  { env: { ...process.env, PYTHONPATH: path.join('functions', 'trainer') }, maxBuffer: 64 << 20 }).toString();
  return JSON.parse(out) as { latency_ms: number[]; tokens: number[] };
}

for (const maxTokens of [16, 32]) {
  for (let i = 0; i < 5; i++) await call(i, maxTokens); // warm
  const http: number[] = []; const server: number[] = []; const ttft: number[] = []; const tps: number[] = []; const toks: number[] = [];
  for (let i = 0; i < N; i++) {
    const { ms, body } = await call(i, maxTokens);
    http.push(ms); server.push(body.timings.total_ms); ttft.push(body.timings.ttft_ms); if (body.timings.decode_tokens_per_s != null) tps.push(body.timings.decode_tokens_per_s); toks.push(body.tokens);
  }
  const raw: number[] = [];
  for (let i = 0; i < N; i++) {
    const k = i % examples.length;
    const t = performance.now();
    await rt.generate({ pixelValues: pixels[k], promptIds: rt.tokenizer.encodePrompt(examples[k].question), maxTokens, sampling: { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 } });
    raw.push(performance.now() - t);
  }
  const pt = TORCH ? torchBench(maxTokens) : { latency_ms: [NaN], tokens: [NaN] };
  const meanTok = toks.reduce((a, b) => a + b, 0) / toks.length;
  const torchTok = pt.tokens.reduce((a, b) => a + b, 0) / pt.tokens.length;
  results[`ratio${maxTokens}`] = q(pt.latency_ms, 0.5) / q(http, 0.5);
  rows.push([`${maxTokens}`, f(meanTok, 1), f(q(http, 0.5)), f(q(http, 0.95)), f(q(ttft, 0.5)), f(q(tps, 0.5), 0), f(q(raw, 0.5)), f(q(preMs, 0.5), 3),
    f(q(http, 0.5) - q(server, 0.5), 3), f(q(pt.latency_ms, 0.5)), f(q(pt.latency_ms, 0.95)), f(torchTok, 1), `${f(q(pt.latency_ms, 0.5) / q(http, 0.5), 1)}x`,
    `${f(q(pt.latency_ms, 0.5) / q(raw, 0.5), 1)}x`]);
}

// ---- concurrency sweep (16-token answers): one column set per configuration, and batching on / off
const SWEEP = [{ name: 'before', srv: base }, { name: 'batching off', srv: unbatched }, { name: 'batching on (defaults)', srv: cached }];
const CLIENTS = [1, 2, 4, 8, 16];
const sweep = new Map<string, { rps: number; tps: number; p50: number; p99: number }>();
// Each cell's N requests run in ROUNDS slices, the configurations taking turns slice by slice, so a change in the
// machine's load (shared cores) falls on every configuration alike; a cell's req/s = its requests / its own time.
const ROUNDS = 3;
for (const { srv } of SWEEP) { // warm every server under concurrency first (the overhead rounds were one request at a time)
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => { while (next < 48) await call(next++, 16, srv); }));
}
for (const c of CLIENTS) {
  const acc = new Map(SWEEP.map(({ name }) => [name, { ms: [] as number[], tokens: 0, s: 0, n: 0 }]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, srv } of SWEEP) {
      const a = acc.get(name)!;
      const n = Math.ceil(N / ROUNDS);
      let next = 0;
      const t = performance.now();
      await Promise.all(Array.from({ length: c }, async () => {
        while (next < n) { const r = await call(round * n + next++, 16, srv); a.ms.push(r.ms); a.tokens += r.body.tokens; a.n += 1; }
      }));
      a.s += (performance.now() - t) / 1000;
    }
  }
  for (const [name, a] of acc) sweep.set(`${c}/${name}`, { rps: a.n / a.s, tps: a.tokens / a.s, p50: q(a.ms, 0.5), p99: q(a.ms, 0.99) });
}
for (const s of servers) s.child.kill('SIGTERM');

// ---- per-step breakdown, in a fresh server process (nothing else running)
const spans = await (async () => {
  const ex = examples[0];
  const png = path.join(fx.data, fx.torch[0].image);
  const s = startServer({}, ['--spans', png, ex.question, String(Math.max(100, N * 2))]);
  return JSON.parse(await s.first) as Record<string, { p50: number; p99: number }>;
})();

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\n### small, ${THREADS} thread(s), ${os.cpus().length} cores (${cpu}), node ${process.version}, N=${N} per row\n`);
console.log('| answer tokens (max) | mean tokens | endpoint p50 ms | endpoint p95 ms | TTFT p50 ms | decode tok/s p50 | raw session loop p50 ms | preprocess p50 ms | HTTP overhead p50 ms | PyTorch eager p50 ms | PyTorch p95 ms | PyTorch mean tokens | PyTorch / endpoint | PyTorch / raw loop |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

const o = (xs: number[]) => [q(xs, 0.5), q(xs, 0.99)];
const [rawP50, rawP99] = o(lat.raw);
console.log(`\n### Overhead, 16-token answers, ${N * 2} interleaved rounds (floor, the four endpoints, raw loop)\n`);
console.log('| | p50 ms | p99 ms | overhead over the raw loop p50 ms | overhead p99 ms |');
console.log('|---|---|---|---|---|');
console.log(`| loopback floor (bare node:http, same client and body) | ${f(q(lat.floor, 0.5), 3)} | ${f(q(lat.floor, 0.99), 3)} | | |`);
console.log(`| raw session loop (generate only) | ${f(rawP50, 3)} | ${f(rawP99, 3)} | | |`);
for (const [label, xs] of [['endpoint before (RIL_KEY_CACHE_MS=0 RIL_INFER_FAST_PNG=0)', lat.base], ['endpoint, key cache on (RIL_KEY_CACHE_MS=1000 RIL_INFER_FAST_PNG=0)', lat.keyOnly],
  ['endpoint, key cache + PNG fast path, batching off (RIL_INFER_BATCH=0)', lat.unbatched], ['endpoint, key cache + PNG fast path + batching (the defaults)', lat.cached]] as const) {
  const [p50, p99] = o(xs);
  console.log(`| ${label} | ${f(p50, 3)} | ${f(p99, 3)} | ${f(p50 - rawP50, 3)} | ${f(p99 - rawP99, 3)} |`);
}
console.log('\nOverhead = endpoint - raw session loop (each quantile of its own distribution): preprocessing, HTTP, JSON, auth, logging, metrics.');

console.log('\n### Where the overhead goes: each step of one request alone, in the server process (ms)\n');
console.log('| step | p50 | p99 |');
console.log('|---|---|---|');
for (const [k, v] of Object.entries(spans)) console.log(`| ${k} | ${f(v.p50, 3)} | ${f(v.p99, 3)} |`);

console.log(`\n### Concurrency sweep, 16-token answers, ${N} requests per cell in ${ROUNDS} interleaved slices\n`);
console.log(`| clients | ${SWEEP.map((c) => `${c.name}: req/s | tok/s | p50 ms | p99 ms`).join(' | ')} | on / off: req/s | p50 |`);
console.log(`|---|${SWEEP.map(() => '---|---|---|---|').join('')}---|---|`);
for (const c of CLIENTS) {
  const [on, off] = [sweep.get(`${c}/batching on (defaults)`)!, sweep.get(`${c}/batching off`)!];
  console.log(`| ${c} | ${SWEEP.map(({ name }) => { const r = sweep.get(`${c}/${name}`)!; return `${f(r.rps, 0)} | ${f(r.tps, 0)} | ${f(r.p50)} | ${f(r.p99)}`; }).join(' | ')} | ${f(on.rps / off.rps)}x | ${f(on.p50 / off.p50)}x |`);
}
const defaults = loadEnv(process.env); // what the servers see, less their own overrides
console.log(`\nbatching on: RIL_INFER_BATCH_WAIT_MS=${defaults.RIL_INFER_BATCH_WAIT_MS} RIL_INFER_BATCH_MAX=${defaults.RIL_INFER_BATCH_MAX}; RIL_INFER_CONCURRENCY=${defaults.RIL_INFER_CONCURRENCY} in every server`);
console.log(`load average at the start: ${loadAtStart.map((x) => x.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`);
