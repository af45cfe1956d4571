// The library's facade for the browser (the dashboard's on-device runner, clients/web/src/ondevice/): the parts of
// the inference path that have no Node-only import, so the browser runs the server's own code for a student
// (tokenizers, next-token choice, the prefill + decode loop, the pixel normalisation; for Hugging Face students the
// chat-template messages, the sampler as a logits processor and the streamer around transformers.js's generate)
// instead of a copy. Everything
// exported here must stay Node-free: the dashboard build (scripts/build-web.mjs, esbuild for the browser) fails on a
// node: import, and .dependency-cruiser.cjs lets clients/web import this file and ./index.ts, ./server.ts only.
export { loadTokenizer, type StudentTokenizer, type TokenizerSpec } from './inference/tokenizer.js';
export { argmax, Sampler, type SamplingParams } from './inference/sampler.js';
export { generateOne, type LoopModel, type LoopSession, type LoopTensor, type MakeTensor } from './inference/loop.js';
export { normalise } from './inference/normalise.js';
export { DEFAULT_MAX_TOKENS, type GenerateRequest, type GenerateResult } from './inference/generation.js';
export type { PreprocessingSpec } from './inference/spec.js';
export type { BuiltinManifest, BundleManifest, HfManifest } from './inference/bundle.js';
export {
  HF_GRAPHS, HF_MODEL_FAMILY, hfChatMessages, hfDecode, hfGenerate, hfGraphFile, hfVariantFiles, type HfLib, type HfTokenizer,
} from './inference/hfGenerate.js';
