// `npm run bench [-- [name] [options]]`: the platform's benchmarks. Without a name every one runs with the
// options given; with a name only that one. Add a benchmark by adding an entry here (its `main` takes the
// remaining arguments and returns the exit code). `bench:infer` stays separate: it trains a bundle first.
import { main as cli } from './cli.js';
import { main as queue } from './queue.js';

const BENCHMARKS: Record<string, (argv: string[]) => Promise<number>> = { queue, cli };

const argv = process.argv.slice(2);
const named = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
if (named && !(named in BENCHMARKS)) {
  console.error(`unknown benchmark ${named}; known: ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}
const selected = named ? [named] : Object.keys(BENCHMARKS);
let code = 0;
for (const name of selected) {
  try {
    code = Math.max(code, await BENCHMARKS[name](named ? argv.slice(1) : argv));
  } catch (err) {
    console.error(`benchmark ${name} failed: ${(err as Error).stack ?? err}`);
    code = Math.max(code, 1);
  }
}
process.exitCode = code;
