// Metric series. Points are keyed by (run, name, step): reporting is idempotent, so a worker that replays a
// batch after a crash or a retried request writes nothing twice (the first value written wins).
import type { Database } from '../db/index.js';
import { badInput } from '../errors.js';

export interface Point { step: number; value: number }
const NAME_RE = /^[A-Za-z0-9_./-]{1,128}$/;
const MAX_BATCH = 5000;

export async function reportMetrics(db: Database, runId: string, points: { name: string; step: number; value: number }[]) {
  if (points.length > MAX_BATCH) throw badInput(`at most ${MAX_BATCH} points per call`);
  const seen = new Set<string>();
  const unique = [];
  for (const p of points) {
    if (!NAME_RE.test(p.name)) throw badInput(`bad metric name "${p.name}"`);
    if (!Number.isInteger(p.step) || p.step < 0) throw badInput(`metric ${p.name}: step must be a non-negative integer`);
    if (!Number.isFinite(p.value)) throw badInput(`metric ${p.name} at step ${p.step}: value must be finite`);
    const key = `${p.name}|${p.step}`;
    if (!seen.has(key)) { seen.add(key); unique.push(p); }
  }
  if (unique.length === 0) return { written: 0, duplicates: points.length };
  // One statement per chunk that skips what is already stored. Not createMany + catch P2002: on PostgreSQL a
  // unique violation aborts the surrounding transaction, so no fallback inside it can run; and Prisma's
  // skipDuplicates is not available on SQLite. `ON CONFLICT DO NOTHING` means the same on both databases, is
  // atomic per statement and race-free against a concurrent replay; the count is what it really inserted.
  let written = 0;
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    written += await db.prisma.$executeRawUnsafe(
      sqlFor(db, `INSERT INTO "Metric" ("runId", "name", "step", "value") VALUES ${chunk.map(() => '(?, ?, ?, CAST(? AS DOUBLE PRECISION))').join(', ')} ON CONFLICT DO NOTHING`),
      // the value goes as its shortest round-trip text: raw number parameters lose the 17th digit on SQLite
      ...chunk.flatMap((p) => [runId, p.name, p.step, String(p.value)]),
    );
  }
  return { written, duplicates: points.length - written };
}

/** `?` placeholders as the provider wants them (PostgreSQL: $1..$n), as in db/sql.ts. */
function sqlFor(db: Pick<Database, 'provider'>, sql: string) {
  let i = 0;
  return db.provider === 'postgres' ? sql.replace(/\?/g, () => `$${++i}`) : sql;
}

/**
 * Downsamples a series (sorted by step) to at most `budget` points without dropping extremes: the series is
 * cut into budget/2 buckets and each keeps its minimum and its maximum (in step order); first and last stay.
 */
export function downsample(points: Point[], budget: number): Point[] {
  if (budget < 2) throw badInput('points must be at least 2');
  if (points.length <= budget) return points;
  const buckets = Math.floor((budget - 2) / 2);
  const inner = points.slice(1, -1);
  const out: Point[] = [points[0]];
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor((b * inner.length) / buckets);
    const end = Math.floor(((b + 1) * inner.length) / buckets);
    if (end <= start) continue;
    let lo = start;
    let hi = start;
    for (let i = start; i < end; i++) {
      if (inner[i].value < inner[lo].value) lo = i;
      if (inner[i].value > inner[hi].value) hi = i;
    }
    for (const i of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) out.push(inner[i]);
  }
  out.push(points[points.length - 1]);
  return out;
}

export async function metricNames(db: Database, runId: string): Promise<string[]> {
  const rows = await db.prisma.metric.findMany({ where: { runId }, distinct: ['name'], select: { name: true }, orderBy: { name: 'asc' } });
  return rows.map((r) => r.name);
}

export async function series(db: Database, runIds: string[], opts: { names?: string[] | null; fromStep?: number | null; toStep?: number | null; points: number }) {
  const budget = opts.points;
  if (!Number.isInteger(budget) || budget < 2 || budget > 10_000) throw badInput('points must be 2..10000');
  const rows = await db.prisma.metric.findMany({
    where: {
      runId: { in: runIds },
      ...(opts.names?.length ? { name: { in: opts.names } } : {}),
      ...(opts.fromStep != null || opts.toStep != null ? { step: { ...(opts.fromStep != null ? { gte: opts.fromStep } : {}), ...(opts.toStep != null ? { lte: opts.toStep } : {}) } } : {}),
    },
    orderBy: [{ runId: 'asc' }, { name: 'asc' }, { step: 'asc' }],
  });
  const byRun = new Map<string, Map<string, Point[]>>();
  for (const r of rows) {
    const names = byRun.get(r.runId) ?? new Map<string, Point[]>();
    byRun.set(r.runId, names);
    const pts = names.get(r.name) ?? [];
    pts.push({ step: r.step, value: r.value });
    names.set(r.name, pts);
  }
  return new Map(runIds.map((id) => [id, new Map([...(byRun.get(id) ?? new Map<string, Point[]>())].map(([n, p]) => [n, downsample(p, budget)]))]));
}

/** Flattens a config to dotted keys, for diffs. */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/** Keys whose values differ between the configs (missing counts as null). */
export function differingKeys(configs: Record<string, unknown>[]): { key: string; values: unknown[] }[] {
  const flat = configs.map((c) => flatten(c));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].sort();
  return keys
    .map((key) => ({ key, values: flat.map((f) => f[key] ?? null) }))
    .filter(({ values }) => new Set(values.map((v) => JSON.stringify(v))).size > 1);
}

const FINAL_PREFIXES = ['eval/', 'reward/', 'policy/', 'disc/', 'gen/'];

/** Each run's last value of every metric under eval/ (and the headline training metrics): the last step of
 * each (run, name) is found by a grouped query, then only those points are read, not whole series. */
export async function finals(db: Database, runIds: string[]) {
  const lastSteps = await db.prisma.metric.groupBy({
    by: ['runId', 'name'],
    where: { runId: { in: runIds }, OR: FINAL_PREFIXES.map((p) => ({ name: { startsWith: p } })) },
    _max: { step: true },
  });
  const rows = lastSteps.length
    ? await db.prisma.metric.findMany({ where: { OR: lastSteps.map((l) => ({ runId: l.runId, name: l.name, step: l._max.step! })) } })
    : [];
  return runIds.map((runId) => ({
    runId,
    metrics: rows.filter((r) => r.runId === runId).map(({ name, step, value }) => ({ name, step, value })).sort((a, b) => a.name.localeCompare(b.name)),
  }));
}
