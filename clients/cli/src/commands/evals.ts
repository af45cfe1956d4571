// `ril eval ...`: evaluation suites and their comparison table on a running platform, through the SDK
// (RIL_API_URL / RIL_API_KEY). The table's text formats are the pure functions of ../evalTable.ts.
import type { Command } from 'commander';
import { CreateEvalSuiteDocument, EvalSuitesDocument, EvaluationTableDocument, RilError } from '../../../sdk/src/index.js';
import { formatTable, parseDatasetSpec, TABLE_FORMATS, type TableFormat } from '../evalTable.js';
import { fail, intOption, print, table } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function evalCommand(program: Command) {
  const evals = program.command('eval').description('evaluation suites and their comparison tables (RIL_API_URL, RIL_API_KEY)');

  remoteOptions(evals.command('suites').description('list the evaluation suites with their newest version'))
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { evalSuites } = await remote(opts).request(EvalSuitesDocument, {});
        print(opts, evalSuites, () => table(['suite', 'version', 'frozen', 'datasets'], evalSuites.map((s) => [
          s.name, s.latest.version, s.latest.frozen ? 'yes' : 'no',
          s.latest.datasets.map((d) => `${d.label}${d.sampleLimit ? ` (≤${d.sampleLimit})` : ''}`).join('\n'),
        ])));
      } catch (err) { fail(err); }
    });

  const suite = evals.command('suite').description('create evaluation suites');
  remoteOptions(suite.command('create').description('create a suite (its version 1) from datasets scored by the rule judge'))
    .requiredOption('--name <name>', 'suite name')
    .requiredOption('--dataset <spec>', 'NAME[:split[:limit]] (split default test; repeat for each dataset, in column order)', collect)
    .option('--description <text>', 'what the suite measures')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        let datasets;
        try { datasets = (opts.dataset as string[]).map(parseDatasetSpec); } catch (err) { throw new RilError('BAD_USER_INPUT', (err as Error).message); }
        const { createEvalSuite: s } = await remote(opts).request(CreateEvalSuiteDocument, { input: { name: opts.name, description: opts.description, datasets } });
        print(opts, s, () => `created suite ${s.name} version ${s.latest.version}: ${s.latest.datasets.map((d) => d.label).join(', ')}`);
      } catch (err) { fail(err); }
    });

  remoteOptions(evals.command('table').description('the comparison table of a suite: rows are runs (seeds grouped), deployments and external models'))
    .requiredOption('--suite <name>', 'suite name')
    .option('--version <n>', 'suite version (default: the newest)', intOption)
    .option('--format <format>', `${TABLE_FORMATS.join(' | ')}`, 'markdown')
    .option('--json', 'the table as JSON (ignores --format)')
    .action(async (opts) => {
      try {
        if (!TABLE_FORMATS.includes(opts.format)) throw new RilError('BAD_USER_INPUT', `--format must be one of ${TABLE_FORMATS.join(', ')}`);
        const { evaluationTable: t } = await remote(opts).request(EvaluationTableDocument, { suite: opts.suite, version: opts.version });
        if (opts.json) return print(opts, t, () => '');
        process.stdout.write(formatTable(t, opts.format as TableFormat));
      } catch (err) { fail(err); }
    });
}
