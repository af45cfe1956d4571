// Greedy decoding of a RIL student bundle with onnxruntime-node: the parity check of the export.
//
//   node functions/trainer/tools/onnx_greedy.mjs --bundle DIR --cases cases.json
//
// cases.json: {"cases": [{"pixel_values": [C*S*S floats, already preprocessed, CHW],
//                         "input_ids": [prompt ids], "max_new_tokens": n}, ...]}
// stdout:     {"results": [{"tokens": [...], "logprobs": [...]}], "ms_per_token": x}
//
// Batch 1, no padding. The loop is deliberately plain; the serving runtime (TypeScript) follows
// the same steps, which are also spelled out in manifest.json ("generation").
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

const results = [];
let tokensTotal = 0;
const t0 = performance.now();
for (const c of cases) {
  const ids = c.input_ids;
  let out = await prefill.run({
    pixel_values: new ort.Tensor('float32', Float32Array.from(c.pixel_values), [1, cfg.channels, cfg.image_size, cfg.image_size]),
    input_ids: int64(ids, [1, ids.length]),
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
    pastNames.forEach((name, i) => { feeds[name] = out[presentNames[i]]; });
    out = await decode.run(feeds);
    position += 1;
  }
  tokensTotal += tokens.length;
  results.push({ tokens, logprobs });
}
const ms = performance.now() - t0;
process.stdout.write(JSON.stringify({ results, ms_per_token: tokensTotal ? ms / tokensTotal : null }) + '\n');
