// One loaded Hugging Face student (bundle format 3, docs/hf-bundles.md): its processor, chat template and ONNX graphs
// run by @huggingface/transformers (transformers.js) on onnxruntime-node, the same library and files the browser runs.
// We do not re-implement what it maintains: image resizing/normalisation/splitting as the family's processor does it,
// the chat template, the merge of image features into the prompt, M-RoPE positions, the KV-cache loop. What stays
// ours: the sampler (api/_lib/inference/sampler.ts: one implementation of temperature/top-k/top-p/repetition penalty
// and per-request seeds for both families, plugged in as a logits processor that leaves only the chosen token for
// transformers.js's greedy step to pick), streaming, the abort on client disconnect, timings, and image decoding
// (sharp with our pixel cap, so a decompression bomb never reaches transformers.js's own decoder).
import path from 'node:path';
import sharp from 'sharp';
import {
  AutoModelForImageTextToText, AutoProcessor, BaseStreamer, env as hfEnv, LogitsProcessor, LogitsProcessorList,
  RawImage, StoppingCriteria, StoppingCriteriaList, type PreTrainedModel, type Processor, type Tensor,
} from '@huggingface/transformers';
import { badInput } from '../errors.js';
import { loadBundle, type Bundle, type HfManifest } from './bundle.js';
import { RuntimeHold } from './hold.js';
import { LatencyWindow } from './latency.js';
import { Sampler, type SamplingParams } from './sampler.js';
import type { ChatMessage } from './port.js';

// The server never fetches a model: every file comes from a verified bundle directory on disk.
hfEnv.allowRemoteModels = false;
hfEnv.allowLocalModels = true;
hfEnv.useFSCache = false;
hfEnv.useBrowserCache = false;

/** One turn of a conversation as the chat template sees it (port.ts's ChatMessage); the request's image goes into
 * the first user turn. */
export type ChatTurn = ChatMessage;

export interface HfGenerateRequest {
  image: Buffer;
  turns: ChatTurn[];
  maxTokens: number;
  /** The caller asked for maxTokens explicitly: refuse (rather than shorten) when the model cannot fit that many. */
  strictMaxTokens?: boolean;
  sampling: SamplingParams;
  onToken?: (id: number, text: string) => void;
  signal?: AbortSignal;
}

export interface HfGenerateResult {
  tokenIds: number[];
  text: string;
  finishReason: 'stop' | 'length' | 'cancelled';
  preprocessMs: number;
  firstTokenMs: number;
  decodeMs: number;
  promptTokens: number;
}

export interface HfRuntimeOptions {
  threads: number;
  /** A key of manifest.variants (default: the manifest's default_variant). */
  variant?: string | null;
  /** Images over this many pixels are refused from their header (RIL_INFER_MAX_IMAGE_PIXELS). */
  maxImagePixels: number;
}

type TokenizerLike = { decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string; all_special_ids?: number[] };

/** Our Sampler as the last logits processor: it picks the token (greedy or sampled, seeded per request) and leaves
 * only that one finite, so transformers.js's greedy step takes it. */
class ChooseWithSampler extends LogitsProcessor {
  constructor(private readonly sampler: Sampler) { super(); }
  _call(_inputIds: bigint[][], logits: Tensor): Tensor {
    const row = logits.data as Float32Array; // [1, vocab]: one request per generate call
    const id = this.sampler.next(row);
    row.fill(-Infinity);
    row[id] = 0;
    return logits;
  }
}

/** Stops generation when the client went away. */
class StopOnAbort extends StoppingCriteria {
  constructor(private readonly signal: AbortSignal) { super(); }
  _call(inputIds: number[][]): boolean[] {
    return inputIds.map(() => this.signal.aborted);
  }
}

/** Receives each new token: the time of the first, and the streamed text (whole characters only). */
class TokenTimer extends BaseStreamer {
  readonly ids: number[] = [];
  firstAt = 0;
  private sentText = '';
  private promptSeen = false;
  constructor(private readonly tokenizer: TokenizerLike, private readonly eos: Set<number>, private readonly onToken?: (id: number, text: string) => void) { super(); }
  put(value: bigint[][]): void {
    if (!this.promptSeen) { this.promptSeen = true; return; } // generate() first pushes the prompt
    const id = Number(value[0][0]);
    if (!this.ids.length) this.firstAt = performance.now();
    this.ids.push(id);
    if (!this.onToken || this.eos.has(id)) return;
    const text = this.tokenizer.decode(this.ids, { skip_special_tokens: true });
    // a character split across tokens decodes to U+FFFD until its last byte arrives: hold it back until then
    const whole = text.endsWith('\uFFFD') ? this.sentText : text;
    const delta = whole.startsWith(this.sentText) ? whole.slice(this.sentText.length) : '';
    if (whole !== this.sentText) this.sentText = whole;
    this.onToken(id, delta);
  }
  end(): void {}
}

export class HfRuntime extends RuntimeHold {
  readonly family = 'hf' as const;
  readonly latency = new LatencyWindow();
  readonly manifest: HfManifest;
  readonly variant: string;
  private readonly eos: Set<number>;
  private readonly special: Set<number>;

  private constructor(readonly bundle: Bundle, private readonly processor: Processor, private readonly model: PreTrainedModel, variant: string, private readonly opts: HfRuntimeOptions) {
    super();
    this.manifest = bundle.manifest as HfManifest;
    this.variant = variant;
    this.eos = new Set(this.manifest.generation.eos_token_ids);
    this.special = new Set(this.tokenizer.all_special_ids ?? []);
  }

  private get tokenizer(): TokenizerLike {
    return (this.processor as unknown as { tokenizer: TokenizerLike }).tokenizer;
  }

  /** Verifies the bundle (sha256s), loads the variant's graphs and warms them up. */
  static async load(dir: string, opts: HfRuntimeOptions): Promise<HfRuntime> {
    const bundle = loadBundle(dir);
    const m = bundle.manifest as HfManifest;
    const variant = opts.variant ?? m.default_variant;
    const chosen = m.variants[variant];
    if (!chosen) throw badInput(`this bundle has no variant ${JSON.stringify(variant)}; it has ${Object.keys(m.variants).join(', ')}`);
    // an absolute path as the model id, resolved against the file system root: no other directory is consulted
    const id = path.resolve(dir);
    hfEnv.localModelPath = path.parse(id).root;
    const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
    const model = await AutoModelForImageTextToText.from_pretrained(id, {
      local_files_only: true, device: 'cpu', dtype: chosen.sessions as never,
      session_options: { intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as never,
    });
    const rt = new HfRuntime(bundle, processor, model, variant, opts);
    await rt.warmUp();
    return rt;
  }

  private async warmUp() {
    const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 127, g: 127, b: 127 } } }).png().toBuffer();
    const sampling = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };
    await this.generate({ image: png, turns: [{ role: 'user', text: 'warm up' }], maxTokens: 2, sampling });
  }

  /** Positions the model can hold (its max_position_embeddings), prompt + answer. */
  get context(): number {
    return this.manifest.generation.max_position_embeddings;
  }

  /** The image as RGB pixels: header checked against the pixel cap before anything is decoded. */
  private async decodeImage(bytes: Buffer): Promise<RawImage> {
    const meta = await sharp(bytes).metadata().catch((err: Error) => {
      throw badInput(`the image could not be decoded (${err.message.split('\n')[0]}); send a PNG, JPEG or WebP`);
    });
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (!pixels) throw badInput('the image has no size; send a PNG, JPEG or WebP');
    if (pixels > this.opts.maxImagePixels) throw badInput(`the image is ${meta.width}x${meta.height}, over the limit of ${this.opts.maxImagePixels} pixels (RIL_INFER_MAX_IMAGE_PIXELS)`);
    try {
      const { data, info } = await sharp(bytes, { limitInputPixels: this.opts.maxImagePixels, failOn: 'error' })
        .removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return new RawImage(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height, 3);
    } catch (err) {
      throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); send a PNG, JPEG or WebP`);
    }
  }

  /** The chat template's text for the turns, the image placed before the first user turn's text. */
  promptText(turns: ChatTurn[]): string {
    if (!turns.some((t) => t.role === 'user')) throw badInput('the conversation needs a user message');
    let imagePlaced = false;
    const messages = turns.map((t) => {
      const content: Array<{ type: string; text?: string }> = [];
      if (t.role === 'user' && !imagePlaced) { content.push({ type: 'image' }); imagePlaced = true; }
      content.push({ type: 'text', text: t.text });
      return { role: t.role, content };
    });
    return (this.processor as unknown as { apply_chat_template(m: unknown, o: unknown): string }).apply_chat_template(messages, { add_generation_prompt: true });
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids.filter((id) => !this.eos.has(id)), { skip_special_tokens: true });
  }

  async generate(req: HfGenerateRequest): Promise<HfGenerateResult> {
    this.hold();
    try {
      const t0 = performance.now();
      const image = await this.decodeImage(req.image);
      const inputs = await (this.processor as unknown as (t: string, i: RawImage[]) => Promise<Record<string, Tensor>>)(this.promptText(req.turns), [image]);
      const inputIds = inputs.input_ids;
      const promptTokens = inputIds.dims[1];
      const room = this.context ? this.context - promptTokens : Infinity;
      if (room <= 0) throw badInput(`the question is too long for this model (${promptTokens} prompt tokens, image included, of ${this.context} positions)`);
      if (req.strictMaxTokens && req.maxTokens > room) throw badInput(`max_tokens ${req.maxTokens} is more than this model can generate after this question (${room})`);
      const maxTokens = Math.min(req.maxTokens, room);
      const t1 = performance.now();
      const promptIds = Array.from(inputIds.data as BigInt64Array, Number);
      const vocab = (this.model.config as unknown as { vocab_size?: number; text_config?: { vocab_size?: number } });
      const vocabSize = vocab.text_config?.vocab_size ?? vocab.vocab_size ?? 0;
      const sampler = new Sampler(req.sampling, vocabSize, promptIds, (id) => !this.special.has(id));
      const processors = new LogitsProcessorList();
      processors.push(new ChooseWithSampler(sampler));
      const stopping = new StoppingCriteriaList();
      if (req.signal) stopping.push(new StopOnAbort(req.signal));
      const timer = new TokenTimer(this.tokenizer, this.eos, req.onToken);
      await this.model.generate({
        ...inputs,
        max_new_tokens: maxTokens, do_sample: false, eos_token_id: [...this.eos],
        logits_processor: processors, stopping_criteria: stopping, streamer: timer,
      } as never);
      const end = performance.now();
      const ids = timer.ids;
      const last = ids[ids.length - 1];
      const finishReason = req.signal?.aborted ? 'cancelled' : last !== undefined && this.eos.has(last) ? 'stop' : 'length';
      const firstTokenMs = ids.length ? timer.firstAt - t1 : end - t1;
      return { tokenIds: ids, text: this.decode(ids), finishReason, preprocessMs: t1 - t0, firstTokenMs, decodeMs: ids.length ? end - timer.firstAt : 0, promptTokens };
    } finally {
      this.unhold();
    }
  }

  protected async releaseSessions(): Promise<void> {
    await this.model.dispose();
  }
}
