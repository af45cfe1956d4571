// `npm run build:cli`: compiles the `ril` CLI with esbuild into plain JavaScript, once, so that the bin does not
// transpile TypeScript at each run (postinstall and `npm run build` run it). Default out: clients/cli/dist/ (ignored).
//   node scripts/build-cli.mjs [--out <dir>]
//
// - One entry, clients/cli/src/main.ts, bundled with the repository's own TypeScript it imports (clients/cli, the
//   SDK, api/_lib, functions/); every npm package stays external (loaded from node_modules at run time, as from
//   the sources). Code splitting keeps main.ts's lazy `import()` of each command group: `ril --help` loads only
//   main.js (and commander), `ril eval ...` adds the chunks of the eval commands, never those of the server.
// - import.meta.url: the library finds files relative to its sources (REPO_ROOT, schema.graphql, prisma/migrations,
//   public/, the generated Prisma clients through createRequire). In the build each source file's
//   `import.meta.url` is replaced by that file's own URL, computed from the output file's location
//   (`new URL('<relative path to the .ts file>', import.meta.url)`), so every such path resolves as from the
//   sources, and a moved checkout keeps working.
// - <out>/stamp.json lists the sources it was built from with their mtimes; clients/cli/bin/ril.js runs the build
//   only when every one of them is unchanged, otherwise the sources through tsx. The stamp is written last (and
//   removed first), so a failed or partial build is never taken for an up-to-date one.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const out = path.resolve(at > 0 ? process.argv[at + 1] : path.join(root, 'clients', 'cli', 'dist'));
const entry = path.join(root, 'clients', 'cli', 'src', 'main.ts');
const posix = (p) => p.split(path.sep).join('/');

// an --out that holds anything but an earlier build is refused rather than emptied
if (fs.existsSync(out) && fs.readdirSync(out).length && !fs.existsSync(path.join(out, 'main.js')) && !fs.existsSync(path.join(out, 'stamp.json'))) {
  throw new Error(`build:cli: ${out} is not empty and holds no earlier build; refusing to overwrite it`);
}
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });

/** Gives each of our source files its own import.meta.url (see above). All output files lie directly in `out`. */
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.[cm]?ts$/ }, async (args) => {
      if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
      const text = await fs.promises.readFile(args.path, 'utf8');
      if (/import\.meta\.(dirname|filename|resolve)\b/.test(text)) {
        throw new Error(`${path.relative(root, args.path)}: import.meta.dirname/filename/resolve are not rewritten by scripts/build-cli.mjs; use import.meta.url`);
      }
      const own = `new URL(${JSON.stringify(posix(path.relative(out, args.path)))}, import.meta.url).href`;
      return { contents: text.replaceAll('import.meta.url', own), loader: 'ts', resolveDir: path.dirname(args.path) };
    });
  },
};

const started = Date.now();
const result = await esbuild.build({
  entryPoints: { main: entry },
  bundle: true, splitting: true, format: 'esm', platform: 'node', target: 'node20',
  packages: 'external', outdir: out, chunkNames: '[name]-[hash]', sourcemap: 'linked',
  metafile: true, logLevel: 'warning', absWorkingDir: root, plugins: [sourceUrls],
  banner: { js: '// built by scripts/build-cli.mjs from clients/cli/src (npm run build:cli); do not edit' },
});

// the stamp: every source the build read, and this script, with their mtimes (-1: changed while building)
const inputs = {};
for (const file of [...Object.keys(result.metafile.inputs), 'scripts/build-cli.mjs']) {
  const mtime = fs.statSync(path.join(root, file)).mtimeMs;
  inputs[posix(file)] = mtime > started ? -1 : mtime;
}
fs.writeFileSync(path.join(out, 'stamp.json'), JSON.stringify({ builtAt: new Date().toISOString(), inputs }, null, 1) + '\n');
if (!fs.existsSync(path.join(out, 'main.js'))) throw new Error('build:cli did not produce main.js');
console.log(`CLI built into ${path.relative(process.cwd(), out) || '.'} (${Object.keys(inputs).length} sources)`);
