// `ril`: the platform's command line. Each command group is one module under commands/, loaded only when that group
// is invoked: this file knows each group's name and description and nothing more, so `ril --help` and
// `ril --version` load commander alone, and a remote group (experiments, deploy, eval, infer) never loads what the
// server needs (Apollo, onnxruntime-node, sharp, Prisma and the database adapters).
//
// Usage errors (an unknown command or option, a bad option value, a missing required option) print one line,
// `error: ...`, on stderr and exit 2; --help and --version exit 0; a failing command prints `error: ...` and exits 1.
import fs from 'node:fs';
import { Command } from 'commander';

/** A group's module adds its options, subcommands and actions to the group's command, made here. */
type Define = (cmd: Command) => void;

/** The command groups, in the order `ril --help` lists them: name, description, and how to load the definition. */
const GROUPS: readonly { name: string; description: string; load: () => Promise<Define> }[] = [
  { name: 'serve', description: 'run the API (GraphQL, blobs) on PORT', load: async () => (await import('./commands/serve.js')).serveCommand },
  { name: 'migrate', description: 'apply pending database migrations (idempotent; a release step)', load: async () => (await import('./commands/migrate.js')).migrateCommand },
  { name: 'demo', description: 'Fashion-MNIST VQA + teacher caches, a short RIL vs Dr.GRPO run, deploy, infer, then serve', load: async () => (await import('./commands/demo.js')).demoCommand },
  { name: 'data', description: 'build demo datasets', load: async () => (await import('./commands/data.js')).dataCommand },
  { name: 'datasets', description: 'import, list and export datasets', load: async () => (await import('./commands/datasets.js')).datasetsCommand },
  { name: 'teachers', description: 'register teachers, import and fill their response caches', load: async () => (await import('./commands/teachers.js')).teachersCommand },
  { name: 'keys', description: 'API keys (stored hashed; a secret is shown once)', load: async () => (await import('./commands/keys.js')).keysCommand },
  { name: 'worker', description: 'start a worker: Python training (TRAIN/EVALUATE over the API) or teacher fills (TEACHER_FILL, on the database)', load: async () => (await import('./commands/worker.js')).workerCommand },
  { name: 'workers', description: 'registered workers: GPUs, their memory, bf16 (RIL_API_URL, RIL_API_KEY)', load: async () => (await import('./commands/queue.js')).workersCommand },
  { name: 'jobs', description: 'the job queue: what each job needs and what a queued one waits for (RIL_API_URL, RIL_API_KEY)', load: async () => (await import('./commands/queue.js')).jobsCommand },
  { name: 'experiments', description: 'experiments and their runs on a running platform (RIL_API_URL, RIL_API_KEY)', load: async () => (await import('./commands/experiments.js')).experimentsCommand },
  { name: 'deploy', description: 'student bundles and deployments on a running platform (RIL_API_URL, RIL_API_KEY)', load: async () => (await import('./commands/deploy.js')).deployCommand },
  { name: 'eval', description: 'evaluation suites and their comparison tables (RIL_API_URL, RIL_API_KEY)', load: async () => (await import('./commands/evals.js')).evalCommand },
  { name: 'infer', description: 'ask a deployed student about an image; streams the answer', load: async () => (await import('./commands/infer.js')).inferCommand },
];

/** The version of the platform's package.json (found from this file: the compiled build keeps the sources' URLs). */
function version(): string {
  return (JSON.parse(fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const program = new Command('ril')
  .description('RIL platform: distil teacher VLMs into compact students (RIL_HOME, DATABASE_URL, PORT configure it)')
  .version(version(), '-V, --version', 'print the version')
  // program options only before the group: `ril eval table --version 1` is the table's --version
  .enablePositionalOptions()
  // one line per usage error: commander's suggestion ("(Did you mean eval?)") joins the error's line
  .configureOutput({ outputError: (text, write) => write(text.trimEnd().replace(/\s*\n\s*/g, ' ') + '\n') })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

// Every group is declared (so the top-level help lists them all); only the invoked one (`ril <group> ...` or
// `ril help <group>`) gets its definition, settings inherited from the program at .command().
const args = process.argv.slice(2);
const invoked = args[0] === 'help' ? args[1] : args[0];
for (const group of GROUPS) {
  const cmd = program.command(group.name).description(group.description);
  if (group.name === invoked) (await group.load())(cmd);
}

await program.parseAsync(process.argv);
