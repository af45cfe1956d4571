// What every model family's on-device runner provides, so the entry point (./index.ts) is a switch on the manifest's
// model_family: which files to fetch, and how to turn them into something that answers a question about an image.
import type { BundleFiles, ManifestBase } from './bundleStore.js';
import type { Provider } from './ort.js';

export interface OnDeviceRequest {
  image: Blob;
  question: string;
  /** Absent: the endpoint's default (DEFAULT_MAX_TOKENS, capped by the model's room). Greedy always. */
  maxTokens?: number;
  onToken?: (id: number, text: string) => void;
}

export interface OnDeviceAnswer {
  answer: string;
  tokenIds: number[];
  finishReason: 'stop' | 'length' | 'cancelled';
  /** Image decode + resize + normalise. */
  preprocessMs: number;
  /** Start (preprocessing included, as the server counts it) -> the first token chosen. */
  ttftMs: number;
  /** Tokens after the first / the time after the first (null with fewer than two tokens). */
  tokensPerSecond: number | null;
  totalMs: number;
  /** The image's own size when it was resized to the model's. */
  resizedFrom: [number, number] | null;
}

export interface LoadedModel {
  provider: Provider;
  /** Why the preferred provider was not used, if it was tried. */
  fallback?: string;
  generate(req: OnDeviceRequest): Promise<OnDeviceAnswer>;
  release(): Promise<void>;
}

export interface Family<M extends ManifestBase = ManifestBase> {
  /** The bundle files this family runs from (fetched and verified before `load`). `variant`: the one the live
   * revision serves (the route's x-ril-variant), for a family whose bundles have variants. */
  neededFiles(manifest: M, variant: string | null): string[];
  load(bundle: BundleFiles<M>): Promise<LoadedModel>;
}

/** A family this build knows but cannot run on the device: the message says so. */
export interface UnavailableFamily { unavailable: string }
