// Hugging Face students (model_family "hf-image-text-to-text", bundle format 3, docs/hf-bundles.md) on the user's
// device: @huggingface/transformers's web build (the library the server runs, in its Node build: hfRuntime.ts) on
// onnxruntime-web, with the server's own Node-free part of the loop (api/_lib/inference/hfGenerate.ts: the chat
// template's messages, our Sampler as the last logits processor, the streamer), so greedy token ids are the
// endpoint's for the same image and question.
// - Files: the config, processor, tokenizer and chat-template files plus the graphs of the variant the deployment
//   serves (the route's x-ril-variant), fetched by BundleStore (pinned to the manifest's sha256, verified, kept in
//   the Cache API). transformers.js reads them only through a custom cache (env.customCache) that answers from
//   those verified bytes in memory; its remote host is a name that cannot resolve (.invalid), and its fetch
//   (env.fetch) answers 404 for a file of that host the bundle lacks (optional files it probes) and refuses any
//   other URL: it never reaches huggingface.co, a CDN or anything else. Its own Cache API and WASM caches are off.
// - onnxruntime-web: transformers.js's web build imports `onnxruntime-web/webgpu` (the same onnxruntime-web version
//   as ./ort.ts's, one package), whose WebAssembly is ort-wasm-simd-threaded.asyncify.wasm: scripts/build-web.mjs
//   copies it to /ort/ and wasmPaths points there (never transformers.js's jsDelivr default).
// - The library is loaded on first use (a dynamic import: its own chunk), so neither the dashboard's first paint nor
//   the built-in family carries it.
import {
  DEFAULT_MAX_TOKENS, hfChatMessages, hfDecode, hfGenerate, hfVariantFiles, type HfManifest, type HfTokenizer,
} from '../../../../api/_lib/browser.js';
import type { BundleFiles } from './bundleStore.js';
import type { Family, LoadedModel, OnDeviceAnswer, OnDeviceRequest } from './family.js';
import { imageToRgb } from './image.js';
import { hasWebGpu, ORT_PATH, type Provider } from './ort.js';

type Transformers = typeof import('@huggingface/transformers');
const GREEDY = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };
/** transformers.js's "remote host": a reserved name (RFC 6761) that no request can reach; every file under it is
 * answered from memory (or 404), never fetched. */
const SOURCE = 'https://ril-bundle.invalid/';

/** The verified files of each loaded model, by transformers.js model id (ril/<bundle sha256>-<variant>-<n>: one per
 * load, so two deployments of one bundle never share an entry, nor transformers.js's memo of a file's metadata). */
const sources = new Map<string, Map<string, Uint8Array>>();
let loads = 0;

/** The file a transformers.js cache key or URL names under SOURCE, or null. */
function sourceFile(key: string): Uint8Array | null {
  if (!key.startsWith(SOURCE)) return null;
  const rest = key.slice(SOURCE.length);
  for (const [id, files] of sources) {
    if (rest.startsWith(`${id}/`)) return files.get(rest.slice(id.length + 1)) ?? null;
  }
  return null;
}

let library: Promise<Transformers> | null = null;
/** transformers.js, loaded once and set up to read only the verified bundle files and to run from /ort/. */
function transformers(): Promise<Transformers> {
  library ??= import('@huggingface/transformers').then((tf) => {
    const env = tf.env;
    env.allowLocalModels = false; // no /models/ path on this origin
    env.allowRemoteModels = true; // toward SOURCE only, which customCache answers
    env.remoteHost = SOURCE;
    env.remotePathTemplate = '{model}/';
    env.useBrowserCache = false; // BundleStore caches the verified files (by sha256)
    env.useFSCache = false;
    env.useWasmCache = false;
    env.useCustomCache = true;
    env.customCache = {
      match: async (request: string | Request) => {
        const data = sourceFile(typeof request === 'string' ? request : request.url);
        return data ? new Response(data as Uint8Array<ArrayBuffer>, { headers: { 'content-length': String(data.length), 'content-type': 'application/octet-stream' } }) : undefined;
      },
      put: async () => undefined, // nothing it fetches is kept: it fetches nothing
    } as never;
    env.fetch = (async (input: string | URL | Request) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      // a file the bundle does not have (transformers.js probes optional ones): absent, as on a model repository
      if (url.startsWith(SOURCE)) return new Response(null, { status: 404, statusText: 'Not Found' });
      throw new Error(`transformers.js asked for ${url}: on this device a model is read only from its verified bundle files`);
    }) as typeof fetch;
    const wasm = env.backends.onnx.wasm!;
    wasm.wasmPaths = new URL(ORT_PATH, location.origin).href; // replaces its jsDelivr default, set at import
    wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
    wasm.proxy = false;
    return tf;
  });
  return library;
}

type Processor = ((text: string, images: unknown[]) => Promise<Record<string, import('@huggingface/transformers').Tensor>>) & {
  tokenizer: HfTokenizer;
  apply_chat_template(messages: unknown, opts: unknown): string;
};

export const hfFamily: Family<HfManifest> = {
  neededFiles: (m, variant) => hfVariantFiles(m, variant ?? m.default_variant),

  async load(bundle: BundleFiles<HfManifest>): Promise<LoadedModel> {
    const m = bundle.manifest;
    const variantName = bundle.variant ?? m.default_variant;
    const variant = m.variants[variantName];
    if (!variant) throw new Error(`this bundle has no variant ${JSON.stringify(variantName)}; it has ${Object.keys(m.variants).join(', ')}`);
    const tf = await transformers();
    const id = `ril/${bundle.bundleSha}-${variantName}-${++loads}`;
    sources.set(id, bundle.files);
    try {
      const processor = await tf.AutoProcessor.from_pretrained(id) as unknown as Processor;
      const open = (device: Provider) => tf.AutoModelForImageTextToText.from_pretrained(id, { device, dtype: variant.sessions as never });
      let provider: Provider = 'wasm';
      let fallback: string | undefined;
      let model: Awaited<ReturnType<typeof open>>;
      if (await hasWebGpu()) {
        try {
          model = await open('webgpu');
          provider = 'webgpu';
        } catch (err) {
          fallback = `WebGPU failed (${(err as Error).message}); WASM instead`;
          model = await open('wasm');
        }
      } else {
        model = await open('wasm');
      }
      const tokenizer = processor.tokenizer;
      const eos = new Set(m.generation.eos_token_ids);
      const special = new Set(tokenizer.all_special_ids ?? []);
      const context = m.generation.max_position_embeddings;

      const prepare = async (image: InstanceType<Transformers['RawImage']>, question: string) => {
        const text = processor.apply_chat_template(hfChatMessages([{ role: 'user', text: question }]), { add_generation_prompt: true });
        return processor(text, [image]);
      };
      // as the server warms its model (hfRuntime.ts warmUp: a 32x32 mid-gray image, 2 tokens)
      const gray = new tf.RawImage(new Uint8ClampedArray(32 * 32 * 3).fill(127), 32, 32, 3);
      await hfGenerate(tf, model, tokenizer, eos, special, { inputs: await prepare(gray, 'warm up'), maxTokens: 2, sampling: GREEDY });

      async function generate(req: OnDeviceRequest): Promise<OnDeviceAnswer> {
        const t0 = performance.now();
        const rgb = await imageToRgb(req.image);
        const inputs = await prepare(new tf.RawImage(rgb.data, rgb.width, rgb.height, 3), req.question);
        const promptTokens = inputs.input_ids.dims[1];
        const room = context ? context - promptTokens : Infinity;
        if (room <= 0) throw new Error(`the question is too long for this model (${promptTokens} prompt tokens, image included, of ${context} positions)`);
        const t1 = performance.now();
        const g = await hfGenerate(tf, model, tokenizer, eos, special, { inputs, maxTokens: Math.min(req.maxTokens ?? DEFAULT_MAX_TOKENS, room), sampling: GREEDY, onToken: req.onToken });
        const n = g.tokenIds.length;
        const decodeMs = n ? g.endAt - g.firstAt : 0;
        return {
          answer: hfDecode(tokenizer, g.tokenIds, eos), tokenIds: g.tokenIds, finishReason: g.finishReason,
          // the processor resizes and normalises (transformers.js, as the family does): it counts as preprocessing
          preprocessMs: t1 - t0, ttftMs: (n ? g.firstAt : g.endAt) - t0, totalMs: g.endAt - t0,
          tokensPerSecond: n > 1 && decodeMs > 0 ? (n - 1) / (decodeMs / 1000) : null,
          resizedFrom: null, // the family's processor sizes every image itself, as on the server
        };
      }
      return {
        provider, fallback, generate,
        release: async () => { sources.delete(id); await model.dispose(); },
      };
    } catch (err) {
      sources.delete(id);
      throw err;
    }
  },
};
