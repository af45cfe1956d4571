// `ril`: the platform's command line. Each domain is one module under commands/.
import { Command } from 'commander';
import { dataCommand } from './commands/data.js';
import { datasetsCommand } from './commands/datasets.js';
import { demoCommand } from './commands/demo.js';
import { deployCommand } from './commands/deploy.js';
import { evalCommand } from './commands/evals.js';
import { experimentsCommand } from './commands/experiments.js';
import { inferCommand } from './commands/infer.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { serveCommand } from './commands/serve.js';
import { teachersCommand } from './commands/teachers.js';
import { workerCommand } from './commands/worker.js';

const program = new Command('ril')
  .description('RIL platform: distil teacher VLMs into compact students (RIL_HOME, DATABASE_URL, PORT configure it)')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

serveCommand(program);
migrateCommand(program);
demoCommand(program);
dataCommand(program);
datasetsCommand(program);
teachersCommand(program);
keysCommand(program);
workerCommand(program);
experimentsCommand(program);
deployCommand(program);
evalCommand(program);
inferCommand(program);

await program.parseAsync(process.argv);
