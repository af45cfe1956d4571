// The embedded server's facade, for `ril serve` / `ril demo` (clients/cli): every route group on one node:http
// server, with the inference runtime in the same process. Kept apart from ./index.ts so that worker functions,
// which import only that facade, never load Apollo, onnxruntime-node or sharp.
export { createPlatform, listen, type Platform } from './http/server.js';
// The endpoint's own steps, for scoring a bundle exactly as it is served (functions/evaluate/bundle-answers.ts).
export { StudentRuntime } from './inference/runtime.js';
export { HfRuntime } from './inference/hfRuntime.js';
export { isHfManifest, readManifest } from './inference/bundle.js';
export { preprocessImage } from './inference/preprocess.js';
export { promptOf } from './inference/service.js';
