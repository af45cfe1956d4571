// onnxruntime-web for the on-device runner: which build, which execution provider, where its WebAssembly comes from.
// - WebGPU when the browser has it (navigator.gpu with an adapter) and the sessions create on it: the JSEP build
//   (`onnxruntime-web`, ort-wasm-simd-threaded.jsep.wasm, which also runs the WASM provider should WebGPU fail).
//   Otherwise the WASM-only build (`onnxruntime-web/wasm`, the smaller ort-wasm-simd-threaded.wasm). Each is its
//   own dynamic import, so esbuild gives each its own chunk and a browser fetches only the one it uses.
// - The .wasm comes from this origin (/ort/, copied there by scripts/build-web.mjs), never a CDN.
// - One thread unless the page is cross-origin isolated (threads need SharedArrayBuffer, which needs isolation).
import type * as OrtModule from 'onnxruntime-web';

export type Ort = typeof OrtModule;
export type Provider = 'webgpu' | 'wasm';

/** Where scripts/build-web.mjs puts onnxruntime-web's runtime files. */
export const ORT_PATH = '/ort/';

export async function hasWebGpu(): Promise<boolean> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return false;
  try {
    return (await gpu.requestAdapter()) !== null;
  } catch {
    return false;
  }
}

function configure(ort: Ort): Ort {
  ort.env.wasm.wasmPaths = new URL(ORT_PATH, location.origin).href;
  ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;
  ort.env.wasm.proxy = false;
  return ort;
}

export interface OrtSessions {
  ort: Ort;
  provider: Provider;
  sessions: OrtModule.InferenceSession[];
  /** Why WebGPU was not used, when it was tried and failed (shown next to the provider). */
  fallback?: string;
}

/** Creates one session per graph on the best provider this browser has: all of them on WebGPU, or all on WASM. */
export async function createSessions(graphs: Uint8Array[]): Promise<OrtSessions> {
  const options = (provider: Provider): OrtModule.InferenceSession.SessionOptions => ({ executionProviders: [provider], graphOptimizationLevel: 'all' });
  let fallback: string | undefined;
  if (await hasWebGpu()) {
    const ort = configure(await import('onnxruntime-web'));
    try {
      return { ort, provider: 'webgpu', sessions: await Promise.all(graphs.map((g) => ort.InferenceSession.create(g, options('webgpu')))) };
    } catch (err) {
      fallback = `WebGPU failed (${(err as Error).message}); WASM instead`;
      return { ort, provider: 'wasm', fallback, sessions: await Promise.all(graphs.map((g) => ort.InferenceSession.create(g, options('wasm')))) };
    }
  }
  const ort = configure(await import('onnxruntime-web/wasm'));
  return { ort, provider: 'wasm', sessions: await Promise.all(graphs.map((g) => ort.InferenceSession.create(g, options('wasm')))) };
}
