// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// The fast CLI (issue 15): command groups load lazily, the bin runs a compiled build (scripts/build-cli.mjs) when it
// is up to date and the sources through tsx otherwise, `ril --version`, usage errors as one line with exit 2. Every
// check runs on a build made here into a temporary folder (RIL_CLI_DIST), some also on the sources
// (RIL_CLI_FROM_SOURCE=1). No timings: those are in the bench (npm run bench -- cli, docs/benchmarks.md).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from './helpers/cli.js';
import { REPO } from './helpers/python.js';
import { startServe } from './helpers/serve-process.js';

const GROUPS = ['serve', 'migrate', 'demo', 'data', 'datasets', 'teachers', 'keys', 'worker', 'workers', 'jobs', 'experiments', 'deploy', 'eval', 'infer'];
const VERSION = (JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
const TRACER = path.join(REPO, 'test', 'helpers', 'trace-modules.mjs');
/** What a remote command must not load: the server's runtime (Apollo, onnxruntime, sharp), Prisma and the drivers. */
const HEAVY = /node_modules\/(@apollo\/server|onnxruntime-node|onnxruntime-common|sharp|@prisma\/|prisma\/|better-sqlite3|pg\/|@aws-sdk\/)|\/generated\/(sqlite|postgres)\//;

let build: string;
let tmp: string;
// the environment of each way to run: the build made here, or the sources (nothing inherited chooses otherwise)
let COMPILED: Record<string, string | undefined>;
const SOURCE = { RIL_CLI_FROM_SOURCE: '1', RIL_CLI_DIST: undefined, RIL_CLI_DEBUG: undefined };

before(() => {
  // inside the repository (ignored /tmp/), so the build's bare imports resolve to its node_modules as they would from
  // clients/cli/dist
  fs.mkdirSync(path.join(REPO, 'tmp'), { recursive: true });
  build = fs.mkdtempSync(path.join(REPO, 'tmp', 'cli-build-'));
  execFileSync(process.execPath, [path.join(REPO, 'scripts', 'build-cli.mjs'), '--out', build], { stdio: 'pipe' });
  COMPILED = { RIL_CLI_DIST: build, RIL_CLI_FROM_SOURCE: undefined, RIL_CLI_DEBUG: undefined };
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-cli-fast-'));
});
after(() => {
  fs.rmSync(build, { recursive: true, force: true });
  fs.rmSync(tmp, { recursive: true, force: true });
});

const ok = (r: CliResult) => { assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`); return r.stdout; };

/** The files a command loads (test/helpers/trace-modules.mjs), and its result. */
async function trace(args: string[], env: Record<string, string | undefined>): Promise<{ r: CliResult; loaded: string[] }> {
  const file = path.join(tmp, `trace-${Math.random().toString(36).slice(2)}`);
  fs.writeFileSync(file, '');
  const r = await runCli(args, { ...env, RIL_TRACE_MODULES: file }, ['--import', TRACER]);
  return { r, loaded: fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) };
}

describe('the bin: the compiled build when it is up to date, else the sources', () => {
  test('which one runs: RIL_CLI_DEBUG=1 says', async () => {
    const says = async (env: Record<string, string | undefined>) => (await runCli(['--version'], { ...env, RIL_CLI_DEBUG: '1' })).stderr;
    assert.match(await says(COMPILED), /^ril: running the build in /);
    assert.match(await says(SOURCE), /^ril: running the sources through tsx: RIL_CLI_FROM_SOURCE=1/);
    // a source changed since the build (its mtime differs from the stamp's): the sources run
    const stale = fs.mkdtempSync(path.join(tmp, 'stale-'));
    const stamp = JSON.parse(fs.readFileSync(path.join(build, 'stamp.json'), 'utf8')) as { inputs: Record<string, number> };
    assert.ok(stamp.inputs['clients/cli/src/main.ts'] && stamp.inputs['api/_lib/index.ts'] && stamp.inputs['scripts/build-cli.mjs'], 'the stamp lists the sources built and the build script');
    assert.ok(!Object.keys(stamp.inputs).some((f) => f.includes('node_modules')), 'packages are not built in');
    fs.writeFileSync(path.join(stale, 'stamp.json'), JSON.stringify({ inputs: { ...stamp.inputs, 'clients/cli/src/output.ts': 1 } }));
    assert.match(await says({ ...COMPILED, RIL_CLI_DIST: stale }), /running the sources through tsx: clients\/cli\/src\/output\.ts changed since the build/);
    assert.match(await says({ ...COMPILED, RIL_CLI_DIST: path.join(tmp, 'none') }), /running the sources through tsx: no build in /);
  });

  test('every import.meta.url of the build is its source file\'s (files found relative to the sources resolve)', () => {
    let rewritten = 0;
    for (const f of fs.readdirSync(build).filter((n) => n.endsWith('.js'))) {
      const text = fs.readFileSync(path.join(build, f), 'utf8');
      const bare = text.split('import.meta.url').length - 1;
      const own = [...text.matchAll(/new URL\("([^"]+)", import\.meta\.url\)/g)];
      assert.equal(own.length, bare, `${f}: every import.meta.url is wrapped`);
      for (const [, rel] of own) assert.ok(fs.existsSync(path.resolve(build, rel)), `${f}: ${rel} is a source file`);
      rewritten += own.length;
    }
    assert.ok(rewritten >= 5, 'REPO_ROOT, migrations, schema, public/, the Prisma clients, package.json');
  });
});

describe('help and version (compiled and sources)', () => {
  test('ril --version prints the version of package.json', async () => {
    for (const env of [COMPILED, SOURCE]) {
      assert.equal(ok(await runCli(['--version'], env)), `${VERSION}\n`);
      assert.equal(ok(await runCli(['-V'], env)), `${VERSION}\n`);
    }
  });

  test('ril --help lists every command group; each group answers its own --help', async () => {
    const help = ok(await runCli(['--help'], COMPILED));
    assert.match(help, /^Usage: ril \[options\] \[command\]/);
    assert.match(help, /-V, --version/);
    const listed = [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...GROUPS, 'help']);
    for (const group of GROUPS) {
      const own = ok(await runCli([group, '--help'], COMPILED));
      assert.match(own, new RegExp(`^Usage: ril ${group} \\[options\\]`), group);
      const line = help.match(new RegExp(`^ {2}${group} +(.*)$`, 'm'))![1];
      assert.ok(own.replace(/\s+/g, ' ').includes(line), `${group}: its help has the description the top level lists`);
    }
  });

  test('ril eval --help lists its subcommands; ril help eval is the same text', async () => {
    const help = ok(await runCli(['eval', '--help'], COMPILED));
    const listed = [...help.slice(help.indexOf('Commands:')).matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, ['suites', 'suite', 'run', 'table', 'help']);
    assert.equal(ok(await runCli(['help', 'eval'], COMPILED)), help);
    assert.match(ok(await runCli(['eval', 'table', '--help'], COMPILED)), /--version <n> +suite version/, "the table's own --version");
  });

  test('the compiled build answers the same help text as the sources', async () => {
    for (const args of [['--help'], ['eval', '--help'], ['eval', 'run', '--help'], ['experiments', 'create', '--help'], ['serve', '--help'], ['teachers', 'fill', '--help'], ['demo', '--help']]) {
      assert.equal(ok(await runCli(args, COMPILED)), ok(await runCli(args, SOURCE)), args.join(' '));
    }
  });
});

describe('usage errors: exit 2, one line on stderr, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['data', 'fashion-mnist', '--out', 'x', '--limit', 'abc'], /^error: option '--limit <n>' argument 'abc' is invalid\. not an integer: abc$/],
    [['experiments', 'start', 'x', '--seed', '1.5'], /^error: option '--seed <n>' argument '1\.5' is invalid\. not an integer: 1\.5$/],
    [['infer', '--deployment', 'd', '--image', 'x.png', '--question', 'q', '--temperature', 'hot'], /^error: option '--temperature <t>' argument 'hot' is invalid\. not a number: hot$/],
    [['serve', '--port', 'http'], /^error: option '--port <port>' argument 'http' is invalid/],
    [['eval', 'suites', '--bogus'], /^error: unknown option '--bogus'$/],
    [['infer', '--image', 'x.png', '--question', 'q'], /^error: required option '--deployment <name>' not specified$/],
    [['evl'], /^error: unknown command 'evl' \(Did you mean eval\?\)$/],
    [['eval', 'tabel'], /^error: unknown command 'tabel' \(Did you mean table\?\)$/],
  ];
  test('bad option values, unknown options and commands, missing required options', async () => {
    for (const [args, message] of cases) {
      const r = await runCli(args, { ...COMPILED, RIL_API_URL: 'http://127.0.0.1:1', RIL_API_KEY: 'ril_x' });
      assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.equal(r.stderr.split('\n').length, 2, `${args.join(' ')}: one line: ${r.stderr}`);
      assert.match(r.stderr.trimEnd(), message);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
    // the sources say the same
    const [args, message] = cases[0];
    const r = await runCli(args, SOURCE);
    assert.equal(r.code, 2);
    assert.match(r.stderr.trimEnd(), message);
  });
});

describe('lazy loading: a group loads only its own modules', () => {
  test('remote commands do not load Apollo, onnxruntime, sharp, Prisma or the database drivers', async () => {
    const remote: string[][] = [['eval', '--help'], ['experiments', 'list', '--api-url', 'http://127.0.0.1:1', '--api-key', 'ril_x'], ['deploy', '--help'], ['infer', '--help']];
    for (const [env, runs] of [[COMPILED, remote], [SOURCE, remote.slice(0, 2)]] as const) {
      for (const args of runs) {
        const { r, loaded } = await trace(args, env);
        if (args[1] === 'list') assert.match(r.stderr, /NETWORK_ERROR/, 'it got as far as asking the API');
        else ok(r);
        assert.ok(loaded.some((f) => f.includes('node_modules/commander/')), `${args.join(' ')}: the tracer saw commander`);
        const heavy = loaded.filter((f) => HEAVY.test(f));
        assert.deepEqual(heavy, [], `${args.join(' ')} (${env === SOURCE ? 'sources' : 'build'}) loaded the server's dependencies`);
        if (env === SOURCE) assert.deepEqual(loaded.filter((f) => f.includes('/api/_lib/')), [], `${args.join(' ')}: no platform library module`);
      }
    }
  });

  test('ril --help and --version load commander and nothing else from node_modules', async () => {
    for (const args of [['--help'], ['--version']]) {
      const { r, loaded } = await trace(args, COMPILED);
      ok(r);
      const packages = new Set(loaded.map((f) => f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1]).filter(Boolean));
      assert.deepEqual([...packages], ['commander'], args.join(' '));
    }
  });

  test('the tracer sees the heavy modules where they belong (ril serve --help)', async () => {
    const { r, loaded } = await trace(['serve', '--help'], COMPILED);
    ok(r);
    for (const pkg of ['@apollo/server', 'onnxruntime-node', 'sharp']) assert.ok(loaded.some((f) => f.includes(`node_modules/${pkg}/`)), pkg);
  });
});

describe('the compiled build finds the files it reads relative to the sources', () => {
  test('ril migrate on a fresh RIL_HOME, then up to date', async () => {
    const home = path.join(tmp, 'migrate-home');
    const first = JSON.parse(ok(await runCli(['migrate', '--json'], { ...COMPILED, RIL_HOME: home, DATABASE_URL: undefined })));
    assert.equal(first.provider, 'sqlite');
    const migrations = fs.readdirSync(path.join(REPO, 'prisma', 'migrations', 'sqlite')).filter((d) => /^\d/.test(d)).sort();
    assert.deepEqual(first.applied, migrations, 'every migration of prisma/migrations/sqlite');
    assert.deepEqual(JSON.parse(ok(await runCli(['migrate', '--json'], { ...COMPILED, RIL_HOME: home, DATABASE_URL: undefined }))).applied, []);
  });

  test('ril serve starts from the build: health, GraphQL (schema.graphql), the bootstrap key', async () => {
    const home = path.join(tmp, 'serve-home');
    const serve = await startServe({ home, extra: { RIL_CLI_DIST: build, RIL_CLI_DEBUG: '1' } });
    try {
      assert.match(serve.stderr(), /^ril: running the build in /);
      const key = serve.stdout().match(/Admin key \(shown once, store it now\):\n\s+(\S+)/)?.[1];
      assert.ok(key, serve.stdout());
      const res = await fetch(`${serve.url}/graphql`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
        body: JSON.stringify({ query: '{ datasets { edges { node { id } } } }' }),
      });
      assert.deepEqual(await res.json(), { data: { datasets: { edges: [] } } });
    } finally {
      await serve.stop();
    }
  });
});
