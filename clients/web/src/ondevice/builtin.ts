// The built-in family (model_family "ril-vlm-v1", bundle formats 1 and 2) on the user's device: the bundle's
// tokenizer (byte-level, or tokenizer.json through @huggingface/tokenizers), its two graphs on onnxruntime-web, and
// the server's own prefill + decode loop (api/_lib/inference/loop.ts) with greedy argmax, so the answer's token ids
// are the endpoint's for the same image and question.
import {
  DEFAULT_MAX_TOKENS, generateOne, loadTokenizer, type BuiltinManifest, type LoopModel, type MakeTensor,
} from '../../../../api/_lib/browser.js';
import type { BundleFiles } from './bundleStore.js';
import type { Family, LoadedModel, OnDeviceAnswer, OnDeviceRequest } from './family.js';
import { imageToPixels } from './image.js';
import { createSessions, type Ort } from './ort.js';

type OrtTensor = InstanceType<Ort['Tensor']>;
const GREEDY = { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 };

export const builtinFamily: Family<BuiltinManifest> = {
  neededFiles: (m) => [m.graphs.prefill.file, m.graphs.decode.file, ...(m.tokenizer.type === 'hf-tokenizer-json' && m.tokenizer.file ? [m.tokenizer.file] : [])],

  async load(bundle: BundleFiles<BuiltinManifest>): Promise<LoadedModel> {
    const m = bundle.manifest;
    if (m.format_version !== 1 && m.format_version !== 2) throw new Error(`bundle format ${m.format_version} of the built-in family is not supported on the device`);
    const file = (name: string) => {
      const data = bundle.files.get(name);
      if (!data) throw new Error(`bundle file ${name} was not fetched`);
      return data;
    };
    const tokenizer = loadTokenizer(m.tokenizer, (name) => new TextDecoder().decode(file(name)));
    const { ort, provider, fallback, sessions: [prefill, decode] } = await createSessions([file(m.graphs.prefill.file), file(m.graphs.decode.file)]);
    const tensor = ((type: 'int64' | 'float32', data: BigInt64Array | Float32Array, dims: number[]) => new ort.Tensor(type, data as Float32Array, dims)) as MakeTensor<OrtTensor>;
    const [H, W] = m.preprocessing.image_size;
    const model: LoopModel<OrtTensor> = {
      prefill: prefill as LoopModel<OrtTensor>['prefill'], decode: decode as LoopModel<OrtTensor>['decode'], tensor, manifest: m, tokenizer,
      imageShape: [m.preprocessing.channels, H, W],
    };
    // as the server warms its sessions: the first answer's timings should not include onnxruntime's first-run set-up
    await generateOne(model, { pixelValues: new Float32Array(m.preprocessing.channels * H * W), promptIds: tokenizer.encodePrompt('warm up'), maxTokens: 4, sampling: GREEDY }, 4);

    async function generate(req: OnDeviceRequest): Promise<OnDeviceAnswer> {
      const t0 = performance.now();
      const { pixelValues, resizedFrom } = await imageToPixels(req.image, m.preprocessing);
      const t1 = performance.now();
      const promptIds = tokenizer.encodePrompt(req.question);
      const budget = m.model_config.max_seq_len - m.n_image_tokens - promptIds.length;
      if (budget <= 0) throw new Error(`the question is too long for this model (${promptIds.length} prompt tokens)`);
      const steps = Math.min(req.maxTokens ?? DEFAULT_MAX_TOKENS, budget);
      const g = await generateOne(model, { pixelValues, promptIds, maxTokens: steps, sampling: GREEDY, onToken: req.onToken }, steps);
      const totalMs = performance.now() - t0;
      return {
        answer: tokenizer.decode(g.tokenIds), tokenIds: g.tokenIds, finishReason: g.finishReason, preprocessMs: t1 - t0,
        ttftMs: t1 - t0 + g.firstTokenMs, totalMs, resizedFrom,
        tokensPerSecond: g.tokenIds.length > 1 && g.decodeMs > 0 ? (g.tokenIds.length - 1) / (g.decodeMs / 1000) : null,
      };
    }
    return { provider, fallback, generate, release: async () => { await Promise.all([prefill.release(), decode.release()]); } };
  },
};
