#!/usr/bin/env node
// Traces every Vercel function under api/ the way Vercel does (@vercel/nft on the compiled JavaScript, then
// vercel.json's includeFiles / excludeFiles), prints each function's traced size and file count, and fails when a
// function is over Vercel's 250 MB limit (uncompressed) or carries a package it must not load:
//   - the GraphQL, cron and metrics functions: no onnxruntime-node, no sharp (inference runs in the /v1 functions);
//   - the bundle file function (/v1/deployments/<name>/bundle/<file>): none either (it serves files, runs nothing);
//   - the inference and metrics functions (/v1/*, api/metrics.ts): no Apollo Server;
//   - every function: no SQLite driver (functions require PostgreSQL).
// Usage: node scripts/check-functions.mjs [--json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { nodeFileTrace } from '@vercel/nft';
import picomatch from 'picomatch';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LIMIT = 250 * 1024 * 1024;
const OUT = path.join(ROOT, '.vercel-trace');

const FORBIDDEN = [
  { fn: /^api\/(graphql|metrics|cron\/.*)\.ts$/, pkgs: ['onnxruntime-node', 'sharp'] },
  { fn: /^api\/v1\/deployments\//, pkgs: ['onnxruntime-node', 'sharp'] },
  { fn: /^api\/(v1\/|metrics\.ts$)/, pkgs: ['@apollo/server'] },
  { fn: /./, pkgs: ['better-sqlite3', '@prisma/adapter-better-sqlite3'] },
];

const walk = (dir) => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
  const p = path.join(dir, e.name);
  return e.isDirectory() ? walk(p) : [p];
});

/** The function entry points: every .ts under api/ whose path has no segment starting with "_". */
export function functionEntries(root = ROOT) {
  return walk(path.join(root, 'api')).map((f) => path.relative(root, f))
    .filter((f) => f.endsWith('.ts') && !f.split('/').some((s) => s.startsWith('_'))).sort();
}

async function main() {
  const json = process.argv.includes('--json');
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'vercel.json'), 'utf8'));
  const entries = functionEntries();
  // Compile api/ and functions/ to JavaScript beside the sources' layout (imports already name .js files), as
  // @vercel/node does before tracing; links let the compiled tree resolve packages and generated clients.
  fs.rmSync(OUT, { recursive: true, force: true });
  const sources = [...walk(path.join(ROOT, 'api')), ...walk(path.join(ROOT, 'functions'))].filter((f) => f.endsWith('.ts'));
  await build({ entryPoints: sources, outdir: OUT, outbase: ROOT, format: 'esm', platform: 'node', target: 'node20', bundle: false, logLevel: 'error' });
  for (const link of ['node_modules', 'generated', 'prisma', 'schema.graphql', 'package.json']) fs.symlinkSync(path.join(ROOT, link), path.join(OUT, link));

  const rows = [];
  let failed = false;
  for (const entry of entries) {
    const fnConfig = Object.entries(config.functions ?? {}).filter(([glob]) => picomatch(glob)(entry)).map(([, c]) => c).reduce((a, c) => ({ ...a, ...c }), {});
    const js = path.join(OUT, entry.replace(/\.ts$/, '.js'));
    const { fileList } = await nodeFileTrace([js], { base: ROOT, processCwd: OUT });
    // compiled sources count as what Vercel ships for them: the same path without the trace folder
    let files = [...fileList].map((f) => f.replace(/^\.vercel-trace\//, ''));
    if (fnConfig.includeFiles) {
      const inc = picomatch(fnConfig.includeFiles);
      files.push(...walk(ROOT).map((f) => path.relative(ROOT, f)).filter((f) => !f.startsWith('node_modules/') && !f.startsWith('.') && inc(f)));
    }
    if (fnConfig.excludeFiles) {
      const exc = picomatch(fnConfig.excludeFiles, { dot: true });
      files = files.filter((f) => !exc(f));
    }
    files = [...new Set(files)];
    let bytes = 0;
    for (const f of files) {
      try { bytes += fs.statSync(path.join(fs.existsSync(path.join(OUT, f)) ? OUT : ROOT, f)).size; } catch { /* a directory entry or a dangling optional file */ }
    }
    const packages = [...new Set(files.filter((f) => f.startsWith('node_modules/')).map((f) => {
      const parts = f.split('/');
      return parts[1].startsWith('@') ? `${parts[1]}/${parts[2]}` : parts[1];
    }))];
    const bad = FORBIDDEN.filter((r) => r.fn.test(entry)).flatMap((r) => r.pkgs).filter((p) => packages.includes(p));
    const over = bytes > LIMIT;
    if (over || bad.length) failed = true;
    rows.push({ function: entry, files: files.length, mb: +(bytes / 1024 / 1024).toFixed(1), packages: packages.length, forbidden: bad, overLimit: over });
  }
  fs.rmSync(OUT, { recursive: true, force: true });
  if (json) console.log(JSON.stringify(rows, null, 2));
  else {
    console.log('function                          files   traced MB  packages  problems');
    for (const r of rows) {
      const problems = [...(r.overLimit ? ['over 250 MB'] : []), ...r.forbidden.map((p) => `loads ${p}`)].join(', ') || 'ok';
      console.log(`${r.function.padEnd(33)} ${String(r.files).padStart(5)} ${r.mb.toFixed(1).padStart(11)} ${String(r.packages).padStart(9)}  ${problems}`);
    }
  }
  if (failed) {
    console.error('check-functions: a function is over the size limit or loads a package it must not');
    process.exit(1);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
