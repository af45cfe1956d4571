// `npm run build:web`: bundles the dashboard (clients/web: plain TypeScript + uPlot) once, with esbuild, into static
// files: <out>/index.html, <out>/app.js, <out>/app.css (default out: public/). `ril serve` serves them at /, and on
// Vercel they are the deployment's static output (outputDirectory public). Run by postinstall and `npm run build`.
// The on-device runner (clients/web/src/ondevice/, onnxruntime-web) is a dynamic import: esbuild splits it into
// <out>/chunks/*.js, loaded only when a user runs a student on their device, so the first paint does not fetch it.
// onnxruntime-web's WebAssembly runtime is copied into <out>/ort/ and loaded from this origin (ort.env.wasm.wasmPaths
// = '/ort/'): edge users may have no route to a CDN. The plain build for the WASM execution provider and the JSEP
// build for WebGPU (its .wasm also runs the WASM provider). Hugging Face students run on @huggingface/transformers's
// web build (its own chunk, loaded only for them), which imports `onnxruntime-web/webgpu` of the same onnxruntime-web
// package: that build's WebAssembly is the asyncify one (ort-wasm-simd-threaded.asyncify.wasm), copied too.
//   node scripts/build-web.mjs [--out <dir>]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const out = path.resolve(at > 0 ? process.argv[at + 1] : path.join(root, 'public'));
const web = path.join(root, 'clients', 'web');

/** onnxruntime-web's runtime files the on-device runner loads (clients/web/src/ondevice/ort.ts picks the build). */
export const ORT_FILES = [
  'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.jsep.wasm', 'ort-wasm-simd-threaded.jsep.mjs',
  'ort-wasm-simd-threaded.asyncify.wasm', 'ort-wasm-simd-threaded.asyncify.mjs',
];

fs.mkdirSync(out, { recursive: true });
// chunks of an earlier build would pile up (their names carry a hash): start the folder afresh
fs.rmSync(path.join(out, 'chunks'), { recursive: true, force: true });
const result = await esbuild.build({
  entryPoints: { app: path.join(web, 'src', 'main.ts') },
  bundle: true, format: 'esm', splitting: true, chunkNames: 'chunks/[name]-[hash]', target: 'es2022', minify: true, sourcemap: false,
  platform: 'browser', outdir: out, logLevel: 'warning', absWorkingDir: root, metafile: true,
});
const ortDir = path.join(out, 'ort');
fs.mkdirSync(ortDir, { recursive: true });
const ortDist = path.join(root, 'node_modules', 'onnxruntime-web', 'dist');
for (const f of ORT_FILES) {
  const from = path.join(ortDist, f);
  const to = path.join(ortDir, f);
  // copied only when changed: the .wasm files are tens of MB
  const same = fs.existsSync(to) && fs.statSync(to).size === fs.statSync(from).size && fs.statSync(to).mtimeMs >= fs.statSync(from).mtimeMs;
  if (!same) fs.copyFileSync(from, to);
}
fs.copyFileSync(path.join(web, 'index.html'), path.join(out, 'index.html'));
for (const f of ['index.html', 'app.js', 'app.css']) {
  if (!fs.existsSync(path.join(out, f))) throw new Error(`build:web did not produce ${f}`);
}
const kb = (f) => `${(fs.statSync(path.join(out, f)).size / 1024).toFixed(0)} kB`;
const chunks = Object.keys(result.metafile.outputs).map((f) => path.relative(out, path.resolve(root, f))).filter((f) => f.startsWith('chunks/'));
console.log(`dashboard built into ${path.relative(process.cwd(), out) || '.'}: app.js ${kb('app.js')} (first paint); on demand: ${chunks.map((f) => `${f} ${kb(f)}`).join(', ')}`);
