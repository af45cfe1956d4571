// The comparison table of a suite version: one row per subject, except that runs of one experiment (its seeds) make
// one row, whose cells are the mean over the seeds and a 95% t interval; one column per dataset entry in suite order,
// then the average. A subject's average is the unweighted mean of its per-dataset accuracies (a small dataset counts
// as much as a large one: each column is a different question), and only over subjects that have every column (a
// partial average would compare different things). `best` marks the highest mean of each column, ties included.
import type { Database } from '../db/index.js';
import { badInput } from '../errors.js';
import { meanInterval } from './stats.js';
import { columnLabel, getVersion, resolveSubject, type EvalSettings, type SubjectInput } from './service.js';
import type { Dataset, EvalSubject, EvalSuiteDataset, Experiment, Run } from '../../../generated/sqlite/index.js';

export interface TableCell { mean: number | null; halfWidth: number | null; low: number | null; high: number | null; n: number; best: boolean }

/** One subject as the grouping sees it: rows group on `group`. */
export interface TableSubject { id: string | null; kind: string; group: string; label: string }

export interface TableRowCore { group: string; kind: string; subjects: TableSubject[]; cells: TableCell[] }

const EPS = 1e-12;

/**
 * The pure part: rows and cells from subjects and their accuracies (`scores.get(subjectId).get(entryId)`). Rows keep
 * the order in which their first subject appears. The last cell of each row is the average column.
 */
export function tableRows(entryIds: readonly string[], subjects: readonly TableSubject[], scores: ReadonlyMap<string, ReadonlyMap<string, number>>): TableRowCore[] {
  const groups = new Map<string, TableSubject[]>();
  for (const s of subjects) groups.set(s.group, [...(groups.get(s.group) ?? []), s]);
  const rows = [...groups].map(([group, members]) => {
    const perSubject = members.map((m) => (m.id ? scores.get(m.id) : undefined));
    const cells = entryIds.map((entry) => cellOf(perSubject.flatMap((s) => (s?.has(entry) ? [s.get(entry)!] : []))));
    const averages = perSubject.flatMap((s) => {
      const values = entryIds.map((e) => s?.get(e));
      return values.every((v) => v !== undefined) && values.length ? [values.reduce((a, b) => a! + b!, 0)! / values.length] : [];
    });
    return { group, kind: members[0].kind, subjects: members, cells: [...cells, cellOf(averages)] };
  });
  for (let col = 0; col <= entryIds.length; col++) {
    const means = rows.map((r) => r.cells[col].mean).filter((m): m is number => m !== null);
    if (!means.length) continue;
    const top = Math.max(...means);
    for (const r of rows) if (r.cells[col].mean !== null && Math.abs(r.cells[col].mean! - top) <= EPS) r.cells[col].best = true;
  }
  return rows;
}

function cellOf(values: number[]): TableCell {
  const mi = meanInterval(values);
  if (!mi) return { mean: null, halfWidth: null, low: null, high: null, n: 0, best: false };
  return {
    mean: mi.mean, halfWidth: mi.halfWidth, n: mi.n, best: false,
    low: mi.halfWidth === null ? null : mi.mean - mi.halfWidth,
    high: mi.halfWidth === null ? null : mi.mean + mi.halfWidth,
  };
}


const KIND_ORDER = ['RUN', 'DEPLOYMENT', 'TEACHER', 'EXTERNAL'];

/** The readable name of a subject that is not a run (a run's needs its experiment: see subjectOf and the resolver). */
export function subjectLabel(s: Pick<EvalSubject, 'kind' | 'deploymentName' | 'revision' | 'endpoint' | 'model' | 'teacherName'>): string {
  if (s.kind === 'DEPLOYMENT') return `deployment ${s.deploymentName} r${s.revision}`;
  if (s.kind === 'TEACHER') return `teacher ${s.teacherName}`;
  return `${s.model} @ ${s.endpoint}`;
}

function subjectOf(s: Pick<EvalSubject, 'kind' | 'key' | 'runId' | 'deploymentName' | 'revision' | 'endpoint' | 'model' | 'teacherName'> & { id: string | null }, runs: Map<string, Run & { experiment: Experiment }>): TableSubject {
  if (s.kind === 'RUN') {
    const run = runs.get(s.runId!);
    // a run whose row is gone still gets a row of its own rather than disappearing from a table
    return run ? { id: s.id, kind: 'RUN', group: `experiment:${run.experimentId}`, label: run.experiment.name } : { id: s.id, kind: 'RUN', group: s.key, label: `run ${s.runId}` };
  }
  return { id: s.id, kind: s.kind, group: s.key, label: subjectLabel(s) };
}

export interface EvaluationTableModel {
  suiteId: string;
  versionId: string;
  columns: { label: string; entry: EvalSuiteDataset | null }[];
  rows: { label: string; kind: string; experimentId: string | null; subjects: EvalSubject[]; cells: TableCell[] }[];
}

/**
 * The table of `suite` (`version`, default the newest) for `subjects` (default: every subject with a result on the
 * version, runs first, then deployments and external models, each in the order they were first scored). A subject
 * given but never scored on the version is a row of empty cells. A fixed number of statements however many rows.
 */
export async function evaluationTable(db: Database, args: { suite: string; version?: number | null; subjects?: readonly SubjectInput[] | null }, env: EvalSettings): Promise<EvaluationTableModel> {
  const { suite, version } = await getVersion(db, args.suite, args.version);
  const entries = await db.prisma.evalSuiteDataset.findMany({ where: { versionId: version.id }, orderBy: { position: 'asc' }, include: { dataset: true } });
  let subjects: (EvalSubject | (Omit<EvalSubject, 'id'> & { id: null }))[];
  if (args.subjects?.length) {
    if (args.subjects.length > 200) throw badInput('a table has at most 200 subjects');
    const wanted = await Promise.all(args.subjects.map((s) => resolveSubject(db, s, env)));
    const rows = await db.prisma.evalSubject.findMany({ where: { key: { in: wanted.map((w) => w.key) } } });
    subjects = [...new Map(wanted.map((w) => [w.key, rows.find((r) => r.key === w.key) ?? { ...w, id: null, createdAt: new Date(0) }])).values()];
  } else {
    const scored = await db.prisma.evalSubject.findMany({ where: { results: { some: { versionId: version.id } } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    subjects = scored.sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  }
  const ids = subjects.flatMap((s) => (s.id ? [s.id] : []));
  const runIds = subjects.flatMap((s) => (s.runId ? [s.runId] : []));
  const [results, runRows] = await Promise.all([
    ids.length ? db.prisma.evalResult.findMany({ where: { versionId: version.id, subjectId: { in: ids } } }) : [],
    runIds.length ? db.prisma.run.findMany({ where: { id: { in: runIds } }, include: { experiment: true } }) : [],
  ]);
  const runs = new Map(runRows.map((r) => [r.id, r]));
  const scores = new Map<string, Map<string, number>>();
  for (const r of results) scores.set(r.subjectId, (scores.get(r.subjectId) ?? new Map()).set(r.entryId, r.accuracy));
  const tableSubjects = subjects.map((s) => subjectOf(s, runs));
  const core = tableRows(entries.map((e) => e.id), tableSubjects, scores);
  const byGroup = (group: string) => subjects.filter((_, i) => tableSubjects[i].group === group);
  return {
    suiteId: suite.id,
    versionId: version.id,
    columns: [...entries.map(({ dataset, ...entry }) => ({ label: columnLabel(entry, dataset), entry })), { label: 'average', entry: null }],
    rows: core.map((row) => {
      const members = byGroup(row.group);
      const seeds = members.flatMap((m) => (m.runId && runs.get(m.runId) ? [runs.get(m.runId)!.seed] : []));
      const first = tableSubjects.find((t) => t.group === row.group)!;
      const label = row.kind === 'RUN' && seeds.length ? `${first.label} (seed${seeds.length > 1 ? 's' : ''} ${seeds.join(', ')})` : first.label;
      return {
        label, kind: row.kind, cells: row.cells,
        experimentId: row.group.startsWith('experiment:') ? row.group.slice('experiment:'.length) : null,
        // subjects never scored have no row to show
        subjects: members.filter((m): m is EvalSubject => m.id !== null),
      };
    }),
  };
}
