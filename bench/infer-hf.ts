// `npm run bench:infer:hf` (and the second half of `npm run bench:infer`): Hugging Face students on the endpoint
// (issue 14), every family and variant, against PyTorch eager on the same model, images, questions and tokens.
//
// 1. Models (test/helpers/hfBundle.ts, cached under os.tmpdir()): per family (SmolVLM/Idefics3, Qwen2-VL) the tests'
//    tiny random shape (width 64, 2 layers: overhead-dominated) and a larger random one (SHAPES below: width 384,
//    6 layers, vision width 192), each exported by `ril_trainer export --hf-model` with all four variants (fp32,
//    int8, q4, fp16) and its parity check. Random weights: speed does not depend on them, and greedy answers rarely
//    meet eos, so requests run to max_tokens (the tables show tokens per request to check it).
// 2. One server process (bench/infer-hf-server.ts): every model x variant deployed under its own name
//    (`<family>-<shape>-<variant>`), all loaded at once; a variant whose deploy is refused is reported, not measured. The load comes from this process with plain fetch:
//    POST /v1/infer, greedy (temperature 0), max_tokens BENCH_MAX_TOKENS.
// 3. PyTorch eager (functions/trainer/bench/hf_eager_infer.py, one long-lived process per model): transformers'
//    model.generate, greedy, the same save_pretrained model the bundle was exported from, the same images,
//    questions and max_new_tokens, the same thread count (RIL_INFER_THREADS, default 1, as the server's
//    onnxruntime sessions). It times the image read + processor + generate, as the endpoint's total covers image
//    decode + processor + generate.
// 4. Per model, BENCH_N rounds, each one request to each variant and one to PyTorch, in turn (A, B, C, D, E, A, ...):
//    a change of machine load falls on every side alike. Example k = round k mod the fixture's references.
// Prints markdown tables: latency p50/p95 (client-measured), the server's own total, TTFT p50 (timings.ttft_ms:
// image decode + processor + prefill + first token), decode tokens/s p50 (timings.decode_tokens_per_s), tokens per
// request, answers identical to PyTorch's, and endpoint p50 / PyTorch p50.
// Env: BENCH_N (rounds, default 30), BENCH_MAX_TOKENS (default 32), BENCH_HF=0 (skip), BENCH_HF_SHAPES (default
// tiny,bench), RIL_HF_PYTHON (required: the torch 2.x environment).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { TRAINER_DIR } from '../api/_lib/jobs/python.js';
import { hfSkipReason, hfStudentBundle, type HfBundleFixture, type HfFamily } from '../test/helpers/hfBundle.js';

if (process.env.BENCH_HF === '0') {
  console.log('BENCH_HF=0: the Hugging Face part of the inference bench is skipped.');
  process.exit(0);
}
if (hfSkipReason()) {
  console.error(`bench/infer-hf.ts: cannot bench the Hugging Face students: ${hfSkipReason()}.\n`
    + 'Set RIL_HF_PYTHON to that python, or BENCH_HF=0 to skip this part (npm run bench:infer then runs the built-in bench only).');
  process.exit(2);
}

const N = Number(process.env.BENCH_N ?? 30);
const MAX_TOKENS = Number(process.env.BENCH_MAX_TOKENS ?? 32);
const THREADS = Number(process.env.RIL_INFER_THREADS ?? 1);
const VARIANTS = ['fp32', 'int8', 'q4', 'fp16'] as const;
const FAMILIES: HfFamily[] = ['smolvlm', 'qwen2vl'];
// the larger shape: decode time matters, export + bench stay within minutes on 2 cores. Head dim 64 on both sides;
// Qwen2-VL's merger outputs the text width (vision hidden_size) and its M-RoPE sections sum to head_dim / 2.
const TEXT = { hidden_size: 384, intermediate_size: 1536, num_hidden_layers: 6, num_attention_heads: 6, num_key_value_heads: 2 };
const SHAPES: Record<string, Record<HfFamily, { text?: Record<string, unknown>; vision?: Record<string, unknown> }>> = {
  tiny: { smolvlm: {}, qwen2vl: {} },
  bench: {
    smolvlm: { text: TEXT, vision: { hidden_size: 192, intermediate_size: 768, num_hidden_layers: 2, num_attention_heads: 3 } },
    qwen2vl: {
      text: { ...TEXT, rope_parameters: { rope_type: 'default', mrope_section: [8, 12, 12], rope_theta: 10000.0 } },
      vision: { embed_dim: 192, hidden_size: TEXT.hidden_size, num_heads: 3, depth: 2, mlp_ratio: 4 },
    },
  },
};
const shapes = (process.env.BENCH_HF_SHAPES ?? 'tiny,bench').split(',').map((s) => s.trim()).filter(Boolean);
for (const s of shapes) if (!SHAPES[s]) throw new Error(`BENCH_HF_SHAPES: unknown shape ${s} (tiny, bench)`);

const q = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };
const f = (x: number | null | undefined, d = 1) => (x == null || Number.isNaN(x) ? '-' : x.toFixed(d));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const loadAtStart = os.loadavg();
const started = new Date();

// ---- models: exported with every variant (cached between runs)
interface Model { family: HfFamily; shape: string; fx: HfBundleFixture; archive: string; params: string }
const models: Model[] = [];
for (const shape of shapes) {
  for (const family of FAMILIES) {
    const t = performance.now();
    const fx = await hfStudentBundle(family, { ...SHAPES[shape][family], variants: VARIANTS.join(','), maxNewTokens: MAX_TOKENS, parity: 10, keepModel: true });
    const bytes = fs.statSync(path.join(fx.model!, 'model.safetensors')).size;
    console.error(`${family} ${shape}: bundle ready in ${((performance.now() - t) / 1000).toFixed(0)} s (${fx.bundleDir})`);
    models.push({ family, shape, fx, archive: path.join(path.dirname(fx.bundleDir), 'bundle.tar.gz'), params: `${(bytes / 4 / 1e6).toFixed(1)}M` });
  }
}
const examples = (m: Model) => m.fx.refs.map((r) => ({ ...r, path: path.join(m.fx.data, r.image), b64: fs.readFileSync(path.join(m.fx.data, r.image)).toString('base64') }));

// ---- the server: every model x variant under its own name
const name = (m: Model, v: string) => `${m.family}-${m.shape}-${v}`;
const server = spawn(process.execPath, ['--import', 'tsx', path.join('bench', 'infer-hf-server.ts'),
  JSON.stringify(models.flatMap((m) => VARIANTS.map((v) => ({ name: name(m, v), archive: m.archive, variant: v }))))],
{ stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RIL_INFER_THREADS: String(THREADS) } });
const srv = JSON.parse(await new Promise<string>((resolve, reject) => {
  readline.createInterface({ input: server.stdout! }).once('line', resolve);
  server.once('exit', (code) => reject(new Error(`bench/infer-hf-server.ts exited with ${code}`)));
})) as { url: string; key: string; home: string; failed: Record<string, string> };
for (const [n, why] of Object.entries(srv.failed)) console.error(`${n}: not served (the deploy was refused): ${why}`);

interface Sample { ms: number; total: number; ttft: number; tps: number | null; tokens: number[]; finish: string }
async function endpoint(deployment: string, ex: { b64: string; question: string }): Promise<Sample> {
  const t = performance.now();
  const r = await fetch(`${srv.url}/v1/infer`, {
    method: 'POST', headers: { authorization: `Bearer ${srv.key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ deployment, image: ex.b64, question: ex.question, max_tokens: MAX_TOKENS, temperature: 0 }),
  });
  const body = await r.json() as any;
  const ms = performance.now() - t;
  if (r.status !== 200) throw new Error(`${deployment}: ${r.status} ${JSON.stringify(body)}`);
  return { ms, total: body.timings.total_ms, ttft: body.timings.ttft_ms, tps: body.timings.decode_tokens_per_s, tokens: body.token_ids, finish: body.finish_reason };
}

// ---- PyTorch eager, one long-lived process per model
function startTorch(model: string) {
  const child = spawn(process.env.RIL_HF_PYTHON!, [path.join('bench', 'hf_eager_infer.py'), '--model', model, '--threads', String(THREADS)],
    { cwd: TRAINER_DIR, env: { ...process.env, PYTHONPATH: TRAINER_DIR, HF_HUB_OFFLINE: '1', TRANSFORMERS_VERBOSITY: 'error' }, stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout });
  const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];
  lines.on('line', (line) => waiting.shift()?.resolve(line));
  child.once('exit', (code) => { for (const w of waiting.splice(0)) w.reject(new Error(`hf_eager_infer.py exited with ${code}`)); });
  const next = () => new Promise<string>((resolve, reject) => { waiting.push({ resolve, reject }); });
  const ready = next().then((l) => JSON.parse(l) as { torch: string; threads: number });
  const ask = async (ex: { path: string; question: string }): Promise<Sample> => {
    const line = next();
    child.stdin.write(JSON.stringify({ image: ex.path, question: ex.question, max_new_tokens: MAX_TOKENS }) + '\n');
    const r = JSON.parse(await line) as { ms: number; ttft_ms: number; decode_tokens_per_s: number | null; tokens: number[] };
    return { ms: r.ms, total: r.ms, ttft: r.ttft_ms, tps: r.decode_tokens_per_s, tokens: r.tokens, finish: '' };
  };
  return { child, ready, ask };
}

// ---- per model: BENCH_N interleaved rounds (every variant, then PyTorch)
type Side = (typeof VARIANTS)[number] | 'torch';
const results = new Map<string, Map<Side, Sample[]>>();
let torchVersion = '';
for (const m of models) {
  const exs = examples(m);
  const torch = startTorch(m.fx.model!);
  torchVersion = (await torch.ready).torch;
  const served = VARIANTS.filter((v) => !srv.failed[name(m, v)]);
  for (let i = 0; i < 3; i++) { for (const v of served) await endpoint(name(m, v), exs[i % exs.length]); await torch.ask(exs[i % exs.length]); } // warm
  const per = new Map<Side, Sample[]>([...VARIANTS, 'torch' as const].map((s) => [s, []]));
  for (let i = 0; i < N; i++) {
    const ex = exs[i % exs.length];
    for (const v of served) per.get(v)!.push(await endpoint(name(m, v), ex));
    per.get('torch')!.push(await torch.ask(ex));
  }
  torch.child.stdin.end();
  await new Promise((resolve) => torch.child.once('exit', resolve));
  results.set(`${m.family}/${m.shape}`, per);
  console.error(`${m.family} ${m.shape}: ${N} rounds done`);
}
server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
fs.rmSync(srv.home, { recursive: true, force: true });

// ---- tables
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`\n### Hugging Face students, ${THREADS} thread(s), ${os.cpus().length} cores (${cpu}), node ${process.version}, PyTorch ${torchVersion}, N=${N} rounds, max_tokens ${MAX_TOKENS}\n`);
console.log('| family | shape (params) | variant | tokens / request | ran to max_tokens | latency p50 ms | latency p95 ms | server total p50 ms | HTTP overhead p50 ms | TTFT p50 ms | decode tok/s p50 | answers = PyTorch | endpoint / PyTorch (p50) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const m of models) {
  const per = results.get(`${m.family}/${m.shape}`)!;
  const pt = per.get('torch')!;
  const ptP50 = q(pt.map((s) => s.ms), 0.5);
  for (const side of [...VARIANTS, 'torch' as const]) {
    const xs = per.get(side)!;
    if (!xs.length) {
      console.log(`| ${m.family} | ${m.shape} (${m.params}) | ${side} | not served: ${(srv.failed[name(m, side)] ?? '?').replace(/\|/g, '/').slice(0, 160)} |||||||||`);
      continue;
    }
    const lat = xs.map((s) => s.ms);
    const same = xs.filter((s, i) => JSON.stringify(s.tokens) === JSON.stringify(pt[i].tokens)).length;
    const full = xs.filter((s) => s.tokens.length === MAX_TOKENS).length;
    const tps = xs.map((s) => s.tps).filter((x): x is number => x != null);
    const isPt = side === 'torch';
    console.log(`| ${m.family} | ${m.shape} (${m.params}) | ${isPt ? 'PyTorch eager (fp32)' : side} | ${f(mean(xs.map((s) => s.tokens.length)))} | ${full}/${xs.length} | ${f(q(lat, 0.5))} | ${f(q(lat, 0.95))} | `
      + `${isPt ? '-' : f(q(xs.map((s) => s.total), 0.5))} | ${isPt ? '-' : f(q(xs.map((s) => s.ms - s.total), 0.5), 2)} | ${f(q(xs.map((s) => s.ttft), 0.5))} | ${f(q(tps, 0.5), 0)} | `
      + `${isPt ? '-' : `${same}/${xs.length}`} | ${isPt ? '1.00' : f(q(lat, 0.5) / ptP50, 2)} |`);
  }
}
console.log(`\nlatency: client-measured per request (HTTP on loopback for the endpoint; PyTorch: image read + processor + generate, measured in its process).`);
console.log(`HTTP overhead = latency - the server's timings.total_ms. TTFT: timings.ttft_ms (image decode + processor + prefill + first token), PyTorch the same span.`);
console.log(`shapes: tiny = the tests' (text 64 wide x 2 layers, vision 32 x 1); bench = text ${TEXT.hidden_size} x ${TEXT.num_hidden_layers} layers (MLP ${TEXT.intermediate_size}), vision ${SHAPES.bench.smolvlm.vision!.hidden_size} x 2; 28 px Fashion-MNIST images at their own size.`);
console.log(`started ${started.toISOString()}; load average at the start: ${loadAtStart.map((x) => x.toFixed(2)).join(', ')}; at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(', ')}`);
