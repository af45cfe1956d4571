// One loaded Hugging Face student (bundle format 3, docs/hf-bundles.md): its processor, chat template and ONNX graphs
// run by @huggingface/transformers (transformers.js) on onnxruntime-node, the same library and files the browser runs.
// We do not re-implement what it maintains: image resizing/normalisation/splitting as the family's processor does it,
// the chat template, the merge of image features into the prompt, M-RoPE positions, the KV-cache loop. What stays
// ours (hfGenerate.ts, Node-free: the dashboard's on-device runner runs the same code): the sampler (sampler.ts: one implementation of temperature/top-k/top-p/repetition penalty
// and per-request seeds for both families, plugged in as a logits processor that leaves only the chosen token for
// transformers.js's greedy step to pick), streaming, the abort on client disconnect, timings, and image decoding
// (sharp with our pixel cap, so a decompression bomb never reaches transformers.js's own decoder).
import path from 'node:path';
import sharp from 'sharp';
import * as transformers from '@huggingface/transformers';
import { AutoModelForImageTextToText, AutoProcessor, env as hfEnv, RawImage, type PreTrainedModel, type Processor, type Tensor } from '@huggingface/transformers';
import { badInput } from '../errors.js';
import { loadBundle, type Bundle, type HfManifest } from './bundle.js';
import { checkImageHeader } from './preprocess.js';
import { RuntimeHold } from './hold.js';
import { LatencyWindow } from './latency.js';
import type { SamplingParams } from './sampler.js';
import { hfChatMessages, hfDecode, hfGenerate, missingVariant, type ChatTurn, type HfTokenizer } from './hfGenerate.js';

export type { ChatTurn };

// The server never fetches a model: every file comes from a verified bundle directory on disk.
hfEnv.allowRemoteModels = false;
hfEnv.allowLocalModels = true;
hfEnv.useFSCache = false;
hfEnv.useBrowserCache = false;

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

  private get tokenizer(): HfTokenizer {
    return (this.processor as unknown as { tokenizer: HfTokenizer }).tokenizer;
  }

  /** Verifies the bundle (sha256s), loads the variant's graphs and warms them up. */
  static async load(dir: string, opts: HfRuntimeOptions): Promise<HfRuntime> {
    const bundle = loadBundle(dir);
    const m = bundle.manifest as HfManifest;
    const variant = opts.variant ?? m.default_variant;
    const missing = missingVariant(m, variant);
    if (missing) throw badInput(missing);
    const chosen = m.variants[variant];
    // an absolute path as the model id, resolved against the file system root: no other directory is consulted
    const id = path.resolve(dir);
    hfEnv.localModelPath = path.parse(id).root;
    const processor = await AutoProcessor.from_pretrained(id, { local_files_only: true });
    const model = await AutoModelForImageTextToText.from_pretrained(id, {
      local_files_only: true, device: 'cpu', dtype: chosen.sessions as never,
      session_options: { intraOpNumThreads: opts.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' } as never,
    });
    try {
      const rt = new HfRuntime(bundle, processor, model, variant, opts);
      await rt.warmUp();
      return rt;
    } catch (err) { // release the sessions a failed load created (their native memory is invisible to V8)
      await model.dispose().catch(() => {});
      throw err;
    }
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

  /** The image as RGB pixels at its own size (the processor resizes it as the family does): the endpoint's header
   * check first (preprocess.ts: the formats decoded, the pixel cap; SVG and the like never reach a decoder). */
  private async decodeImage(bytes: Buffer): Promise<RawImage> {
    checkImageHeader(bytes, this.opts.maxImagePixels);
    try {
      const { data, info } = await sharp(bytes, { limitInputPixels: this.opts.maxImagePixels, failOn: 'error' })
        .removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
      return new RawImage(new Uint8ClampedArray(data.buffer, data.byteOffset, data.length), info.width, info.height, 3);
    } catch (err) {
      throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); send a PNG, JPEG, WebP, GIF, AVIF or TIFF`);
    }
  }

  /** The chat template's text for the turns, the image placed before the first user turn's text. */
  promptText(turns: ChatTurn[]): string {
    if (!turns.some((t) => t.role === 'user')) throw badInput('the conversation needs a user message');
    const messages = hfChatMessages(turns);
    return (this.processor as unknown as { apply_chat_template(m: unknown, o: unknown): string }).apply_chat_template(messages, { add_generation_prompt: true });
  }

  decode(ids: number[]): string {
    return hfDecode(this.tokenizer, ids, this.eos);
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
      const g = await hfGenerate(transformers, this.model, this.tokenizer, this.eos, this.special, { inputs, maxTokens, sampling: req.sampling, onToken: req.onToken, signal: req.signal });
      const ids = g.tokenIds;
      const firstTokenMs = ids.length ? g.firstAt - t1 : g.endAt - t1;
      return { tokenIds: ids, text: this.decode(ids), finishReason: g.finishReason, preprocessMs: t1 - t0, firstTokenMs, decodeMs: ids.length ? g.endAt - g.firstAt : 0, promptTokens };
    } finally {
      this.unhold();
    }
  }

  protected async releaseSessions(): Promise<void> {
    await this.model.dispose();
  }
}
