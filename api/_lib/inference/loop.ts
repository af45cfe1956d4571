// The built-in family's decode loop for one request (batch of one), written against the onnxruntime API that
// onnxruntime-node and onnxruntime-web share (InferenceSession.run, Tensor): the server's StudentRuntime runs it
// on onnxruntime-node, the dashboard's on-device runner (clients/web/src/ondevice/) on onnxruntime-web, so a greedy
// answer in the browser is the server's token for token. No Node-only import here: the browser bundle includes it.
//
// prefill(pixel_values, input_ids[, attention_mask]) -> logits + present.*; then choose a token, feed
// decode(token, position, past.* = present.*[, attention_mask]) until <eos> or the step budget.
import type { GenerateRequest, GenerateResult } from './generation.js';
import { Sampler } from './sampler.js';
import type { StudentTokenizer } from './tokenizer.js';

/** The part of an onnxruntime Tensor the loop reads. */
export interface LoopTensor { readonly data: unknown }
/** The part of an onnxruntime InferenceSession the loop calls (either package's fits). */
export interface LoopSession<T extends LoopTensor> {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, T>): Promise<Record<string, T>>;
}
/** The package's Tensor constructor, as a function (each package has its own class). */
export type MakeTensor<T> = {
  (type: 'int64', data: BigInt64Array, dims: number[]): T;
  (type: 'float32', data: Float32Array, dims: number[]): T;
};

/** What the loop needs of the bundle manifest (format 1 or 2 of the built-in family). */
export interface LoopManifest {
  n_image_tokens: number;
  model_config: { vocab_size: number };
  kv_cache: { input_names: string[]; output_names: string[] };
}

export interface LoopModel<T extends LoopTensor> {
  prefill: LoopSession<T>;
  decode: LoopSession<T>;
  tensor: MakeTensor<T>;
  manifest: LoopManifest;
  tokenizer: StudentTokenizer;
  /** [channels, height, width] of pixel_values. */
  imageShape: readonly [number, number, number];
}

/** One request through the two sessions: `steps` is the most tokens it may generate (the caller checked the budget). */
export async function generateOne<T extends LoopTensor>(model: LoopModel<T>, req: GenerateRequest, steps: number): Promise<GenerateResult> {
  const { prefill, decode, tensor, manifest: m, tokenizer } = model;
  const [c, h, w] = model.imageShape;
  // format 2 takes attention_mask in both graphs (every slot real here); format 1 has none
  const prefillMasked = prefill.inputNames.includes('attention_mask');
  const decodeMasked = decode.inputNames.includes('attention_mask');
  const int64 = (values: readonly number[], dims: number[]) => tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims);
  const ones = (n: number) => tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
  const sampler = new Sampler(req.sampling, m.model_config.vocab_size, req.promptIds, (id) => tokenizer.isText(id));
  const decodeText = req.onToken ? tokenizer.streamDecoder() : undefined;
  const pastNames = m.kv_cache.input_names;
  const presentNames = m.kv_cache.output_names;
  const eos = tokenizer.eosId;

  const t0 = performance.now();
  let out = await prefill.run({
    pixel_values: tensor('float32', req.pixelValues, [1, c, h, w]),
    input_ids: int64(req.promptIds, [1, req.promptIds.length]),
    ...(prefillMasked ? { attention_mask: ones(m.n_image_tokens + req.promptIds.length) } : {}),
  });
  let position = m.n_image_tokens + req.promptIds.length;
  const tokens: number[] = [];
  let firstTokenMs = 0;
  let finishReason: GenerateResult['finishReason'] = 'length';
  for (let t = 0; t < steps; t++) {
    const token = sampler.next(out.logits.data as Float32Array);
    tokens.push(token);
    if (t === 0) firstTokenMs = performance.now() - t0;
    if (token === eos) { finishReason = 'stop'; break; }
    req.onToken?.(token, decodeText!(token));
    if (t === steps - 1) break;
    if (req.signal?.aborted) { finishReason = 'cancelled'; break; }
    const feeds: Record<string, T> = { input_ids: int64([token], [1, 1]), position_ids: int64([position], [1, 1]) };
    if (decodeMasked) feeds.attention_mask = ones(position + 1);
    for (let i = 0; i < pastNames.length; i++) feeds[pastNames[i]] = out[presentNames[i]];
    out = await decode.run(feeds);
    position += 1;
  }
  return { tokenIds: tokens, finishReason, firstTokenMs, decodeMs: performance.now() - t0 - firstTokenMs, batchSize: 1 };
}
