// The dashboard's on-device runner (loaded on demand: main.ts imports this module dynamically, so esbuild puts it and
// onnxruntime-web in chunks of their own). runOnDevice: the deployment's live manifest -> its family's runner (a
// switch on model_family) -> the family's files, fetched once and cached -> an answer computed in this browser.
// A loaded model stays for the page's life, per bundle, so asking again reuses its sessions.
import { BundleStore, type BundleFiles, type ManifestBase, type Progress } from './bundleStore.js';
import { builtinFamily } from './builtin.js';
import { hfFamily } from './hf.js';
import type { Family, LoadedModel, OnDeviceAnswer, OnDeviceRequest, UnavailableFamily } from './family.js';

export type { OnDeviceAnswer, Progress };

/** The families this build knows, by the manifest's model_family. */
const FAMILIES: Record<string, Family<never> | UnavailableFamily> = {
  'ril-vlm-v1': builtinFamily as Family<never>,
  // bundle format 3 (docs/hf-bundles.md), run by @huggingface/transformers's web build (./hf.ts; the library is its own chunk)
  'hf-image-text-to-text': hfFamily as Family<never>,
};

export class OnDeviceUnavailable extends Error {}

export interface RunOptions extends OnDeviceRequest {
  origin: string;
  apiKey: string;
  deployment: string;
  onProgress?: (p: Progress) => void;
  /** Called once the model is ready: where its files came from and which provider runs it. */
  onReady?: (info: ReadyInfo) => void;
}

export interface ReadyInfo {
  revision: number;
  provider: LoadedModel['provider'];
  fallback?: string;
  /** 'cached': every file came from this device; 'downloaded': some came over the network now; 'loaded': the
   * model was already in this page. */
  source: 'cached' | 'downloaded' | 'loaded';
  downloadedBytes: number;
  cacheable: boolean;
}

export interface OnDeviceResult extends OnDeviceAnswer, ReadyInfo {}

interface Loaded { sha: string; entry: Promise<{ model: LoadedModel; files: BundleFiles }> }
/** The loaded model of each deployment in this page (its live bundle when last asked): a new live revision replaces
 * it, and the old one's sessions are released, so a long-open page does not hold every revision it has seen. */
const loaded = new Map<string, Loaded>();

function familyOf(manifest: ManifestBase): Family<never> {
  const family = FAMILIES[manifest.model_family];
  if (!family) throw new OnDeviceUnavailable(`model family ${JSON.stringify(manifest.model_family)} cannot run on this device (this build knows ${Object.keys(FAMILIES).join(', ')})`);
  if ('unavailable' in family) throw new OnDeviceUnavailable(family.unavailable);
  return family;
}

export async function runOnDevice(opts: RunOptions): Promise<OnDeviceResult> {
  const store = new BundleStore({ origin: opts.origin, apiKey: opts.apiKey, deployment: opts.deployment, onProgress: opts.onProgress });
  const head = await store.manifest();
  const family = familyOf(head.manifest); // before any download: a family we cannot run costs one small request
  const before = loaded.get(opts.deployment);
  const key = `${head.bundleSha}:${head.variant ?? ''}`; // the same bundle served as another variant is another model
  const fresh = before?.sha !== key;
  if (fresh) {
    const entry = (async () => {
      const files = await store.load<never>((m, variant) => family.neededFiles(m, variant), head as never);
      return { model: await family.load(files), files };
    })();
    loaded.set(opts.deployment, { sha: key, entry });
    entry.catch(() => { if (loaded.get(opts.deployment)?.entry === entry) loaded.delete(opts.deployment); });
    void before?.entry.then(({ model }) => model.release(), () => undefined);
  }
  const { entry } = loaded.get(opts.deployment)!;
  const { model, files } = await entry;
  const info: ReadyInfo = {
    revision: files.revision, provider: model.provider, fallback: model.fallback, cacheable: files.cacheable,
    source: !fresh ? 'loaded' : files.downloadedBytes > 0 ? 'downloaded' : 'cached', downloadedBytes: fresh ? files.downloadedBytes : 0,
  };
  opts.onReady?.(info);
  const answer = await model.generate(opts);
  return { ...answer, ...info };
}
