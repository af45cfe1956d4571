// Greedy decoding of a RIL student bundle with onnxruntime-node: the parity check of the export.
//
//   node functions/trainer/tools/onnx_greedy.mjs --bundle DIR --cases cases.json [--batched]
//
// cases.json: {"cases": [{"pixel_values": [C*S*S floats, already preprocessed, CHW],
//                         "input_ids": [prompt ids], "max_new_tokens": n}, ...]}
// stdout:     {"results": [{"tokens": [...], "logprobs": [...]}], "ms_per_token": x}
//
// Batch 1, no padding. The loop is deliberately plain; the serving runtime (TypeScript) follows
// the same steps, which are also spelled out in manifest.json ("generation").
// --batched (format 2 bundles): every case in ONE prefill run (prompts left-padded after the image,
// attention_mask 0 on the padding) and then ONE batch of decode steps (the pasts left-padded to the
// longest row, masked likewise, each row's own position); a row leaves the batch at <eos> or its
// budget. The masked graphs' check.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';

function arg(name) {
  const i = process.argv.indexOf(name);
  if (i < 0 || i + 1 >= process.argv.length) throw new Error(`missing ${name}`);
  return process.argv[i + 1];
}

const bundle = arg('--bundle');
const { cases } = JSON.parse(readFileSync(arg('--cases'), 'utf8'));
const manifest = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8'));
const cfg = manifest.model_config;
const N = manifest.n_image_tokens;
const eos = manifest.tokenizer.eos_id;
const pastNames = manifest.kv_cache.input_names; // past.{i}.key, past.{i}.value, ...
const presentNames = manifest.kv_cache.output_names; // present.{i}.key, ...

const opts = { graphOptimizationLevel: 'all', intraOpNumThreads: 1 };
const prefill = await ort.InferenceSession.create(join(bundle, manifest.graphs.prefill.file), opts);
const decode = await ort.InferenceSession.create(join(bundle, manifest.graphs.decode.file), opts);

// argmax and log_softmax at the argmax (float64 accumulation)
function pick(logits) {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - logits[best]);
  return { token: best, logprob: -Math.log(sum) };
}

const int64 = (values, dims) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);

const masked = decode.inputNames.includes('attention_mask');
const batched = process.argv.includes('--batched');
if (batched && !masked) throw new Error('--batched needs a decode graph with attention_mask (bundle format 2)');
const ones = (n) => int64(new Array(n).fill(1), [1, n]);

const results = [];
let tokensTotal = 0;
const t0 = performance.now();
if (batched) await decodeBatched();
else for (const c of cases) {
  const ids = c.input_ids;
  let out = await prefill.run({
    pixel_values: new ort.Tensor('float32', Float32Array.from(c.pixel_values), [1, cfg.channels, cfg.image_size, cfg.image_size]),
    input_ids: int64(ids, [1, ids.length]),
    ...(masked ? { attention_mask: ones(N + ids.length) } : {}),
  });
  let position = N + ids.length;
  const steps = Math.min(c.max_new_tokens, cfg.max_seq_len - position);
  const tokens = [];
  const logprobs = [];
  for (let t = 0; t < steps; t++) {
    const { token, logprob } = pick(out.logits.data);
    tokens.push(token);
    logprobs.push(logprob);
    if (token === eos || t === steps - 1) break;
    const feeds = { input_ids: int64([token], [1, 1]), position_ids: int64([position], [1, 1]) };
    if (masked) feeds.attention_mask = ones(out[presentNames[0]].dims[2] + 1);
    pastNames.forEach((name, i) => { feeds[name] = out[presentNames[i]]; });
    out = await decode.run(feeds);
    position += 1;
  }
  tokensTotal += tokens.length;
  results.push({ tokens, logprobs });
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ results: results.map((r) => ({ tokens: r.tokens, logprobs: r.logprobs })), ms_per_token: tokensTotal ? ms / tokensTotal : null }) + '\n');

async function decodeBatched() {
  const H = manifest.kv_cache.heads;
  const Dh = manifest.kv_cache.head_dim;
  const rows = [];
  // one prefill for every case: prompts left-padded after the image, the padded slots dropped from each row's past
  const Lmax = Math.max(...cases.map((c) => c.input_ids.length));
  const B0 = cases.length;
  const S = cfg.channels * cfg.image_size * cfg.image_size;
  const pixels = new Float32Array(B0 * S);
  cases.forEach((c, b) => pixels.set(c.pixel_values, b * S));
  const out = await prefill.run({
    pixel_values: new ort.Tensor('float32', pixels, [B0, cfg.channels, cfg.image_size, cfg.image_size]),
    input_ids: int64(cases.flatMap((c) => [...new Array(Lmax - c.input_ids.length).fill(0), ...c.input_ids]), [B0, Lmax]),
    attention_mask: int64(cases.flatMap((c) => [...new Array(N).fill(1), ...new Array(Lmax - c.input_ids.length).fill(0), ...new Array(c.input_ids.length).fill(1)]), [B0, N + Lmax]),
  });
  const W = N + Lmax;
  cases.forEach((c, b) => {
    const len = N + c.input_ids.length;
    const kv = presentNames.map((n) => {
      const src = out[n].data;
      const dst = new Float32Array(H * len * Dh);
      for (let h = 0; h < H; h++) {
        const row = (b * H + h) * W * Dh;
        dst.set(src.subarray(row, row + N * Dh), h * len * Dh); // the image
        dst.set(src.subarray(row + (W - c.input_ids.length) * Dh, row + W * Dh), (h * len + N) * Dh); // the prompt
      }
      return dst;
    });
    const row = { kv, len, position: len, steps: Math.min(c.max_new_tokens, cfg.max_seq_len - len), tokens: [], logprobs: [], done: false };
    rows.push(row);
    results.push(row);
    take(row, out.logits.data.subarray(b * cfg.vocab_size, (b + 1) * cfg.vocab_size));
  });
  function take(row, logits) {
    const { token, logprob } = pick(logits);
    row.tokens.push(token);
    row.logprobs.push(logprob);
    if (token === eos || row.tokens.length >= row.steps) row.done = true;
  }
  for (;;) {
    const active = rows.filter((r) => !r.done);
    if (!active.length) break;
    const B = active.length;
    const P = Math.max(...active.map((r) => r.len));
    const feeds = {
      input_ids: int64(active.map((r) => r.tokens[r.tokens.length - 1]), [B, 1]),
      position_ids: int64(active.map((r) => r.position), [B, 1]),
      attention_mask: int64(active.flatMap((r) => [...new Array(P - r.len).fill(0), ...new Array(r.len + 1).fill(1)]), [B, P + 1]),
    };
    pastNames.forEach((name, i) => {
      const data = new Float32Array(B * H * P * Dh); // zeros on the padding
      active.forEach((r, b) => {
        for (let h = 0; h < H; h++) data.set(r.kv[i].subarray(h * r.len * Dh, (h + 1) * r.len * Dh), ((b * H + h) * P + P - r.len) * Dh);
      });
      feeds[name] = new ort.Tensor('float32', data, [B, H, P, Dh]);
    });
    const out = await decode.run(feeds);
    const V = cfg.vocab_size;
    active.forEach((r, b) => {
      r.kv = presentNames.map((n) => {
        const src = out[n].data;
        const kv = new Float32Array(H * (r.len + 1) * Dh);
        for (let h = 0; h < H; h++) kv.set(src.subarray(((b * H + h) * (P + 1) + P - r.len) * Dh, ((b * H + h) * (P + 1) + P + 1) * Dh), h * (r.len + 1) * Dh);
        return kv;
      });
      r.len += 1;
      r.position += 1;
      take(r, out.logits.data.subarray(b * V, (b + 1) * V));
    });
  }
  for (const r of rows) tokensTotal += r.tokens.length;
}
