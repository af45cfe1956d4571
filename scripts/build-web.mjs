// `npm run build:web`: bundles the dashboard (clients/web: plain TypeScript + uPlot) once, with esbuild, into static
// files: <out>/index.html, <out>/app.js, <out>/app.css (default out: public/). `ril serve` serves them at /, and on
// Vercel they are the deployment's static output (outputDirectory public). Run by postinstall and `npm run build`.
//   node scripts/build-web.mjs [--out <dir>]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const out = path.resolve(at > 0 ? process.argv[at + 1] : path.join(root, 'public'));
const web = path.join(root, 'clients', 'web');

fs.mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: { app: path.join(web, 'src', 'main.ts') },
  bundle: true, format: 'esm', target: 'es2022', minify: true, sourcemap: false,
  outdir: out, logLevel: 'warning', absWorkingDir: root,
});
fs.copyFileSync(path.join(web, 'index.html'), path.join(out, 'index.html'));
for (const f of ['index.html', 'app.js', 'app.css']) {
  if (!fs.existsSync(path.join(out, f))) throw new Error(`build:web did not produce ${f}`);
}
console.log(`dashboard built into ${path.relative(process.cwd(), out) || '.'}`);
