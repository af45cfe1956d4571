// What one generation asks for and what it gives back: the contract between the runtime (runtime.ts), which runs a
// request alone, and the batcher (batcher.ts), which runs it among others. A module of its own so that neither
// imports the other for it.
import type { SamplingParams } from './sampler.js';

/** Tokens an answer may take when the request names no max_tokens (capped by what the model has room for): the
 * endpoint's default, and the dashboard's on-device runner's, so both answer the same question alike. */
export const DEFAULT_MAX_TOKENS = 64;

export interface GenerateRequest {
  pixelValues: Float32Array;
  promptIds: number[];
  maxTokens: number;
  sampling: SamplingParams;
  /** Called with each new token and the text it completes (streaming). */
  onToken?: (id: number, text: string) => void;
  /** Stops decoding early (client gone). */
  signal?: AbortSignal;
}

export interface GenerateResult {
  tokenIds: number[];
  finishReason: 'stop' | 'length' | 'cancelled';
  /** Prefill start -> first token chosen. */
  firstTokenMs: number;
  /** Time spent after the first token. */
  decodeMs: number;
  /** Rows in the session runs this request took part in (its prefill and each decode step), averaged over those
   * runs: 1 unbatched (ril_inference_batch_size). */
  batchSize: number;
}
