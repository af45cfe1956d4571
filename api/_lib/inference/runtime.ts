// One loaded student: the two onnxruntime-node sessions of a bundle, created once, warmed up and shared by
// every request of a deployment revision. Generation follows manifest.json "generation": prefill(image,
// prompt) -> logits + KV cache; then choose a token, feed decode(token, position, past = present) until
// <eos> or the budget. Runs of one session may overlap (onnxruntime sessions are thread-safe), so
// concurrent requests share the sessions without a lock. With batching on (RuntimeOptions.batch) and a bundle of
// format 2, requests go to the runtime's DecodeBatcher (batcher.ts) instead, which runs them together.
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';
import { badInput } from '../errors.js';
import { isHfManifest, loadBundle, type Bundle, type BuiltinManifest } from './bundle.js';
import { DecodeBatcher, type BatchOptions } from './batcher.js';
import { RuntimeHold } from './hold.js';
import { LatencyWindow } from './latency.js';
import { generateOne, type MakeTensor } from './loop.js';
import { loadTokenizer, type StudentTokenizer } from './tokenizer.js';

export interface RuntimeOptions {
  /** onnxruntime intra-op threads per session run (RIL_INFER_THREADS). */
  threads: number;
  /** Batched decoding (RIL_INFER_BATCH, _WAIT_MS, _MAX); null or absent: every request runs its own session loop.
   * A bundle whose decode graph has no attention mask (format 1) is always served unbatched. */
  batch?: BatchOptions | null;
}

import type { GenerateRequest, GenerateResult } from './generation.js';
export type { GenerateRequest, GenerateResult };

export { LatencyWindow } from './latency.js';

const tensorOf = ((type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => new ort.Tensor(type, data as never, dims)) as MakeTensor<ort.Tensor>;

export class StudentRuntime extends RuntimeHold {
  readonly family = 'builtin' as const;
  readonly manifest: BuiltinManifest;
  readonly tokenizer: StudentTokenizer;
  readonly latency = new LatencyWindow();
  /** Batched decoding, when on and the bundle's decode graph takes a mask; else null. */
  readonly batcher: DecodeBatcher | null;
  /** Whether prefill and decode take attention_mask (bundle format 2; format 1 has neither). */
  private readonly prefillMasked: boolean;
  private readonly decodeMasked: boolean;
  private constructor(readonly bundle: Bundle, private readonly prefill: ort.InferenceSession, private readonly decode: ort.InferenceSession, batch: BatchOptions | null) {
    super();
    const m = this.manifest = bundle.manifest as BuiltinManifest;
    // only a file the manifest lists (and loadBundle verified) is read: the spec cannot point elsewhere
    this.tokenizer = loadTokenizer(m.tokenizer, (name) => {
      if (!m.files[name] || path.basename(name) !== name) throw new Error(`tokenizer file ${JSON.stringify(name)} is not a bundle file`);
      return fs.readFileSync(path.join(bundle.dir, name), 'utf8');
    });
    this.prefillMasked = prefill.inputNames.includes('attention_mask');
    this.decodeMasked = decode.inputNames.includes('attention_mask');
    const newSlot = this.manifest.kv_cache.new_slot_names ?? [];
    const batchable = this.prefillMasked && this.decodeMasked && newSlot.length > 0 && newSlot.every((n) => decode.outputNames.includes(n));
    this.batcher = batch && batchable ? new DecodeBatcher(prefill, decode, this.manifest, this.tokenizer, batch, () => this.users) : null;
  }

  /** Verifies the bundle (sha256s), creates both sessions and warms them up. */
  static async load(dir: string, opts: RuntimeOptions): Promise<StudentRuntime> {
    const bundle = loadBundle(dir);
    if (isHfManifest(bundle.manifest)) throw new Error('a Hugging Face bundle is loaded by HfRuntime (./hfRuntime.ts), not StudentRuntime');
    const m = bundle.manifest;
    // enableMemPattern off: onnxruntime plans (and caches) a memory pattern per input shape, and decode sees a new
    // shape at every step (past_len grows; batched, the rows vary too): planning each one cost more than it saved here
    const so: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all', intraOpNumThreads: opts.threads, interOpNumThreads: 1, executionMode: 'sequential', enableMemPattern: false,
    };
    // a load that fails (a graph onnxruntime refuses, a warm-up that throws) releases what it created: the sessions'
    // native memory is invisible to V8, and a deployment whose bundle cannot load is tried again on later requests
    const created = await Promise.allSettled([
      ort.InferenceSession.create(path.join(dir, m.graphs.prefill.file), so),
      ort.InferenceSession.create(path.join(dir, m.graphs.decode.file), so),
    ]);
    const sessions = created.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      const rt = new StudentRuntime(bundle, sessions[0], sessions[1], opts.batch ?? null);
      await rt.warmUp();
      return rt;
    } catch (err) {
      await Promise.allSettled(sessions.map((s) => s.release()));
      throw err;
    }
  }

  get imageShape(): [number, number, number] {
    const [h, w] = this.manifest.preprocessing.image_size;
    return [this.manifest.preprocessing.channels, h, w];
  }

  /** Positions left for the answer after the image tokens and this prompt. */
  budget(promptLength: number): number {
    return this.manifest.model_config.max_seq_len - this.manifest.n_image_tokens - promptLength;
  }

  private async warmUp() {
    const [c, h, w] = this.imageShape;
    const sampling = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };
    for (let i = 0; i < 2; i++) {
      await this.generate({ pixelValues: new Float32Array(c * h * w), promptIds: this.tokenizer.encodePrompt('warm up'), maxTokens: 4, sampling });
    }
  }

  async generate(req: GenerateRequest): Promise<GenerateResult> {
    const m = this.manifest;
    const [c, h, w] = this.imageShape;
    if (req.pixelValues.length !== c * h * w) throw badInput(`pixel_values has ${req.pixelValues.length} values, expected ${c * h * w}`);
    const budget = this.budget(req.promptIds.length);
    if (budget <= 0) throw badInput(`the question is too long: ${req.promptIds.length} prompt tokens leave no room in ${m.model_config.max_seq_len} positions`);
    const steps = Math.min(req.maxTokens, budget);
    // the request holds the sessions until it is answered (retire() releases them after the last one)
    this.hold();
    try {
      return await (this.batcher ? this.batcher.submit(req, steps) : this.generateAlone(req, steps));
    } finally {
      this.unhold();
    }
  }

  /** One request on its own: a batch of one through the sessions (format-1 bundles, RIL_INFER_BATCH=0, warm-up),
   * by the loop the browser runs too (loop.ts). */
  private generateAlone(req: GenerateRequest, steps: number): Promise<GenerateResult> {
    return generateOne({
      prefill: this.prefill, decode: this.decode, tensor: tensorOf, manifest: this.manifest, tokenizer: this.tokenizer, imageShape: this.imageShape,
    }, req, steps);
  }

  protected async releaseSessions(): Promise<void> {
    await Promise.all([this.prefill.release(), this.decode.release()]);
  }
}
