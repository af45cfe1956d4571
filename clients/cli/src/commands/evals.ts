// `ril eval ...`: evaluation suites and their comparison table on a running platform, through the SDK
// (RIL_API_URL / RIL_API_KEY). The table's text formats are the pure functions of ../evalTable.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import {
  CreateEvalSuiteDocument, EvalSuitesDocument, EvaluationTableDocument, ExperimentDocument, JobDocument, QueueSuiteEvaluationDocument, RilError,
  type EvalSubjectInput, type RilClient,
} from '../../../sdk/src/index.js';
import { formatTable, parseDatasetSpec, TABLE_FORMATS, type TableFormat } from '../evalTable.js';
import { fail, intOption, print, progressBar, table } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** The subjects `ril eval run` names: exactly one kind of option (an experiment stands for each of its runs). */
async function subjectsOf(client: RilClient, opts: Record<string, string | number | undefined>): Promise<EvalSubjectInput[]> {
  const given = ['run', 'experiment', 'deployment', 'endpoint', 'teacher'].filter((k) => opts[k] != null);
  if (given.length !== 1) throw new RilError('BAD_USER_INPUT', 'name one subject: --run, --experiment, --deployment, --endpoint (with --model) or --teacher');
  if (opts.endpoint != null && opts.model == null) throw new RilError('BAD_USER_INPUT', '--endpoint needs --model');
  if (opts.run) return [{ kind: 'RUN', runId: String(opts.run) }];
  if (opts.deployment) return [{ kind: 'DEPLOYMENT', deployment: String(opts.deployment), revision: opts.revision as number | undefined }];
  if (opts.endpoint) return [{ kind: 'EXTERNAL', endpoint: String(opts.endpoint), model: String(opts.model), apiKeyEnv: opts.apiKeyEnv as string | undefined }];
  if (opts.teacher) return [{ kind: 'TEACHER', teacher: String(opts.teacher) }];
  const { experiment } = await client.request(ExperimentDocument, { id: String(opts.experiment) });
  if (!experiment) throw new RilError('NOT_FOUND', `experiment ${opts.experiment} not found`);
  const done = experiment.runs.filter((r) => r.status === 'SUCCEEDED');
  if (!done.length) throw new RilError('BAD_USER_INPUT', `experiment ${experiment.name} has no succeeded run to score`);
  return done.map((r) => ({ kind: 'RUN', runId: r.id }));
}

interface SuiteJobResult { average?: number | null; results?: { label: string; accuracy: number; n: number }[] }

/** Polls the jobs until each is settled; the bar counts the examples scored over all of them (their heartbeats). */
async function waitForJobs(client: RilClient, ids: string[], bar: ReturnType<typeof progressBar>) {
  const progress = new Map<string, { done: number; total: number }>();
  for (;;) {
    const jobs = await Promise.all(ids.map(async (id) => (await client.request(JobDocument, { id })).job!));
    for (const j of jobs) {
      const p = (j.result as { progress?: { done: number; total: number } } | null)?.progress;
      if (p) progress.set(j.id, p);
    }
    const sum = (k: 'done' | 'total') => [...progress.values()].reduce((a, p) => a + p[k], 0);
    if (progress.size) bar.update(sum('done'), sum('total'), `${jobs.filter((j) => TERMINAL.has(j.status)).length}/${jobs.length} jobs done`);
    if (jobs.every((j) => TERMINAL.has(j.status))) return jobs;
    await sleep(1000);
  }
}

/** `ril eval` (the group's description is in ../main.ts). */
export function evalCommand(evals: Command) {

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

  remoteOptions(evals.command('run').description('score a run, every run of an experiment, a deployment, an external model or a teacher on a suite (EVALUATE jobs, scored by `ril worker`)'))
    .requiredOption('--suite <name>', 'suite name')
    .option('--version <n>', 'suite version (default: the newest)', intOption)
    .option('--run <id>', 'a run (its newest checkpoint)')
    .option('--experiment <id>', 'every succeeded run of an experiment (one job per seed)')
    .option('--deployment <name>', 'a deployment (its live revision, or --revision)')
    .option('--revision <n>', 'the deployment revision', intOption)
    .option('--endpoint <url>', 'an OpenAI-compatible base URL (with --model)')
    .option('--model <name>', 'the external model')
    .option('--api-key-env <NAME>', 'the variable holding the external model\'s key, on the worker (allowlisted: RIL_SECRET_ENV_ALLOWLIST)')
    .option('--teacher <name>', 'a teacher, scored from its cached responses')
    .option('--priority <n>', 'queue priority', intOption)
    .option('--wait', 'follow the jobs until they end (a progress bar over the examples scored), then print the table')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const client = remote(opts);
        const subjects = await subjectsOf(client, opts);
        const jobs: { id: string; status: string }[] = [];
        for (const subject of subjects) {
          jobs.push((await client.request(QueueSuiteEvaluationDocument, { input: { suite: opts.suite, version: opts.version, subject, priority: opts.priority } })).queueSuiteEvaluation);
        }
        if (!opts.wait) return print(opts, jobs, () => jobs.map((j) => `queued EVALUATE job ${j.id}`).join('\n'));
        const bar = progressBar(opts, 'examples');
        const settled = await waitForJobs(client, jobs.map((j) => j.id), bar);
        bar.stop();
        const failed = settled.filter((j) => j.status !== 'SUCCEEDED');
        const { evaluationTable: t } = await client.request(EvaluationTableDocument, { suite: opts.suite, version: opts.version, subjects });
        print(opts, { jobs: settled, table: t }, () => [
          ...settled.map((j) => {
            const r = j.result as SuiteJobResult | null;
            return `job ${j.id}: ${j.status}${r?.average != null ? `, average ${(100 * r.average).toFixed(1)}%` : ''}${j.error ? ` (${j.error})` : ''}`;
          }),
          '', formatTable(t, 'markdown'),
        ].join('\n'));
        if (failed.length) process.exitCode = 1;
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
