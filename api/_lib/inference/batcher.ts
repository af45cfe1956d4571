// Batched decoding for one loaded student (one per StudentRuntime, i.e. per bundle): continuous batching.
//
// Requests submit here instead of running their own session loop. The batch's loop, between decode steps:
//   1. drops rows whose request went away (signal aborted): they take no further step;
//   2. prefills the requests that arrived since the last step (up to RIL_INFER_BATCH_MAX rows in all) in one run,
//      their prompts left-padded after the image and the padding masked (the padded slots are dropped from their
//      pasts), samples each one's first token and adds it as a row;
//   3. runs ONE decode step for every row: input_ids/position_ids per row, the rows' pasts in one cache of a common
//      capacity (each row's real slots first, then empty ones) and attention_mask 0 on the empty slots (bundle
//      format 2; see ril_trainer/export.py); then samples each row with its own Sampler (its own
//      temperature, top-p/k, penalty and seed), streams the token to its own request, and lets a row leave at
//      <eos>, at its token budget, or when its client disconnects.
// When no row is left the loop stops; the next request starts it again. Starting from idle it waits up to
// RIL_INFER_BATCH_WAIT_MS for as many requests as hold this runtime now (resolved it, and are preprocessing or
// queued at the admission gate) or ran in its last batch, so a burst starts as one prefill; a lone client's
// request does not wait at all.
//
// The cache: per KV name one buffer [rows, H, capacity, Dh] that the batch owns. A step fetches only the new slot of
// each row (new.*, [rows, H, 1, Dh]) and writes it in place after the row's real slots, so no step copies the whole
// past out of onnxruntime and back (present.*, which grows by a slot per step, is what the unbatched loop feeds
// back). When rows leave or join, or a row reaches the capacity, the cache is rebuilt: each row's real slots copied
// into new buffers with CAPACITY_STEP free slots after the longest row.
// A masked slot's softmax weight is exactly 0, so a row computes what it would alone up to float summation order
// (docs/inference.md, "Batched decoding", on whether that can flip a greedy argmax).
import ort from 'onnxruntime-node';
import type { BuiltinManifest } from './bundle.js';
import { Sampler } from './sampler.js';
import type { StudentTokenizer } from './tokenizer.js';
import type { GenerateRequest, GenerateResult } from './generation.js';

export interface BatchOptions {
  /** Longest wait (ms) from an idle start for the other requests holding the runtime (RIL_INFER_BATCH_WAIT_MS). */
  waitMs: number;
  /** Most rows in one decode step (RIL_INFER_BATCH_MAX); more requests wait for a row to leave. */
  maxBatch: number;
}

/** Counters of one batcher (tests and the benchmark read them). */
export interface BatchStats {
  /** Decode runs, and rows summed over them (rowSteps / decodeRuns = mean batch). */
  decodeRuns: number;
  rowSteps: number;
  prefillRuns: number;
  /** Largest decode batch so far. */
  maxRows: number;
  /** Rows now in the batch, and requests waiting for their prefill. */
  active: number;
  pending: number;
  /** Milliseconds spent in prefill runs, decode runs and rebuilding the padded past (the rest of a request's time
   * is the event loop's: HTTP, preprocessing, other requests). */
  prefillMs: number;
  decodeMs: number;
  regroupMs: number;
  /** Rows that left because their request was cancelled, with the decode steps each took. */
  cancelled: { steps: number; tokens: number }[];
}

interface Job {
  req: GenerateRequest;
  steps: number;
  sampler: Sampler;
  decodeText?: (id: number) => string;
  t0: number;
  tokens: number[];
  firstTokenMs: number;
  /** Rows summed over the runs this request took part in, and the runs (its mean batch size). */
  rowSum: number;
  runs: number;
  /** Decode steps it took part in. */
  decodeSteps: number;
  /** Real KV slots of its row, and the position of its next token. */
  len: number;
  position: number;
  resolve: (r: GenerateResult) => void;
  reject: (err: unknown) => void;
}

/** Where a row's real past slots are: row `row` of tensors `src` ([rows, H, width, Dh]), the slot ranges [start, count). */
interface Source {
  job: Job;
  src: ort.Tensor[];
  row: number;
  width: number;
  segments: [number, number][];
}

/** The cache of a set of rows: per KV name a tensor [rows, H, P, Dh] over a buffer the batch writes; row b's real
 * slots are its first `len` ones, the rest are empty (masked). */
interface Past {
  tensors: ort.Tensor[];
  bufs: Float32Array[];
  P: number;
}

/** Free slots a rebuilt cache leaves after its longest row (steps until the next rebuild, if nobody joins or leaves). */
const CAPACITY_STEP = 32;

const int64 = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims);

export class DecodeBatcher {
  private readonly pending: Job[] = [];
  private rows: Job[] = [];
  private past: Past | null = null;
  private running = false;
  /** The largest decode batch of the loop's last run (what the next idle start expects). */
  private lastRows = 1;
  private runRows = 0;
  private wake: (() => void) | null = null;
  readonly stats: BatchStats = { decodeRuns: 0, rowSteps: 0, prefillRuns: 0, maxRows: 0, active: 0, pending: 0, prefillMs: 0, decodeMs: 0, regroupMs: 0, cancelled: [] };
  private readonly H: number;
  private readonly Dh: number;

  constructor(
    private readonly prefill: ort.InferenceSession,
    private readonly decode: ort.InferenceSession,
    private readonly manifest: BuiltinManifest,
    private readonly tokenizer: StudentTokenizer,
    readonly opts: BatchOptions,
    /** Requests that hold the runtime now (resolved it, not yet finished): how many may still arrive. */
    private readonly holders: () => number,
  ) {
    this.H = manifest.kv_cache.heads;
    this.Dh = manifest.kv_cache.head_dim;
  }

  /** Queues a request (already validated by the runtime: pixel count, budget) and resolves when its row leaves. */
  submit(req: GenerateRequest, steps: number): Promise<GenerateResult> {
    return new Promise((resolve, reject) => {
      const m = this.manifest;
      this.pending.push({
        req, steps, t0: performance.now(), tokens: [], firstTokenMs: 0, rowSum: 0, runs: 0, decodeSteps: 0,
        len: m.n_image_tokens + req.promptIds.length, position: m.n_image_tokens + req.promptIds.length,
        sampler: new Sampler(req.sampling, m.model_config.vocab_size, req.promptIds, (id) => this.tokenizer.isText(id)),
        decodeText: req.onToken ? this.tokenizer.streamDecoder() : undefined,
        resolve, reject,
      });
      if (this.wake && this.arrived()) { this.wake(); this.wake = null; }
      if (!this.running) {
        this.running = true;
        void this.loop();
      }
    });
  }

  /** Whether the idle start should stop waiting: the batch is full, or as many requests are here as hold the runtime
   * now or ran in the last batch (a client of a burst that just ended is likely to send its next request soon). */
  private arrived() {
    return this.pending.length >= Math.min(this.opts.maxBatch, Math.max(this.holders(), this.lastRows));
  }

  private async loop() {
    try {
      if (this.opts.waitMs > 0 && !this.arrived()) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { this.wake = null; resolve(); }, this.opts.waitMs);
          this.wake = () => { clearTimeout(timer); resolve(); };
        });
      }
      for (;;) {
        this.dropCancelled();
        if (this.pending.length && this.rows.length < this.opts.maxBatch) await this.join();
        if (!this.rows.length) {
          if (!this.pending.length) break;
          continue;
        }
        await this.step();
      }
    } catch (err) {
      // a session run failed: every request in the batch fails with it; later ones start afresh
      for (const job of [...this.rows, ...this.pending.splice(0)]) job.reject(err);
      this.rows = [];
      this.past = null;
    } finally {
      this.running = false;
      this.lastRows = Math.max(1, this.runRows);
      this.runRows = 0;
      this.stats.active = this.rows.length;
      this.stats.pending = this.pending.length;
    }
    if (this.pending.length) { this.running = true; void this.loop(); } // arrived while the failure unwound
  }

  private finish(job: Job, finishReason: GenerateResult['finishReason']) {
    const now = performance.now();
    if (finishReason === 'cancelled') this.stats.cancelled.push({ steps: job.decodeSteps, tokens: job.tokens.length });
    job.resolve({
      tokenIds: job.tokens, finishReason, firstTokenMs: job.firstTokenMs,
      decodeMs: job.tokens.length ? now - job.t0 - job.firstTokenMs : 0,
      batchSize: job.runs ? job.rowSum / job.runs : 1,
    });
  }

  /** Takes the token chosen from `logits` for a row: true while the row goes on. */
  private take(job: Job, logits: Float32Array): boolean {
    const token = job.sampler.next(logits);
    job.tokens.push(token);
    if (job.tokens.length === 1) job.firstTokenMs = performance.now() - job.t0;
    if (token === this.tokenizer.eosId) { this.finish(job, 'stop'); return false; }
    try {
      job.req.onToken?.(token, job.decodeText!(token));
    } catch (err) {
      job.reject(err); // this request's stream failed: it leaves, the batch goes on
      return false;
    }
    if (job.tokens.length >= job.steps) { this.finish(job, 'length'); return false; }
    return true;
  }

  /** Rows and queued requests whose client went away leave before the next run. */
  private dropCancelled() {
    for (let i = this.pending.length - 1; i >= 0; i--) {
      if (this.pending[i].req.signal?.aborted) this.finish(this.pending.splice(i, 1)[0], 'cancelled');
    }
    if (this.rows.some((r) => r.req.signal?.aborted)) {
      const keep = this.rows.filter((r) => !r.req.signal?.aborted);
      for (const r of this.rows) if (r.req.signal?.aborted) this.finish(r, 'cancelled');
      this.regroup(keep, []);
    }
  }

  /** Prefills the queued requests that fit in ONE run (prompts left-padded after the image to the longest, the
   * padding masked) and adds those that go on as rows. */
  private async join() {
    const jobs = this.pending.splice(0, this.opts.maxBatch - this.rows.length);
    const m = this.manifest;
    const N = m.n_image_tokens;
    const [c, h, w] = [m.preprocessing.channels, m.preprocessing.image_size[0], m.preprocessing.image_size[1]];
    const V = m.model_config.vocab_size;
    const g = jobs.length;
    const L = Math.max(...jobs.map((j) => j.req.promptIds.length));
    const W = N + L;
    const pixels = new Float32Array(g * c * h * w);
    const ids = new BigInt64Array(g * L); // padding: id 0, masked
    const mask = new BigInt64Array(g * W);
    jobs.forEach((j, b) => {
      pixels.set(j.req.pixelValues, b * c * h * w);
      const pad = L - j.req.promptIds.length;
      for (let t = 0; t < j.req.promptIds.length; t++) ids[b * L + pad + t] = BigInt(j.req.promptIds[t]);
      mask.fill(1n, b * W, b * W + N);
      mask.fill(1n, b * W + N + pad, (b + 1) * W);
    });
    let out: ort.InferenceSession.OnnxValueMapType;
    const t0 = performance.now();
    try {
      out = await this.prefill.run({
        pixel_values: new ort.Tensor('float32', pixels, [g, c, h, w]), input_ids: int64(ids, [g, L]), attention_mask: int64(mask, [g, W]),
      });
    } catch (err) {
      for (const j of jobs) j.reject(err);
      return;
    }
    this.stats.prefillRuns += 1;
    this.stats.prefillMs += performance.now() - t0;
    const logits = out.logits.data as Float32Array;
    const src = m.kv_cache.output_names.map((n) => out[n]);
    const joined: Source[] = [];
    jobs.forEach((j, b) => {
      j.rowSum += g;
      j.runs += 1;
      const len = j.req.promptIds.length;
      // its past without the padding: the image's slots, then the prompt's
      if (this.take(j, logits.subarray(b * V, (b + 1) * V))) joined.push({ job: j, src, row: b, width: W, segments: [[0, N], [W - len, len]] });
    });
    if (joined.length) this.regroup(this.rows, joined);
  }

  /** Rebuilds the padded past for the rows `keep` (now in this.past) plus `joined` (rows of a prefill's outputs). */
  private regroup(keep: Job[], joined: Source[]) {
    const t0 = performance.now();
    const { H, Dh } = this;
    const rows = [...keep, ...joined.map((x) => x.job)];
    const sources: Source[] = [
      ...keep.map((job) => ({ job, src: this.past!.tensors, row: this.rows.indexOf(job), width: this.past!.P, segments: [[0, job.len]] as [number, number][] })),
      ...joined,
    ];
    this.rows = rows;
    if (!rows.length) { this.past = null; return; }
    const P = Math.max(...rows.map((r) => r.len)) + CAPACITY_STEP;
    const bufs: Float32Array[] = [];
    const tensors = this.manifest.kv_cache.output_names.map((_, k) => {
      const data = new Float32Array(rows.length * H * P * Dh); // zeros in the empty slots
      bufs.push(data);
      sources.forEach(({ job, src, row, width, segments }, b) => {
        const from = src[k].data as Float32Array;
        for (let hh = 0; hh < H; hh++) {
          let to = (b * H + hh) * P * Dh; // the row's real slots first
          for (const [start, count] of segments) {
            const at = ((row * H + hh) * width + start) * Dh;
            data.set(from.subarray(at, at + count * Dh), to);
            to += count * Dh;
          }
        }
      });
      return new ort.Tensor('float32', data, [rows.length, H, P, Dh]);
    });
    this.past = { tensors, bufs, P };
    this.stats.regroupMs += performance.now() - t0;
  }

  /** One decode step for every row. */
  private async step() {
    if (Math.max(...this.rows.map((r) => r.len)) >= this.past!.P) this.regroup(this.rows, []); // no room for the new slot
    const rows = this.rows;
    const B = rows.length;
    const { P, tensors, bufs } = this.past!;
    const { H, Dh } = this;
    const ids = new BigInt64Array(B);
    const positions = new BigInt64Array(B);
    const mask = new BigInt64Array(B * (P + 1)); // row b: its len real slots, empty ones, then the new token's
    rows.forEach((r, b) => {
      ids[b] = BigInt(r.tokens[r.tokens.length - 1]);
      positions[b] = BigInt(r.position);
      mask.fill(1n, b * (P + 1), b * (P + 1) + r.len);
      mask[b * (P + 1) + P] = 1n;
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: int64(ids, [B, 1]), position_ids: int64(positions, [B, 1]), attention_mask: int64(mask, [B, P + 1]),
    };
    const kv = this.manifest.kv_cache;
    const newNames = kv.new_slot_names!;
    for (let i = 0; i < kv.input_names.length; i++) feeds[kv.input_names[i]] = tensors[i];
    const t0 = performance.now();
    const out = await this.decode.run(feeds, ['logits', ...newNames]);
    this.stats.decodeMs += performance.now() - t0;
    this.stats.decodeRuns += 1;
    this.stats.rowSteps += B;
    this.stats.maxRows = Math.max(this.stats.maxRows, B);
    this.runRows = Math.max(this.runRows, B);
    // the new slot of each row, in place after its real ones
    newNames.forEach((n, k) => {
      const src = out[n].data as Float32Array;
      const dst = bufs[k];
      rows.forEach((r, b) => {
        for (let hh = 0; hh < H; hh++) dst.set(src.subarray((b * H + hh) * Dh, (b * H + hh + 1) * Dh), ((b * H + hh) * P + r.len) * Dh);
      });
    });
    const logits = out.logits.data as Float32Array;
    const V = this.manifest.model_config.vocab_size;
    const keep: Job[] = [];
    rows.forEach((r, b) => {
      r.len += 1;
      r.position += 1;
      r.rowSum += B;
      r.runs += 1;
      r.decodeSteps += 1;
      if (this.take(r, logits.subarray(b * V, (b + 1) * V))) keep.push(r);
    });
    if (keep.length !== B) this.regroup(keep, []);
    this.stats.active = this.rows.length;
  }
}
