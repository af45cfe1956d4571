// The CLI's start-up time (issue 15: `ril --help` under 200 ms, median of 10): `ril --help`, `ril --version` and
// `ril eval --help` through the bin as users run it (the compiled build, clients/cli/dist, made by
// `npm run build:cli` / postinstall; rebuilt here first when it is missing or older than the sources), against the
// baseline in the same run: the same commands from the TypeScript sources through tsx (RIL_CLI_FROM_SOURCE=1).
//
// Measured with hyperfine (Debian package `hyperfine`: apt-get install hyperfine) when it is installed:
//   hyperfine -N --warmup 2 --runs 10 --export-json <tmp> 'node clients/cli/bin/ril.js --help' ...
// otherwise with a timing loop of its own (spawnSync, the same warm-up and runs), said so in the output. A last row
// times `node -e 0`, node's own start on this machine: the floor under every number above it.
//
// CLI (through bench/run.ts): npm run bench -- cli [--runs N] [--warmup N] [--json]   (or npm run bench:cli)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = 'clients/cli/bin/ril.js';
const CASES = [['--help'], ['--version'], ['eval', '--help']];
const BUDGET_MS = 200;

interface Timing { median: number; min: number; max: number; mean: number }
export interface CliBenchRow { command: string; compiled: Timing; sources: Timing; ratio: number }
const NODE_ALONE = 'node -e 0';

/** The environment of the measured commands: nothing inherited chooses the build or the sources for them. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['RIL_CLI_FROM_SOURCE', 'RIL_CLI_DIST', 'RIL_CLI_DEBUG']) delete env[k];
  return env;
}

/** Makes sure the bin runs the compiled build (builds clients/cli/dist when it is missing or stale). */
function ensureBuilt(env: NodeJS.ProcessEnv, log: (s: string) => void) {
  const which = () => spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, env: { ...env, RIL_CLI_DEBUG: '1' }, encoding: 'utf8' }).stderr;
  let says = which();
  if (!says.startsWith('ril: running the build')) {
    log(`# ${says.trim()}: building it (npm run build:cli)`);
    const built = spawnSync(process.execPath, ['scripts/build-cli.mjs'], { cwd: ROOT, env, encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`npm run build:cli failed:\n${built.stdout}${built.stderr}`);
    says = which();
    if (!says.startsWith('ril: running the build')) throw new Error(`the bin still does not run the build: ${says}`);
  }
}

function hyperfineVersion(): string | undefined {
  const r = spawnSync('hyperfine', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const seconds = (r: { median: number; min: number; max: number; mean: number }): Timing =>
  ({ median: r.median * 1000, min: r.min * 1000, max: r.max * 1000, mean: r.mean * 1000 });

/** hyperfine over every command at once; returns the timings in the order given. */
function withHyperfine(commands: string[], runs: number, warmup: number, env: NodeJS.ProcessEnv, json: boolean): Timing[] {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bench-cli-')), 'hyperfine.json');
  try {
    const args = ['-N', '--warmup', String(warmup), '--runs', String(runs), '--export-json', out, ...commands];
    // hyperfine's own report goes to stderr with --json (stdout keeps one JSON document), else to stdout
    const r = spawnSync('hyperfine', args, { cwd: ROOT, env, stdio: ['ignore', json ? process.stderr : 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`hyperfine exited ${r.status}`);
    const results = (JSON.parse(fs.readFileSync(out, 'utf8')) as { results: { command: string; median: number; min: number; max: number; mean: number }[] }).results;
    return commands.map((c) => seconds(results.find((x) => x.command === c)!));
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

/** Without hyperfine: spawnSync each command `warmup` times, then `runs` times measured. */
function withLoop(commands: string[], runs: number, warmup: number, env: NodeJS.ProcessEnv): Timing[] {
  return commands.map((command) => {
    const [exe, ...args] = command.split(' ');
    const once = () => {
      const t0 = performance.now();
      const r = spawnSync(exe, args, { cwd: ROOT, env, stdio: 'ignore' });
      if (r.status !== 0) throw new Error(`${command} exited ${r.status}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < warmup; i++) once();
    const times = Array.from({ length: runs }, once).sort((a, b) => a - b);
    const mid = times.length / 2;
    return {
      median: times.length % 2 ? times[Math.floor(mid)] : (times[mid - 1] + times[mid]) / 2,
      min: times[0], max: times[times.length - 1], mean: times.reduce((a, b) => a + b, 0) / times.length,
    };
  });
}

export async function main(argv: string[]): Promise<number> {
  // not strict: `npm run bench -- --jobs 100` passes the queue benchmark's options here too
  const { values } = parseArgs({ args: argv, strict: false, options: { runs: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' }, json: { type: 'boolean', default: false } } });
  const int = (name: string, s: unknown) => {
    if (typeof s !== 'string' || !/^\d+$/.test(s)) throw new Error(`--${name} must be a non-negative integer, got ${JSON.stringify(s)}`);
    return Number(s);
  };
  const runs = Math.max(1, int('runs', values.runs));
  const warmup = int('warmup', values.warmup);
  const json = Boolean(values.json);
  const log = (s: string) => { if (json) console.error(s); else console.log(s); };

  const env = cleanEnv();
  ensureBuilt(env, log);
  const compiled = CASES.map((a) => `node ${BIN} ${a.join(' ')}`);
  // `env` (the program) sets the variable: hyperfine -N runs commands without a shell
  const sources = CASES.map((a) => `env RIL_CLI_FROM_SOURCE=1 node ${BIN} ${a.join(' ')}`);
  const hyperfine = hyperfineVersion();
  const loadBefore = os.loadavg();
  const machine = { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
  log(`# ril CLI start-up: ${CASES.length} commands, compiled build vs sources (tsx); --warmup ${warmup} --runs ${runs}; ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, ${machine.date}, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  let timings: Timing[];
  if (hyperfine) {
    log(`# measured with ${hyperfine}`);
    timings = withHyperfine([...compiled, ...sources, NODE_ALONE], runs, warmup, env, json);
  } else {
    log('# hyperfine is not installed (Debian: apt-get install hyperfine); timing with a spawnSync loop of its own instead');
    timings = withLoop([...compiled, ...sources, NODE_ALONE], runs, warmup, env);
  }
  const loadAfter = os.loadavg();
  const rows: CliBenchRow[] = CASES.map((a, i) => ({
    command: `ril ${a.join(' ')}`, compiled: timings[i], sources: timings[CASES.length + i], ratio: timings[CASES.length + i].median / timings[i].median,
  }));
  const nodeAlone = timings[2 * CASES.length];
  const help = rows[0];
  const verdict = help.compiled.median < BUDGET_MS;
  const ms = (v: number) => v.toFixed(1);
  if (json) {
    console.log(JSON.stringify({ tool: hyperfine ?? 'spawnSync loop', runs, warmup, machine, loadAverage: { before: loadBefore, after: loadAfter }, budgetMs: BUDGET_MS, budgetMet: verdict, rows, nodeAlone }, null, 2));
  } else {
    console.log(`\n| command | compiled median ms | compiled min-max ms | sources (tsx) median ms | sources min-max ms | sources / compiled |`);
    console.log('|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(`| ${r.command} | ${ms(r.compiled.median)} | ${ms(r.compiled.min)}-${ms(r.compiled.max)} | ${ms(r.sources.median)} | ${ms(r.sources.min)}-${ms(r.sources.max)} | ${r.ratio.toFixed(1)}x |`);
    }
    console.log(`| ${NODE_ALONE} (node's own start) | ${ms(nodeAlone.median)} | ${ms(nodeAlone.min)}-${ms(nodeAlone.max)} | | | |`);
    console.log(`\nload average after: ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`budget: ril --help median ${ms(help.compiled.median)} ms ${verdict ? '<' : '>='} ${BUDGET_MS} ms: ${verdict ? 'met' : 'NOT met'}`);
  }
  return 0;
}
