// Builds the dashboard (clients/web/src, plain TypeScript + uPlot) with esbuild, in memory, once per process:
// `ril serve` answers `/` with index.html and `/app.js`, `/app.css` with the bundle. No build step, no network.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIR = path.dirname(fileURLToPath(import.meta.url));

export interface DashboardAssets { files: Map<string, { body: Buffer; type: string }> }

let built: Promise<DashboardAssets> | null = null;

export function dashboardAssets(): Promise<DashboardAssets> {
  built ??= (async () => {
    const esbuild = await import('esbuild');
    const result = await esbuild.build({
      entryPoints: { app: path.join(DIR, 'src', 'main.ts') },
      bundle: true, write: false, format: 'esm', target: 'es2022', minify: true, sourcemap: false,
      outdir: '/', logLevel: 'silent', absWorkingDir: path.resolve(DIR, '..', '..'),
    });
    const files = new Map<string, { body: Buffer; type: string }>();
    for (const f of result.outputFiles) {
      const name = path.basename(f.path);
      files.set(`/${name}`, { body: Buffer.from(f.contents), type: name.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8' });
    }
    files.set('/', { body: fs.readFileSync(path.join(DIR, 'index.html')), type: 'text/html; charset=utf-8' });
    return { files };
  })().catch((err) => { built = null; throw err; });
  return built;
}
