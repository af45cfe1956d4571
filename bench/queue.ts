// The job-queue benchmark: N claimer processes (separate OS processes, each with its own connection pool,
// like real workers) claim-and-complete the same queue until it is empty, on SQLite and on PostgreSQL.
//
// Per database, each phase on a fresh database (a temp RIL_HOME / a new PostgreSQL database) holding `jobs`
// QUEUED jobs:
//  - baseline: one claimer in this process (the same loop, bench/queue-loop.ts) over the same count;
//  - concurrent: `claimers` processes (bench/queue-claimer.ts) that open their pools, warm up, say ready and
//    start together on one `go` message; wall time runs from `go` to the last report.
// Reported: duplicates (a job claimed or completed more than once, or with attempts > 1; must be 0), lost jobs
// (enqueued but not completed and SUCCEEDED; must be 0), wall time, claims/s (claim + complete), claim latency
// p50/p99 measured around each successful `claim` call inside the claimers, SQL statements per claim (5 when
// the compare-and-set wins at once; each lost race adds 3), the claimers' CPU time per job, claims that came
// back empty-handed while jobs were left, errors, and the concurrent / baseline throughput ratio.
//
// CLI (through bench/run.ts): --jobs N (1000) --claimers N (8) --db sqlite|postgres|both (both) --json.
// PostgreSQL comes from scripts/pg-start.sh; with --db both a PostgreSQL that cannot start is skipped, said
// loudly, and SQLite still runs. Exits non-zero when any phase has duplicates or lost jobs.
import crypto from 'node:crypto';
import { execFileSync, fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openDatabase, type Database, type Provider } from '../api/_lib/db/index.js';
import { enqueue } from '../api/_lib/jobs/queue.js';
import { BENCH_KIND, claimAndCompleteAll, warmUp, type ClaimerReport } from './queue-loop.js';

const CLAIMER = fileURLToPath(new URL('./queue-claimer.ts', import.meta.url));
const PG_START = fileURLToPath(new URL('../scripts/pg-start.sh', import.meta.url));

export interface QueueBenchOptions {
  provider: Provider;
  jobs: number;
  claimers: number;
  /** Admin URL of a PostgreSQL server (scripts/pg-start.sh prints one); needed for provider `postgres`. */
  pgAdminUrl?: string;
}

export interface Tally {
  duplicates: number;
  lost: number;
  /** Final job status -> count, read from the database after the phase. */
  statuses: Record<string, number>;
  duplicateIds: string[];
  lostIds: string[];
}

export interface PhaseResult extends Tally {
  processes: number;
  jobs: number;
  wallMs: number;
  claimsPerSec: number;
  claimP50Ms: number;
  claimP99Ms: number;
  completeP50Ms: number;
  statementsPerClaim: number;
  /** Claimer CPU time per completed job (all claimer processes; the database server's not included). */
  cpuMsPerJob: number;
  emptyHanded: number;
  errors: Record<string, number>;
  /** Jobs completed by each claimer. */
  perClaimer: number[];
}

export interface QueueBenchResult {
  database: Provider;
  baseline: PhaseResult;
  concurrent: PhaseResult;
  /** Concurrent claims/s over the baseline's. */
  speedup: number;
}

/** Nearest-rank percentile. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}

/** Duplicates and lost jobs, from what the claimers say they did and what the database holds afterwards. */
export function tally(enqueued: readonly string[], reports: readonly ClaimerReport[], rows: readonly { id: string; status: string; attempts: number }[]): Tally {
  const count = (lists: string[][]) => {
    const m = new Map<string, number>();
    for (const list of lists) for (const id of list) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  };
  const claims = count(reports.map((r) => r.claimed));
  const completions = count(reports.map((r) => r.completed));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const duplicateIds = enqueued.filter((id) => (claims.get(id) ?? 0) > 1 || (completions.get(id) ?? 0) > 1 || (byId.get(id)?.attempts ?? 0) > 1);
  const lostIds = enqueued.filter((id) => !completions.has(id) || byId.get(id)?.status !== 'SUCCEEDED');
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
  return { duplicates: duplicateIds.length, lost: lostIds.length, statuses, duplicateIds, lostIds };
}

interface Fresh { home: string; databaseUrl?: string; drop(): Promise<void> }

/** An empty database: a temp RIL_HOME for SQLite, a new database on the PostgreSQL server otherwise. */
async function freshDatabase(provider: Provider, pgAdminUrl?: string): Promise<Fresh> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bench-'));
  const removeHome = () => fs.rmSync(home, { recursive: true, force: true });
  if (provider === 'sqlite') return { home, drop: async () => removeHome() };
  if (!pgAdminUrl) throw new Error('the PostgreSQL benchmark needs an admin URL (scripts/pg-start.sh prints one)');
  const name = `ril_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: pgAdminUrl });
    await client.connect();
    try { await client.query(sql); } finally { await client.end(); }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(pgAdminUrl);
  url.pathname = `/${name}`;
  return { home, databaseUrl: url.toString(), drop: async () => { removeHome(); await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`); } };
}

type ClaimerMessage = { type: 'ready' } | { type: 'done'; report: ClaimerReport } | { type: 'error'; message: string };

/** Forks the claimers, waits until every one is connected and warm, starts them together, collects reports. */
async function runClaimerProcesses(fresh: Fresh, claimers: number): Promise<{ reports: ClaimerReport[]; wallMs: number }> {
  const children = Array.from({ length: claimers }, (_, i) => fork(CLAIMER, [`claimer-${i}`], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, RIL_HOME: fresh.home, DATABASE_URL: fresh.databaseUrl ?? '' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  }));
  let t0 = 0;
  const ready: Promise<void>[] = [];
  const done = children.map((child, i) => new Promise<{ report: ClaimerReport; at: number }>((resolve, reject) => {
    ready.push(new Promise<void>((r) => child.on('message', (m: ClaimerMessage) => { if (m.type === 'ready') r(); })));
    child.on('message', (m: ClaimerMessage) => {
      if (m.type === 'done') resolve({ report: m.report, at: performance.now() });
      if (m.type === 'error') reject(new Error(`claimer-${i} failed: ${m.message}`));
    });
    child.on('exit', (code, signal) => reject(new Error(`claimer-${i} exited (${code ?? signal}) before reporting`)));
  }));
  try {
    // a claimer that dies while starting up must not leave us waiting for its `ready`
    await Promise.race([Promise.all(ready), Promise.all(done)]);
    t0 = performance.now();
    for (const child of children) child.send('go');
    const results = await Promise.all(done);
    return { reports: results.map((r) => r.report), wallMs: Math.max(...results.map((r) => r.at)) - t0 };
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill();
  }
}

function summarise(processes: number, jobs: number, reports: ClaimerReport[], wallMs: number, t: Tally): PhaseResult {
  const all = <K extends 'claimMs' | 'completeMs' | 'claimStatements'>(k: K) => reports.flatMap((r) => r[k]);
  const statements = all('claimStatements');
  const errors: Record<string, number> = {};
  for (const r of reports) for (const [msg, n] of Object.entries(r.errors)) errors[msg] = (errors[msg] ?? 0) + n;
  const completed = reports.reduce((a, r) => a + r.completed.length, 0);
  return {
    processes, jobs, wallMs,
    claimsPerSec: completed / (wallMs / 1000),
    claimP50Ms: percentile(all('claimMs'), 0.5),
    claimP99Ms: percentile(all('claimMs'), 0.99),
    completeP50Ms: percentile(all('completeMs'), 0.5),
    statementsPerClaim: statements.reduce((a, b) => a + b, 0) / Math.max(1, statements.length),
    cpuMsPerJob: reports.reduce((a, r) => a + r.cpuMs, 0) / Math.max(1, completed),
    emptyHanded: reports.reduce((a, r) => a + r.emptyHanded, 0),
    errors,
    perClaimer: reports.map((r) => r.completed.length),
    ...t,
  };
}

/** One phase on a fresh database: enqueue `jobs`, drain them with `claimers` processes (0 = in this process). */
async function runPhase(opts: QueueBenchOptions, claimers: number): Promise<PhaseResult> {
  const fresh = await freshDatabase(opts.provider, opts.pgAdminUrl);
  let db: Database | undefined;
  try {
    db = await openDatabase({ home: fresh.home, databaseUrl: fresh.databaseUrl });
    const enqueued: string[] = [];
    for (let i = 0; i < opts.jobs; i++) enqueued.push((await enqueue(db, { kind: BENCH_KIND, payload: { i } })).id);
    let reports: ClaimerReport[];
    let wallMs: number;
    if (claimers === 0) {
      await warmUp(db);
      const t0 = performance.now();
      reports = [await claimAndCompleteAll(db, 'baseline')];
      wallMs = performance.now() - t0;
    } else {
      ({ reports, wallMs } = await runClaimerProcesses(fresh, claimers));
    }
    const rows = await db.prisma.job.findMany({ where: { kind: BENCH_KIND }, select: { id: true, status: true, attempts: true } });
    return summarise(Math.max(1, claimers), opts.jobs, reports, wallMs, tally(enqueued, reports, rows));
  } finally {
    await db?.close();
    await fresh.drop();
  }
}

/** The benchmark's core: baseline (one claimer, this process) then `claimers` processes, on one database. */
export async function runQueueBench(opts: QueueBenchOptions): Promise<QueueBenchResult> {
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new Error('jobs must be a positive integer');
  if (!Number.isInteger(opts.claimers) || opts.claimers < 1) throw new Error('claimers must be a positive integer');
  const baseline = await runPhase(opts, 0);
  const concurrent = await runPhase(opts, opts.claimers);
  return { database: opts.provider, baseline, concurrent, speedup: concurrent.claimsPerSec / baseline.claimsPerSec };
}

// ---- CLI

const NAMES: Record<Provider, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const f = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function row(r: QueueBenchResult, p: PhaseResult, label: string, ratio: string) {
  const errors = Object.values(p.errors).reduce((a, b) => a + b, 0);
  return [NAMES[r.database], label, String(p.jobs), String(p.duplicates), String(p.lost), f(p.wallMs / 1000, 2), f(p.claimsPerSec, 0),
    f(p.claimP50Ms, 2), f(p.claimP99Ms, 2), f(p.completeP50Ms, 2), f(p.statementsPerClaim, 2), f(p.cpuMsPerJob, 2), String(p.emptyHanded), String(errors),
    `${Math.min(...p.perClaimer)}-${Math.max(...p.perClaimer)}`, ratio];
}

export function formatTable(results: QueueBenchResult[]): string {
  const head = ['database', 'claimers', 'jobs', 'duplicates', 'lost', 'wall s', 'claims/s', 'claim p50 ms', 'claim p99 ms',
    'complete p50 ms', 'SQL statements / claim', 'claimer CPU ms / job', 'empty-handed claims', 'errors', 'jobs per claimer', 'vs 1 process'];
  const rows = results.flatMap((r) => [
    row(r, r.baseline, '1 (this process)', '1.00x'),
    row(r, r.concurrent, `${r.concurrent.processes} processes`, `${f(r.speedup, 2)}x`),
  ]);
  const lines = [head, head.map(() => '---'), ...rows].map((cells) => `| ${cells.join(' | ')} |`);
  const errors = results.flatMap((r) => [r.baseline, r.concurrent].flatMap((p) =>
    Object.entries(p.errors).map(([msg, n]) => `- ${NAMES[r.database]}, ${p.processes} process(es): ${n} x ${msg}`)));
  return [...lines, ...(errors.length ? ['', 'Errors the claimers absorbed:', ...errors] : [])].join('\n');
}

/** Starts (or reuses) the throwaway PostgreSQL server; the reason as a string when it cannot. */
function startPostgres(): { url: string } | { skipped: string } {
  try {
    const url = execFileSync('bash', [PG_START], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return { url };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { skipped: (e.stderr?.trim() || e.message).split('\n').slice(-3).join(' ') };
  }
}

/** `npm run bench -- [--jobs N] [--claimers N] [--db sqlite|postgres|both] [--json]`; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { jobs: { type: 'string', default: '1000' }, claimers: { type: 'string', default: '8' }, db: { type: 'string', default: 'both' }, json: { type: 'boolean', default: false } },
  });
  const int = (name: string, s: string) => {
    const n = Number(s);
    if (!/^\d+$/.test(s) || n < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(s)}`);
    return n;
  };
  const jobs = int('jobs', values.jobs!);
  const claimers = int('claimers', values.claimers!);
  if (!['sqlite', 'postgres', 'both'].includes(values.db!)) throw new Error(`--db must be sqlite, postgres or both, got ${JSON.stringify(values.db)}`);
  const providers: Provider[] = values.db === 'both' ? ['sqlite', 'postgres'] : [values.db as Provider];

  const log = (s: string) => { if (!values.json) console.log(s); else console.error(s); };
  const machine = { nproc: os.availableParallelism(), cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() };
  log(`# job queue: ${claimers} claimer processes x ${jobs} jobs; ${machine.nproc} CPUs (${machine.cpu}), node ${machine.node}, ${machine.date}`);
  const results: QueueBenchResult[] = [];
  const skipped: { database: Provider; reason: string }[] = [];
  for (const provider of providers) {
    let pgAdminUrl: string | undefined;
    if (provider === 'postgres') {
      const pgStart = startPostgres();
      if ('skipped' in pgStart) {
        skipped.push({ database: provider, reason: pgStart.skipped });
        console.error(`PostgreSQL SKIPPED: scripts/pg-start.sh could not start a server: ${pgStart.skipped}`);
        continue;
      }
      pgAdminUrl = pgStart.url;
    }
    log(`running on ${NAMES[provider]}...`);
    results.push(await runQueueBench({ provider, jobs, claimers, pgAdminUrl }));
  }

  if (values.json) console.log(JSON.stringify({ benchmark: 'queue', machine, jobs, claimers, results, skipped }, null, 2));
  else {
    console.log(formatTable(results));
    for (const s of skipped) console.log(`\nPostgreSQL was SKIPPED (${s.reason}); only ${results.map((r) => NAMES[r.database]).join(', ') || 'nothing'} ran.`);
  }
  const bad = results.filter((r) => [r.baseline, r.concurrent].some((p) => p.duplicates > 0 || p.lost > 0));
  for (const r of bad) console.error(`FAIL on ${NAMES[r.database]}: duplicates ${r.baseline.duplicates}/${r.concurrent.duplicates}, lost ${r.baseline.lost}/${r.concurrent.lost} (baseline/concurrent)`);
  // --db postgres asked for PostgreSQL explicitly: not running it is a failure, not a skip
  const missing = values.db === 'postgres' && skipped.length > 0;
  return bad.length > 0 || missing || results.length === 0 ? 1 : 0;
}
