#!/usr/bin/env node
// The `ril` bin. Runs the compiled CLI (clients/cli/dist/main.js, built by scripts/build-cli.mjs: `npm run build:cli`,
// run by postinstall and `npm run build`) when that build is up to date with the sources, else the TypeScript
// sources through tsx (a checkout without a build, or with sources edited since: slower, same behaviour).
// Up to date = every source listed in dist/stamp.json still has the mtime it had when built (one stat per source).
//   RIL_CLI_FROM_SOURCE=1  always run the sources through tsx (the bench's baseline)
//   RIL_CLI_DIST=<dir>     use the build in <dir> instead of clients/cli/dist (tests, bench)
//   RIL_CLI_DEBUG=1        say on stderr which of the two runs, and why
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const dist = path.resolve(process.env.RIL_CLI_DIST || fileURLToPath(new URL('../dist/', import.meta.url)));

/** Why the build cannot be used, or undefined when it can. */
function notUpToDate() {
  if (process.env.RIL_CLI_FROM_SOURCE === '1') return 'RIL_CLI_FROM_SOURCE=1';
  let stamp;
  try {
    stamp = JSON.parse(fs.readFileSync(path.join(dist, 'stamp.json'), 'utf8'));
  } catch {
    return `no build in ${dist} (npm run build:cli)`;
  }
  for (const [file, mtime] of Object.entries(stamp.inputs ?? {})) {
    if (fs.statSync(path.join(root, file), { throwIfNoEntry: false })?.mtimeMs !== mtime) return `${file} changed since the build (npm run build:cli)`;
  }
  return Object.keys(stamp.inputs ?? {}).length ? undefined : `an empty stamp in ${dist}`;
}

const reason = notUpToDate();
if (process.env.RIL_CLI_DEBUG === '1') process.stderr.write(reason ? `ril: running the sources through tsx: ${reason}\n` : `ril: running the build in ${dist}\n`);
if (reason) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/main.ts');
} else {
  await import(pathToFileURL(path.join(dist, 'main.js')).href);
}
