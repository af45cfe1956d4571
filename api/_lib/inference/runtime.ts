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
import { loadBundle, type Bundle, type BundleManifest } from './bundle.js';
import { DecodeBatcher, type BatchOptions } from './batcher.js';
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

/** A sliding window of request timings for `latency { p50Ms p95Ms requests }`. */
export class LatencyWindow {
  private readonly samples: number[] = [];
  private readonly ttft: number[] = [];
  private next = 0;
  requests = 0;
  tokens = 0;
  decodeMs = 0;
  constructor(private readonly size = 1024) {}

  record(totalMs: number, ttftMs: number, tokens: number, decodeMs: number) {
    if (this.samples.length < this.size) {
      this.samples.push(totalMs);
      this.ttft.push(ttftMs);
    } else {
      this.samples[this.next] = totalMs;
      this.ttft[this.next] = ttftMs;
      this.next = (this.next + 1) % this.size;
    }
    this.requests += 1;
    this.tokens += tokens;
    this.decodeMs += decodeMs;
  }

  snapshot() {
    const q = (xs: number[], p: number) => {
      if (!xs.length) return null;
      const s = [...xs].sort((a, b) => a - b);
      return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)];
    };
    return {
      requests: this.requests, p50Ms: q(this.samples, 0.5), p95Ms: q(this.samples, 0.95), ttftP50Ms: q(this.ttft, 0.5),
      decodeTokensPerSecond: this.decodeMs > 0 ? (this.tokens - this.requests) / (this.decodeMs / 1000) : null,
    };
  }
}

const tensorOf = ((type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => new ort.Tensor(type, data as never, dims)) as MakeTensor<ort.Tensor>;

export class StudentRuntime {
  readonly manifest: BundleManifest;
  readonly tokenizer: StudentTokenizer;
  readonly latency = new LatencyWindow();
  /** Requests holding this runtime: counted from the moment a request resolves it (see `use`), not only while
   * it generates, so a switch that retires the runtime never releases it under a request still preprocessing. */
  private inFlight = 0;
  /** Requests holding the runtime through `use` (the batcher's idle start waits for them to arrive). */
  private users = 0;
  private retired = false;
  /** Batched decoding, when on and the bundle's decode graph takes a mask; else null. */
  readonly batcher: DecodeBatcher | null;
  /** Whether prefill and decode take attention_mask (bundle format 2; format 1 has neither). */
  private readonly prefillMasked: boolean;
  private readonly decodeMasked: boolean;
  private released = false;
  /** When a request last took this runtime (the LRU order of loaded runtimes). */
  lastUsedAt = performance.now();

  private constructor(readonly bundle: Bundle, private readonly prefill: ort.InferenceSession, private readonly decode: ort.InferenceSession, batch: BatchOptions | null) {
    this.manifest = bundle.manifest;
    // only a file the manifest lists (and loadBundle verified) is read: the spec cannot point elsewhere
    this.tokenizer = loadTokenizer(bundle.manifest.tokenizer, (name) => {
      if (!bundle.manifest.files[name] || path.basename(name) !== name) throw new Error(`tokenizer file ${JSON.stringify(name)} is not a bundle file`);
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
    // enableMemPattern off: onnxruntime plans (and caches) a memory pattern per input shape, and decode sees a new
    // shape at every step (past_len grows; batched, the rows vary too): planning each one cost more than it saved here
    const so: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all', intraOpNumThreads: opts.threads, interOpNumThreads: 1, executionMode: 'sequential', enableMemPattern: false,
    };
    const [prefill, decode] = await Promise.all([
      ort.InferenceSession.create(path.join(dir, bundle.manifest.graphs.prefill.file), so),
      ort.InferenceSession.create(path.join(dir, bundle.manifest.graphs.decode.file), so),
    ]);
    const rt = new StudentRuntime(bundle, prefill, decode, opts.batch ?? null);
    await rt.warmUp();
    return rt;
  }

  /** Requests holding the runtime now. */
  get busy(): number {
    return this.inFlight;
  }

  /** Whether it was retired (it takes no new requests; its sessions go once the last one ends). */
  get isRetired(): boolean {
    return this.retired;
  }

  /** Holds the runtime for one request: its sessions stay until the returned release is called (once; later
   * calls do nothing). Null when the runtime was already retired: the caller resolves again. */
  use(): (() => void) | null {
    if (this.retired) return null;
    this.inFlight += 1;
    this.users += 1;
    this.lastUsedAt = performance.now();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight -= 1;
      this.users -= 1;
      if (this.retired && this.inFlight === 0) void this.release();
    };
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
    this.inFlight += 1;
    try {
      return await (this.batcher ? this.batcher.submit(req, steps) : this.generateAlone(req, steps));
    } finally {
      this.inFlight -= 1;
      if (this.retired && this.inFlight === 0) void this.release();
    }
  }

  /** One request on its own: a batch of one through the sessions (format-1 bundles, RIL_INFER_BATCH=0, warm-up),
   * by the loop the browser runs too (loop.ts). */
  private generateAlone(req: GenerateRequest, steps: number): Promise<GenerateResult> {
    return generateOne({
      prefill: this.prefill, decode: this.decode, tensor: tensorOf, manifest: this.manifest, tokenizer: this.tokenizer, imageShape: this.imageShape,
    }, req, steps);
  }

  /** No new requests will come: release the sessions once the in-flight ones finish. */
  retire() {
    this.retired = true;
    if (this.inFlight === 0) void this.release();
  }

  /** Whether its sessions were released. */
  get isReleased(): boolean {
    return this.released;
  }

  private async release() {
    if (this.released) return;
    this.released = true;
    await Promise.all([this.prefill.release(), this.decode.release()]);
  }
}
