// The Node-free half of running a Hugging Face student (bundle format 3) with @huggingface/transformers: what the
// server (hfRuntime.ts, transformers.js's Node build on onnxruntime-node) and the dashboard's on-device runner
// (clients/web/src/ondevice/hf.ts, its web build on onnxruntime-web) both run, so the two sides shape the chat
// template's messages, pick each token and stop the same way. transformers.js itself is passed in (`tf`), never
// imported here: the server passes its Node build, the browser the web build it loaded on demand (a dynamic import,
// so the library is not pulled into the dashboard or the built-in family's chunk by this module).
// Exported to the browser through api/_lib/browser.ts (no Node core module may be imported here).
import type * as Transformers from '@huggingface/transformers';
import type { PreTrainedModel, Tensor } from '@huggingface/transformers';
import { Sampler, type SamplingParams } from './sampler.js';
import type { ChatMessage } from './port.js';

export const HF_MODEL_FAMILY = 'hf-image-text-to-text';
export const HF_FORMAT_VERSION = 3;
/** The graphs every Hugging Face bundle variant names (transformers.js's session names). */
export const HF_GRAPHS = ['vision_encoder', 'embed_tokens', 'decoder_model_merged'] as const;
/** transformers.js's file suffix of each dtype a variant may use (its utils/dtypes.js). */
export const HF_DTYPE_SUFFIX: Record<string, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', int8: '_int8', uint8: '_uint8', q4: '_q4', q4f16: '_q4f16', bnb4: '_bnb4' };

/** The graph file a variant runs for one session (onnx/<graph><suffix>.onnx). */
export function hfGraphFile(graph: string, dtype: string): string {
  const suffix = HF_DTYPE_SUFFIX[dtype];
  if (suffix === undefined) throw new Error(`unknown dtype ${dtype}`);
  return `onnx/${graph}${suffix}.onnx`;
}

/** The manifest fields this module reads (bundle.ts's HfManifest has them). */
export interface HfManifestCore {
  variants: Record<string, { sessions: Record<string, string> }>;
  default_variant: string;
  files: Record<string, { sha256: string; bytes: number }>;
}

/** Why `variant` cannot run from this manifest (the message every caller shows), or null when it can. */
export function missingVariant(m: Pick<HfManifestCore, 'variants'>, variant: string): string | null {
  return m.variants[variant] ? null : `this bundle has no variant ${JSON.stringify(variant)}; it has ${Object.keys(m.variants).join(', ')}`;
}

/** The files one variant runs from: every listed file outside onnx/ (config, processor, tokenizer, chat template,
 * generation config) and the variant's own graphs, not the other variants'. */
export function hfVariantFiles(m: HfManifestCore, variant: string): string[] {
  const missing = missingVariant(m, variant);
  if (missing) throw new Error(missing);
  const v = m.variants[variant];
  const graphs = HF_GRAPHS.map((g) => hfGraphFile(g, v.sessions[g]));
  return [...Object.keys(m.files).filter((f) => !f.startsWith('onnx/')).sort(), ...graphs];
}

/** One turn of a conversation as the chat template sees it (port.ts's ChatMessage). */
export type ChatTurn = ChatMessage;

/** The chat template's messages for the turns: the image part goes before the first user turn's text (the
 * caller checks that there is a user turn). */
export function hfChatMessages(turns: readonly ChatTurn[]): Array<{ role: string; content: Array<{ type: string; text?: string }> }> {
  let imagePlaced = false;
  return turns.map((t) => {
    const content: Array<{ type: string; text?: string }> = [];
    if (t.role === 'user' && !imagePlaced) { content.push({ type: 'image' }); imagePlaced = true; }
    content.push({ type: 'text', text: t.text });
    return { role: t.role, content };
  });
}

export type HfTokenizer = { decode(ids: number[], opts?: { skip_special_tokens?: boolean }): string; all_special_ids?: number[] };
/** The parts of transformers.js the generation loop uses (its Node build on the server, its web build in the browser). */
export type HfLib = Pick<typeof Transformers, 'BaseStreamer' | 'LogitsProcessor' | 'LogitsProcessorList' | 'StoppingCriteria' | 'StoppingCriteriaList'>;

/** The vocabulary size from the model's config (the text model's, for a VLM). */
export function hfVocabSize(config: unknown): number {
  const c = config as { vocab_size?: number; text_config?: { vocab_size?: number } };
  return c.text_config?.vocab_size ?? c.vocab_size ?? 0;
}

/** The answer's text: end-of-sequence ids dropped, special tokens skipped. */
export function hfDecode(tokenizer: HfTokenizer, ids: number[], eos: ReadonlySet<number>): string {
  return tokenizer.decode(ids.filter((id) => !eos.has(id)), { skip_special_tokens: true });
}

export interface HfLoopRequest {
  /** The processor's output (input_ids, attention_mask, pixel_values, ...). */
  inputs: Record<string, Tensor>;
  maxTokens: number;
  sampling: SamplingParams;
  onToken?: (id: number, text: string) => void;
  signal?: AbortSignal;
}

export interface HfLoopResult {
  tokenIds: number[];
  finishReason: 'stop' | 'length' | 'cancelled';
  /** performance.now() when the first token was chosen (0: none was). */
  firstAt: number;
  /** performance.now() when generate returned. */
  endAt: number;
}

/** model.generate with our Sampler as the last logits processor (it picks the token, greedy or sampled and seeded
 * per request, and leaves only that one finite, so transformers.js's greedy step takes it), a streamer that times
 * the first token and streams whole characters, and a stopping criterion for the abort. */
export async function hfGenerate(tf: HfLib, model: PreTrainedModel, tokenizer: HfTokenizer, eos: ReadonlySet<number>, special: ReadonlySet<number>, req: HfLoopRequest): Promise<HfLoopResult> {
  class ChooseWithSampler extends tf.LogitsProcessor {
    constructor(private readonly sampler: Sampler) { super(); }
    _call(_inputIds: bigint[][], logits: Tensor): Tensor {
      const row = logits.data as Float32Array; // [1, vocab]: one request per generate call
      const id = this.sampler.next(row);
      row.fill(-Infinity);
      row[id] = 0;
      return logits;
    }
  }
  class StopOnAbort extends tf.StoppingCriteria {
    constructor(private readonly signal: AbortSignal) { super(); }
    _call(inputIds: number[][]): boolean[] {
      return inputIds.map(() => this.signal.aborted);
    }
  }
  /** Receives each new token: the time of the first, and the streamed text (whole characters only). */
  class TokenTimer extends tf.BaseStreamer {
    readonly ids: number[] = [];
    firstAt = 0;
    // incremental detokenisation (as text-generation-inference does): decode only the ids since `prefix`, emit what
    // decoding [prefix, ids.length) adds to [prefix, read); decoding from one token back keeps the tokenizer's own
    // spacing rules (a leading space it strips at the start of a text). Linear in the answer, not quadratic.
    private prefix = 0;
    private read = 0;
    private promptSeen = false;
    constructor(private readonly onToken?: (id: number, text: string) => void) { super(); }
    put(value: bigint[][]): void {
      if (!this.promptSeen) { this.promptSeen = true; return; } // generate() first pushes the prompt
      const id = Number(value[0][0]);
      if (!this.ids.length) this.firstAt = performance.now();
      this.ids.push(id);
      if (!this.onToken || eos.has(id)) return;
      // transformers.js refuses to decode an empty list
      const decode = (ids: number[]) => (ids.length ? tokenizer.decode(ids, { skip_special_tokens: true }) : '');
      const before = decode(this.ids.slice(this.prefix, this.read));
      const after = decode(this.ids.slice(this.prefix));
      let delta = '';
      // a character split across tokens decodes to U+FFFD until its last byte arrives: hold it back until then
      if (after.length > before.length && !after.endsWith('\uFFFD')) {
        delta = after.slice(before.length);
        this.prefix = this.read;
        this.read = this.ids.length;
      }
      this.onToken(id, delta);
    }
    end(): void {}
  }
  const promptIds = Array.from(req.inputs.input_ids.data as BigInt64Array, Number);
  const sampler = new Sampler(req.sampling, hfVocabSize(model.config), promptIds, (id) => !special.has(id));
  const processors = new tf.LogitsProcessorList();
  processors.push(new ChooseWithSampler(sampler));
  const stopping = new tf.StoppingCriteriaList();
  if (req.signal) stopping.push(new StopOnAbort(req.signal));
  const timer = new TokenTimer(req.onToken);
  await model.generate({
    ...req.inputs,
    max_new_tokens: req.maxTokens, do_sample: false, eos_token_id: [...eos],
    logits_processor: processors, stopping_criteria: stopping, streamer: timer,
  } as never);
  const endAt = performance.now();
  const ids = timer.ids;
  const last = ids[ids.length - 1];
  const finishReason = req.signal?.aborted ? 'cancelled' : last !== undefined && eos.has(last) ? 'stop' : 'length';
  return { tokenIds: ids, finishReason, firstAt: timer.firstAt, endAt };
}
