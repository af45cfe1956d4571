// `npm run bench:infer`: the student endpoint on `small` against PyTorch eager on the CPU.
//
// 1. A `small` bundle made by the trainer (test/helpers/bundle.ts; barely trained: speed does not depend on
//    the weights, and greedy answers then run to the token budget).
// 2. The server in a second Node process (bench/infer-server.ts); load from this process with plain fetch.
//    Answers of 16 and 32 tokens: p50/p95 latency (client side), time to first token, decode tokens/s;
//    requests/s with 4 and 8 concurrent clients.
// 3. The raw session loop (StudentRuntime.generate, no HTTP, no preprocessing) in this process, same inputs.
// 4. PyTorch eager: the trainer's own generate() (test/helpers/torch_greedy.py --bench), same examples,
//    same thread count (RIL_INFER_THREADS, default 1).
// Prints a markdown table. Env: BENCH_N (requests per measurement, default 40).
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';
import { StudentRuntime } from '../api/_lib/inference/runtime.js';
import { studentBundle } from '../test/helpers/bundle.js';

const N = Number(process.env.BENCH_N ?? 40);
const THREADS = Number(process.env.RIL_INFER_THREADS ?? 1);
const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
const f = (x: number, d = 2) => x.toFixed(d);

const fx = await studentBundle({ size: 'small', steps: 2, examples: 300, parity: 16, maxNewTokens: 32 });
const examples = fx.torch.map((e) => ({ ...e, png: fs.readFileSync(path.join(fx.data, e.image)) }));

// ---- server process
const child = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'infer-server.ts'), path.join(path.dirname(fx.bundleDir), 'bundle.tar.gz')],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RIL_INFER_THREADS: String(THREADS) } });
const { url, key } = JSON.parse(await new Promise<string>((resolve) => readline.createInterface({ input: child.stdout! }).once('line', resolve)));

async function call(i: number, maxTokens: number) {
  const ex = examples[i % examples.length];
  const t = performance.now();
  const r = await fetch(`${url}/v1/infer`, {
    method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deployment: 'small', image: ex.png.toString('base64'), question: ex.question, max_tokens: maxTokens }),
  });
  const body = await r.json() as any;
  if (r.status !== 200) throw new Error(JSON.stringify(body));
  return { ms: performance.now() - t, body };
}

const rows: string[][] = [];
const results: Record<string, number> = {};
// ---- raw runtime, same bundle, same inputs
const rt = await StudentRuntime.load(fx.bundleDir, { threads: THREADS });
const pixels = await Promise.all(examples.map((e) => preprocessImage(e.png, rt.manifest.preprocessing)));
const preMs: number[] = [];
for (const e of examples) { const t = performance.now(); await preprocessImage(e.png, rt.manifest.preprocessing); preMs.push(performance.now() - t); }

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
    http.push(ms); server.push(body.timings.total_ms); ttft.push(body.timings.ttft_ms); tps.push(body.timings.decode_tokens_per_s); toks.push(body.tokens);
  }
  const raw: number[] = [];
  for (let i = 0; i < N; i++) {
    const k = i % examples.length;
    const t = performance.now();
    await rt.generate({ pixelValues: pixels[k], promptIds: rt.tokenizer.encodePrompt(examples[k].question), maxTokens, sampling: { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 } });
    raw.push(performance.now() - t);
  }
  const pt = torchBench(maxTokens);
  const meanTok = toks.reduce((a, b) => a + b, 0) / toks.length;
  const torchTok = pt.tokens.reduce((a, b) => a + b, 0) / pt.tokens.length;
  results[`ratio${maxTokens}`] = q(pt.latency_ms, 0.5) / q(http, 0.5);
  rows.push([`${maxTokens}`, f(meanTok, 1), f(q(http, 0.5)), f(q(http, 0.95)), f(q(ttft, 0.5)), f(q(tps, 0.5), 0), f(q(raw, 0.5)), f(q(preMs, 0.5), 3),
    f(q(http, 0.5) - q(server, 0.5), 3), f(q(pt.latency_ms, 0.5)), f(q(pt.latency_ms, 0.95)), f(torchTok, 1), `${f(q(pt.latency_ms, 0.5) / q(http, 0.5), 1)}x`,
    `${f(q(pt.latency_ms, 0.5) / q(raw, 0.5), 1)}x`]);
}

// ---- throughput under concurrency (16-token answers)
const conc: string[] = [];
for (const c of [1, 4, 8]) {
  let next = 0;
  const total = N * 2;
  const t = performance.now();
  await Promise.all(Array.from({ length: c }, async () => { while (next < total) await call(next++, 16); }));
  conc.push(`${c}: ${f(total / ((performance.now() - t) / 1000), 0)} req/s`);
}
child.kill('SIGTERM');

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\n### small, ${THREADS} thread(s), ${os.cpus().length} cores (${cpu}), node ${process.version}, N=${N} per row\n`);
console.log('| answer tokens (max) | mean tokens | endpoint p50 ms | endpoint p95 ms | TTFT p50 ms | decode tok/s p50 | raw session loop p50 ms | preprocess p50 ms | HTTP overhead p50 ms | PyTorch eager p50 ms | PyTorch p95 ms | PyTorch mean tokens | PyTorch / endpoint | PyTorch / raw loop |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
console.log(`\nThroughput, 16-token answers, concurrent clients -> ${conc.join('; ')}`);
console.log('HTTP overhead = client-measured latency minus the server\'s own total_ms (parse, auth, JSON, loopback); endpoint p50 - raw loop p50 - preprocess is the whole service overhead.');
