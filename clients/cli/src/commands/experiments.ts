// `ril experiments ...`: create, start, list, show, watch (live progress), compare and cancel runs on a running
// platform, through the SDK (RIL_API_URL / RIL_API_KEY).
import fs from 'node:fs';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import {
  CancelRunDocument, CompareRunsDocument, CreateExperimentDocument, ExperimentDocument, ExperimentsDocument, RilError,
  RunDocument, RunProgressDocument, StartRunDocument, describeGpus, describeStudent, type Algorithm, type RilClient,
} from '../../../sdk/src/index.js';
import { fail, intOption, print, table } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

/** The headline series a watch shows: RIL's rewards when the run has them, else the SFT loss; plus eval accuracy. */
export const WATCH_METRICS = ['reward/sim_student', 'reward/answer_student', 'reward/total', 'disc/acc', 'train/loss', 'eval/val/accuracy'];
const SHORT: Record<string, string> = {
  'reward/sim_student': 'r_sim', 'reward/answer_student': 'r_ans', 'reward/total': 'R', 'disc/acc': 'disc_acc', 'train/loss': 'loss', 'eval/val/accuracy': 'val_acc',
};
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

const fmt = (v: unknown): string => {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
};

function parseConfig(value: string | undefined): Record<string, unknown> | undefined {
  if (!value) return undefined;
  const text = value.startsWith('@') ? fs.readFileSync(value.slice(1), 'utf8') : value;
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new RilError('BAD_USER_INPUT', `--config must be a JSON object or @file.json (${(err as Error).message})`);
  }
}

function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export interface WatchState { status: string; step: number; totalSteps: number; latest: Record<string, number>; etaSeconds: number | null }

/**
 * Polls a run until it ends, calling onUpdate with its step, the newest value of each watched metric and an ETA
 * (from the step rate since the watch began). Asks only for metric points newer than the ones it has.
 */
export async function watchRun(ril: RilClient, runId: string, intervalMs: number, onUpdate: (s: WatchState) => void) {
  const latest: Record<string, number> = {};
  let fromStep = 0;
  let first: { step: number; at: number } | null = null;
  for (;;) {
    const { run } = await ril.request(RunProgressDocument, { id: runId, names: WATCH_METRICS, fromStep, points: 10_000 });
    if (!run) throw new RilError('NOT_FOUND', `run ${runId} not found`);
    for (const s of run.metrics) {
      const last = s.points[s.points.length - 1];
      if (last) { latest[s.name] = last.value; fromStep = Math.max(fromStep, last.step + 1); }
    }
    const now = Date.now();
    if (!first || run.status === 'QUEUED') first = { step: run.step, at: now };
    const rate = first && run.step > first.step ? (run.step - first.step) / ((now - first.at) / 1000) : 0;
    const etaSeconds = TERMINAL.has(run.status) ? 0 : rate > 0 ? (run.totalSteps - run.step) / rate : null;
    onUpdate({ status: run.status, step: run.step, totalSteps: run.totalSteps, latest: { ...latest }, etaSeconds });
    if (TERMINAL.has(run.status)) return run;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/**
 * The student flags of `create` folded into the config: --hf names a Hugging Face model (family hf), --lora-r and
 * --gpus set those keys. studentSize is sent only for a built-in student (the API refuses one with an hf student);
 * without --size a built-in student is nano, as before.
 */
export function studentInput(opts: { size?: string; hf?: string; loraR?: number; gpus?: number }, config: Record<string, unknown> | undefined) {
  const out: Record<string, unknown> = { ...(config ?? {}) };
  const student = { ...((out.student as Record<string, unknown> | undefined) ?? {}) };
  if (opts.hf !== undefined) Object.assign(student, { family: 'hf', model: opts.hf });
  if (opts.loraR !== undefined) student.lora = { ...((student.lora as Record<string, unknown> | undefined) ?? {}), r: opts.loraR };
  if (Object.keys(student).length) out.student = student;
  if (opts.gpus !== undefined) out.gpus = opts.gpus;
  const hf = student.family === 'hf';
  return { studentSize: opts.size ?? (hf ? undefined : 'nano'), config: Object.keys(out).length ? out : undefined };
}

/** `ril experiments` (the group's description is in ../main.ts). */
export function experimentsCommand(experiments: Command) {

  remoteOptions(experiments.command('create').description('create an experiment (config validated against the trainer schema)'))
    .requiredOption('--dataset <id>', 'dataset id')
    .requiredOption('--name <name>', 'experiment name')
    .option('--algorithm <algorithm>', 'SFT | GRPO | DR_GRPO | RIL', 'RIL')
    .option('--size <size>', 'built-in student size: nano | small | base (default nano; not with --hf)')
    .option('--hf <model>', 'a Hugging Face student: a model directory on the workers or a hub id in their cache (config student.model)')
    .option('--lora-r <n>', 'LoRA rank of an hf student (config student.lora.r; 0 = full fine-tuning)', intOption)
    .option('--gpus <n>', 'GPUs each run needs (config gpus; 0 = any worker, CPU included)', intOption)
    .option('--teachers <names>', 'comma-separated teacher names (RIL imitates all of them)')
    .option('--config <json>', 'trainer config overrides: a JSON object or @file.json')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { studentSize, config } = studentInput(opts, parseConfig(opts.config));
        const { createExperiment: e } = await remote(opts).request(CreateExperimentDocument, { input: {
          name: opts.name, datasetId: opts.dataset, studentSize, algorithm: String(opts.algorithm).toUpperCase() as Algorithm,
          teachers: opts.teachers ? String(opts.teachers).split(',').map((s) => s.trim()).filter(Boolean) : [], config,
        } });
        print(opts, e, () => `created experiment ${e.name} (id ${e.id}): ${e.algorithm}, student ${describeStudent(e.student)}, ${describeGpus(e.gpus)}, on ${e.dataset.name}`);
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('start <experiment>').description('queue a run of an experiment (a TRAIN job for a worker)'))
    .option('--seed <n>', 'seed', intOption, 0)
    .option('--priority <n>', 'job priority', intOption, 0)
    .option('--json', 'JSON output')
    .action(async (experimentId: string, opts) => {
      try {
        const { startRun: r } = await remote(opts).request(StartRunDocument, { input: { experimentId, seed: opts.seed, priority: opts.priority } });
        print(opts, r, () => `queued run ${r.id} of ${r.experiment.name} (seed ${r.seed}); follow it with: ril experiments watch ${r.id}`);
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('list').description('list experiments with their runs'))
    .option('--dataset <id>', 'only this dataset')
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { experiments: c } = await remote(opts).request(ExperimentsDocument, { first: 100, datasetId: opts.dataset });
        const rows = c.edges.map((e) => e.node);
        print(opts, rows, () => table(['id', 'name', 'algorithm', 'student', 'gpus', 'dataset', 'runs (status step/total)'],
          rows.map((x) => [x.id, x.name, x.algorithm, describeStudent(x.student), x.gpus, x.dataset.name, x.runs.map((r) => `${r.id} ${r.status} ${r.step}/${r.totalSteps}`).join('\n')])));
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('show <id>').description('an experiment (config, runs) or a run (status, artifacts, metrics)'))
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      try {
        const ril = remote(opts);
        const { experiment } = await ril.request(ExperimentDocument, { id });
        if (experiment) {
          return print(opts, experiment, () => [
            `experiment ${experiment.name} (${experiment.id}): ${experiment.algorithm} on ${experiment.dataset.name} v${experiment.dataset.version}`,
            `student: ${describeStudent(experiment.student)}; runs need ${describeGpus(experiment.gpus)}`,
            `teachers: ${experiment.teachers.join(', ') || '-'}`,
            table(['config key', 'value'], Object.entries(experiment.config as Record<string, unknown>).map(([k, v]) => [k, fmt(v)])),
            table(['run', 'seed', 'status', 'step', 'finished', 'error'], experiment.runs.map((r) => [r.id, r.seed, r.status, `${r.step}/${r.totalSteps}`, r.finishedAt, r.error])),
          ].join('\n'));
        }
        const { run } = await ril.request(RunDocument, { id });
        if (!run) throw new RilError('NOT_FOUND', `no experiment or run with id ${id}`);
        print(opts, run, () => [
          `run ${run.id} of ${run.experiment.name} (${run.experiment.algorithm}, ${describeStudent(run.experiment.student)}), seed ${run.seed}: ${run.status} ${run.step}/${run.totalSteps}${run.error ? ` (${run.error})` : ''}`,
          `metrics: ${run.metricNames.join(', ') || '-'}`,
          table(['artifact', 'kind', 'name', 'size'], run.artifacts.map((a) => [a.id, a.kind, a.name, a.size])),
        ].join('\n'));
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('watch <run>').description('follow a run live: a progress bar with the step, the rewards and the ETA; exits 0 when it succeeds'))
    .option('--interval <ms>', 'poll interval', intOption, 1000)
    .option('--json', 'print one JSON line per update (and no bar)')
    .action(async (runId: string, opts) => {
      try {
        const tty = Boolean(process.stderr.isTTY) && !opts.json;
        const bar = new cliProgress.SingleBar({
          format: 'step {value}/{total} [{bar}] {percentage}% | {metrics} | ETA {etaText} | {status}',
          stream: process.stderr, hideCursor: true,
        }, cliProgress.Presets.shades_classic);
        let started = false;
        let lastLine = '';
        const run = await watchRun(remote(opts), runId, opts.interval, (s) => {
          const metrics = Object.entries(s.latest).map(([k, v]) => `${SHORT[k] ?? k} ${fmt(v)}`).join(' ') || 'no metrics yet';
          const etaText = s.etaSeconds === null ? '?' : formatEta(s.etaSeconds);
          if (opts.json) return void process.stdout.write(JSON.stringify({ runId, ...s }) + '\n');
          if (tty) {
            if (!started) { bar.start(Math.max(1, s.totalSteps), s.step, { metrics, etaText, status: s.status }); started = true; }
            bar.setTotal(Math.max(1, s.totalSteps));
            bar.update(s.step, { metrics, etaText, status: s.status });
          } else {
            const line = `step ${s.step}/${s.totalSteps} | ${metrics} | ETA ${etaText} | ${s.status}`;
            if (line !== lastLine) process.stderr.write(line + '\n');
            lastLine = line;
          }
        });
        if (started) bar.stop();
        if (!opts.json) process.stdout.write(`run ${runId} ${run.status} at step ${run.step}/${run.totalSteps}${run.error ? `: ${run.error}` : ''}\n`);
        process.exitCode = run.status === 'SUCCEEDED' ? 0 : 1;
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('compare <runs...>').description('final metrics of several runs side by side, and the config keys that differ'))
    .option('--json', 'JSON output')
    .action(async (ids: string[], opts) => {
      try {
        if (ids.length < 2) throw new RilError('BAD_USER_INPUT', 'compare needs at least two run ids');
        const { compareRuns: c } = await remote(opts).request(CompareRunsDocument, { ids, points: 2 });
        const head = ['', ...c.runs.map((r) => `${r.experiment.name}\n${r.id}`)];
        const finals = new Map(c.finals.map((f) => [f.runId, new Map(f.metrics.map((m) => [m.name, m.value]))]));
        const names = [...new Set(c.finals.flatMap((f) => f.metrics.map((m) => m.name)))].sort();
        const summary = { runs: c.runs, finals: c.finals, differingConfig: c.differingConfig };
        print(opts, summary, () => [
          'final metrics',
          table(head, [
            ['status', ...c.runs.map((r) => `${r.status} ${r.step}/${r.totalSteps}`)],
            ['algorithm', ...c.runs.map((r) => r.experiment.algorithm)],
            ['student', ...c.runs.map((r) => describeStudent(r.experiment.student))],
            ...names.map((n) => [n, ...c.runs.map((r) => fmt(finals.get(r.id)?.get(n)))]),
          ]),
          'config keys that differ',
          c.differingConfig.length ? table(head, c.differingConfig.map((d) => [d.key, ...d.values.map(fmt)])) : '(none)',
        ].join('\n'));
      } catch (err) { fail(err); }
    });

  remoteOptions(experiments.command('cancel <run>').description('cancel a run (a running one stops at its next heartbeat)'))
    .option('--json', 'JSON output')
    .action(async (id: string, opts) => {
      try {
        const { cancelRun: r } = await remote(opts).request(CancelRunDocument, { id });
        print(opts, r, () => `run ${r.id}: ${r.status}`);
      } catch (err) { fail(err); }
    });
}
