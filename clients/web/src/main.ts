// The RIL dashboard: datasets (examples with teacher responses), experiments and runs (live curves), a comparison
// of runs (overlaid curves, final metrics, differing config keys), evaluation suites (the comparison table of a suite
// version, sortable), deployments (revisions, rollback, live latency, a try-it box that streams the answer and can
// run the student on the user's own device too: ./ondevice/, loaded on demand). Plain TypeScript over the SDK;
// charts are uPlot. Routes live in the hash.
import uPlot from 'uplot';
import './style.css';
import {
  CompareRunsDocument, DatasetExamplesDocument, DatasetsDocument, DeployDocument, DeploymentsDocument, EvalSuitesDocument,
  EvaluationTableViewDocument, ExperimentsDocument, ArtifactsDocument, MeDocument, RilClient, RilError, RollbackDeploymentDocument,
  RunDocument, RunProgressDocument, RunsDocument, describeGpus, describeStudent, type DeploymentFieldsFragment, type EvaluationTableViewQuery,
} from '../../sdk/src/index.js';

const KEY = 'ril.apiKey';
const app = document.getElementById('app')!;
let client: RilClient | null = null;
/** Timers and charts of the current page, stopped when the route changes. */
let disposers: (() => void)[] = [];

type Child = Node | string | number | null | undefined | false;
function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, unknown> = {}, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (k in el && typeof v !== 'string') (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const fmt = (v: unknown): string => {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (v === null || v === undefined) return '—';
  return typeof v === 'string' ? v : JSON.stringify(v);
};
const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');
const progressBar = (p: number) => h('span', { class: 'progress', title: `${Math.round(p * 100)}%` }, h('span', { style: `width:${Math.round(p * 100)}%` }));
const status = (s: string) => h('span', { class: `status-${s}` }, s);
const every = (ms: number, fn: () => Promise<void> | void) => { const t = setInterval(() => void fn(), ms); disposers.push(() => clearInterval(t)); };
const showError = (err: unknown) => h('p', { class: 'error' }, err instanceof RilError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err));

function ril(): RilClient {
  if (!client) throw new RilError('UNAUTHENTICATED', 'no API key');
  return client;
}

// ------------------------------------------------------------------------------------------------ charts

const PALETTE = ['#3a7bd5', '#e0662b', '#2f9e44', '#9c36b5', '#c92a2a', '#0b7285', '#5c940d', '#862e9c'];

/** The Figure-3 series first, then everything else the run reports. */
const PREFERRED = ['reward/sim_student', 'reward/sim_teacher', 'reward/answer_student', 'reward/answer_teacher', 'reward/total', 'disc/acc', 'policy/kl', 'eval/val/accuracy', 'eval/test/accuracy', 'train/loss', 'val/loss'];
/** A suite's average during training (eval/suite/<name>/avg) sits right after the rewards: Figure 3, right. */
const rank = (name: string) => {
  const i = PREFERRED.indexOf(name);
  if (i >= 0) return i;
  return /^eval\/suite\/[^/]+\/avg$/.test(name) ? PREFERRED.indexOf('reward/total') + 0.5 : 99;
};
const order = (names: string[]) => [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

interface Line { label: string; points: { step: number; value: number }[] }

/** One uPlot chart of several series over steps (aligned on the union of their steps). data-points says how many points it holds. */
function chart(title: string, lines: Line[]): HTMLElement {
  const steps = [...new Set(lines.flatMap((l) => l.points.map((p) => p.step)))].sort((a, b) => a - b);
  const index = new Map(steps.map((s, i) => [s, i]));
  const ys = lines.map((l) => {
    const y: (number | null)[] = new Array(steps.length).fill(null);
    for (const p of l.points) y[index.get(p.step)!] = p.value;
    return y;
  });
  const total = lines.reduce((n, l) => n + l.points.length, 0);
  const box = h('div', { class: 'chart', 'data-metric': title, 'data-points': total, 'data-series': lines.length }, h('h3', {}, title));
  const plot = new uPlot({
    width: 420, height: 200, legend: { show: true },
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [{ label: 'step' }, ...lines.map((l, i) => ({ label: l.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true, points: { show: l.points.length < 40 } }))],
  }, [steps, ...ys] as uPlot.AlignedData, box);
  disposers.push(() => plot.destroy());
  return box;
}

// ------------------------------------------------------------------------------------------------ pages

async function datasetsPage() {
  const { datasets } = await ril().request(DatasetsDocument, { first: 50 });
  app.replaceChildren(h('h1', {}, 'Datasets'), h('table', {},
    h('tr', {}, h('th', {}, 'name'), h('th', {}, 'version'), h('th', {}, 'examples'), h('th', {}, 'splits'), h('th', {}, 'created')),
    datasets.edges.map(({ node: d }) => h('tr', {},
      h('td', {}, h('a', { href: `#/datasets/${d.id}` }, d.name)), h('td', { class: 'num' }, d.version), h('td', { class: 'num' }, d.exampleCount),
      h('td', {}, d.stats.splits.map((s) => `${s.split} ${s.count}`).join(', ')), h('td', {}, when(d.createdAt))))));
}

async function datasetPage(id: string, params: URLSearchParams) {
  const split = (params.get('split') || undefined) as 'train' | 'val' | 'test' | undefined;
  const { dataset } = await ril().request(DatasetExamplesDocument, { id, first: 24, after: params.get('after') || undefined, split });
  if (!dataset) throw new RilError('NOT_FOUND', `dataset ${id} not found`);
  const ex = dataset.examples;
  app.replaceChildren(
    h('h1', {}, `${dataset.name} v${dataset.version}`),
    h('p', { class: 'muted' }, `${dataset.exampleCount} examples · teachers: `,
      dataset.teacherCoverage.map((c) => `${c.teacher.name} (${c.teacher.model}: ${c.covered}/${c.total} covered, ${c.responses} responses)`).join('; ') || 'none'),
    h('div', { class: 'row' }, 'split:', ['', 'train', 'val', 'test'].map((s) => h('a', { href: `#/datasets/${id}${s ? `?split=${s}` : ''}` }, s || 'all'))),
    h('div', { class: 'examples' }, ex.edges.map(({ node: e }) => h('div', { class: 'card example', 'data-example': e.externalId },
      h('img', { src: ril().resolveUrl(e.imageUrl), alt: e.question, loading: 'lazy' }),
      h('div', {},
        h('div', {}, h('b', {}, 'Q '), e.question),
        h('div', {}, h('b', {}, 'A '), e.answer, h('span', { class: 'muted' }, ` · ${e.split} · ${e.externalId}`)),
        e.teacherResponses.map((r) => h('div', { class: 'teacher' }, h('b', {}, `${r.teacher.name}#${r.sample}: `), r.text)))))),
    ex.pageInfo.hasNextPage ? h('p', {}, h('a', { href: `#/datasets/${id}?${new URLSearchParams({ ...(split ? { split } : {}), after: ex.pageInfo.endCursor ?? '' })}` }, 'next page →')) : "",
  );
}

async function experimentsPage() {
  const render = async () => {
    const { experiments } = await ril().request(ExperimentsDocument, { first: 100 });
    app.replaceChildren(h('h1', {}, 'Experiments'), h('table', {},
      h('tr', {}, ['experiment', 'algorithm', 'student', 'GPUs', 'dataset', 'teachers', 'runs'].map((c) => h('th', {}, c))),
      experiments.edges.map(({ node: x }) => h('tr', { 'data-experiment': x.name },
        h('td', {}, x.name), h('td', {}, x.algorithm), h('td', { 'data-student': x.student.family }, describeStudent(x.student)),
        h('td', { class: 'num', 'data-gpus': x.gpus }, x.gpus || '—'), h('td', {}, x.dataset.name), h('td', {}, x.teachers.join(', ') || '—'),
        h('td', {}, x.runs.map((r) => h('div', { class: 'row' },
          h('a', { href: `#/runs/${r.id}` }, `seed ${r.seed}`), status(r.status), progressBar(r.progress), `${r.step}/${r.totalSteps}`)))))));
  };
  await render();
  every(3000, render);
}

async function runPage(id: string) {
  const { run } = await ril().request(RunDocument, { id });
  if (!run) throw new RilError('NOT_FOUND', `run ${id} not found`);
  const head = h('div', {});
  const charts = h('div', { class: 'charts' });
  app.replaceChildren(
    h('h1', {}, `${run.experiment.name} · seed ${run.seed}`),
    h('p', { id: 'run-student' }, `${run.experiment.algorithm} · student ${describeStudent(run.experiment.student)} · needs ${describeGpus(run.experiment.gpus)}`),
    head,
    h('p', {}, h('a', { href: `#/compare?runs=${id}` }, 'compare with other runs →')),
    h('h2', {}, 'Curves'), charts,
    h('h2', {}, 'Artifacts'),
    h('table', {}, h('tr', {}, ['kind', 'name', 'size', 'created'].map((c) => h('th', {}, c))),
      run.artifacts.map((a) => h('tr', {}, h('td', {}, a.kind), h('td', {}, a.name), h('td', { class: 'num' }, a.size), h('td', {}, when(a.createdAt))))),
  );
  let last = '';
  const refresh = async () => {
    const { run: r } = await ril().request(RunProgressDocument, { id, points: 500 });
    if (!r) return;
    head.replaceChildren(h('div', { class: 'row', id: 'run-status' }, status(r.status), progressBar(r.progress), `step ${r.step}/${r.totalSteps}`,
      h('span', { class: 'muted' }, `started ${when(r.startedAt)} · finished ${when(r.finishedAt)}`)),
      // a queued run whose job needs more GPUs than any live worker has says so, instead of looking stuck
      r.job?.waitingFor ? h('p', { class: 'muted', id: 'run-waiting' }, r.job.waitingFor) : "",
      r.error ? h('p', { class: 'error' }, r.error) : "");
    const key = `${r.status}:${r.metrics.map((m) => `${m.name}=${m.points.length}@${m.points.at(-1)?.step}`).join(',')}`;
    if (key === last) return;
    last = key;
    for (const d of disposers.splice(1)) d(); // keep the poll timer (the first disposer), drop the old charts
    const byName = new Map(r.metrics.map((m) => [m.name, m.points]));
    charts.replaceChildren(...order([...byName.keys()]).map((n) => chart(n, [{ label: n, points: byName.get(n)! }])));
    if (!byName.size) charts.replaceChildren(h('p', { class: 'muted' }, 'no metrics yet'));
    if (r.status !== 'RUNNING' && r.status !== 'QUEUED') disposers[0]?.();
  };
  every(2000, refresh);
  await refresh();
}

async function comparePage(params: URLSearchParams) {
  const selected = new Set((params.get('runs') ?? '').split(',').filter(Boolean));
  const { runs } = await ril().request(RunsDocument, { first: 200 });
  const picker = h('div', { class: 'card' }, h('b', {}, 'Pick runs: '), runs.map((r) => h('label', { style: 'margin-right:12px' },
    h('input', { type: 'checkbox', value: r.id, checked: selected.has(r.id), 'data-run': r.id, onchange: (ev: Event) => {
      const box = ev.target as HTMLInputElement;
      if (box.checked) selected.add(box.value); else selected.delete(box.value);
      location.hash = `#/compare?runs=${[...selected].join(',')}`;
    } }),
    ` ${r.experiment.name} (seed ${r.seed}, ${r.status})`)));
  const body = h('div', { id: 'comparison' });
  app.replaceChildren(h('h1', {}, 'Compare runs'), picker, body);
  if (selected.size < 2) return void body.replaceChildren(h('p', { class: 'muted' }, 'Pick at least two runs.'));
  const ids = [...selected];
  const { compareRuns: c } = await ril().request(CompareRunsDocument, { ids, points: 300 });
  const label = (runId: string) => { const r = c.runs.find((x) => x.id === runId)!; return `${r.experiment.name} s${r.seed}`; };
  const finals = new Map(c.finals.map((f) => [f.runId, new Map(f.metrics.map((m) => [m.name, m.value]))]));
  const finalNames = [...new Set(c.finals.flatMap((f) => f.metrics.map((m) => m.name)))].sort();
  const headRow = h('tr', {}, h('th', {}, ''), c.runs.map((r) => h('th', {}, label(r.id))));
  body.replaceChildren(
    h('h2', {}, 'Final metrics'),
    h('table', { id: 'finals' }, headRow.cloneNode(true),
      h('tr', {}, h('td', {}, 'algorithm'), c.runs.map((r) => h('td', {}, r.experiment.algorithm))),
      h('tr', { 'data-setting': 'student' }, h('td', {}, 'student'), c.runs.map((r) => h('td', {}, describeStudent(r.experiment.student)))),
      h('tr', {}, h('td', {}, 'status'), c.runs.map((r) => h('td', {}, status(r.status), ` ${r.step}/${r.totalSteps}`))),
      finalNames.map((n) => h('tr', { 'data-final': n }, h('td', {}, n), c.runs.map((r) => h('td', { class: 'num' }, fmt(finals.get(r.id)?.get(n))))))),
    h('h2', {}, 'Config'),
    h('table', { id: 'config-diff' }, headRow.cloneNode(true),
      c.differingConfig.length ? c.differingConfig.map((d) => h('tr', { class: 'differs', 'data-key': d.key }, h('td', {}, d.key), d.values.map((v) => h('td', {}, fmt(v)))))
        : h('tr', {}, h('td', { colspan: c.runs.length + 1 }, 'no config key differs'))),
    h('h2', {}, 'Curves'),
    h('div', { class: 'charts' }, order(c.series.map((s) => s.name)).map((name) => {
      const s = c.series.find((x) => x.name === name)!;
      return chart(name, s.runs.map((r) => ({ label: label(r.runId), points: r.points })));
    })),
  );
}

// ------------------------------------------------------------------------------------------------ evaluation suites

type EvalTable = EvaluationTableViewQuery['evaluationTable'];
type EvalRow = EvalTable['rows'][number];
type EvalCell = EvalRow['cells'][number];
type EvalExperiment = NonNullable<EvalRow['experiment']>;
interface EvalSort { col: number; dir: 'descending' | 'ascending' }

const suiteHref = (name: string, version?: number) => `#/evals/${encodeURIComponent(name)}${version ? `?version=${version}` : ''}`;

async function evalsPage() {
  const { evalSuites } = await ril().request(EvalSuitesDocument, {});
  app.replaceChildren(h('h1', {}, 'Evaluation suites'), evalSuites.length ? h('table', { id: 'suites' },
    h('tr', {}, ['suite', 'description', 'versions', 'datasets (newest version)', 'created'].map((c) => h('th', {}, c))),
    evalSuites.map((s) => h('tr', { 'data-suite': s.name },
      h('td', {}, h('a', { href: suiteHref(s.name) }, s.name)), h('td', {}, s.description ?? ''),
      h('td', {}, h('div', { class: 'row' }, s.versions.map((v) => h('a', { href: suiteHref(s.name, v.version) }, `v${v.version}`)))),
      h('td', { class: 'num' }, s.latest.datasets.length), h('td', {}, when(s.createdAt)))))
    : h('p', { class: 'muted' }, 'No suites yet: ril eval suite create.'));
}

/** Accuracies in percent with one decimal, as `ril eval table` prints them. */
const pct = (v: number) => (v * 100).toFixed(1);
/** "81.3 ± 2.1"; a single value has no interval, a missing one is a dash. */
const cellText = (c: EvalCell) => (c.mean === null ? '—' : c.halfWidth === null ? pct(c.mean) : `${pct(c.mean)} ± ${pct(c.halfWidth)}`);
const cellTitle = (c: EvalCell) => (c.mean === null ? 'no result' : `n=${c.n}${c.low !== null && c.high !== null ? ` · 95% interval ${pct(c.low)}–${pct(c.high)}` : ''}`);
const kindBadge = (kind: string) => h('span', { class: `kind kind-${kind}` }, kind);

/** Flattens settings to dotted keys ("config.lr"), the names compareRuns gives its differing keys. */
function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out[prefix] = value;
  return out;
}

const settingsOf = (e: EvalExperiment) => flatten({ algorithm: e.algorithm, studentSize: e.studentSize, teachers: e.teachers, config: e.config });

/**
 * For each run row, `key=value` for the settings that differ between the experiments in the table: what sets the
 * rows apart, without the dozens of keys they share. The API has no such field for a table, so it is worked out here
 * from each row's experiment; a missing key counts as null, as in compareRuns.
 */
function differingSettings(rows: readonly EvalRow[]): Map<EvalRow, string[]> {
  const flat = new Map(rows.flatMap((r) => (r.kind === 'RUN' && r.experiment ? [[r, settingsOf(r.experiment)] as const] : [])));
  const keys = [...new Set([...flat.values()].flatMap((f) => Object.keys(f)))].sort();
  const differ = keys.filter((k) => new Set([...flat.values()].map((f) => JSON.stringify(f[k] ?? null))).size > 1);
  return new Map([...flat].map(([r, f]) => [r, differ.map((k) => `${k}=${fmt(f[k] ?? null)}`)]));
}

/** The same column again flips the direction; another column starts descending (the best first). */
const nextSort = (sort: EvalSort | null, col: number): EvalSort =>
  ({ col, dir: sort?.col === col && sort.dir === 'descending' ? 'ascending' : 'descending' });

/** Rows by one column's mean; rows without a value go last either way (no result is not a low score). Stable. */
function sortRows(rows: readonly EvalRow[], sort: EvalSort | null): EvalRow[] {
  if (!sort) return [...rows];
  const sign = sort.dir === 'descending' ? -1 : 1;
  const mean = (r: EvalRow) => r.cells[sort.col]?.mean ?? null;
  return [...rows].sort((a, b) => {
    const x = mean(a), y = mean(b);
    if (x === null || y === null) return Number(x === null) - Number(y === null);
    return sign * (x - y);
  });
}

function evalHeader(table: EvalTable, sort: EvalSort | null, onSort: (col: number) => void): HTMLTableRowElement {
  const mark = (i: number) => (sort?.col !== i ? '' : sort.dir === 'descending' ? ' ▼' : ' ▲');
  return h('tr', {}, h('th', {}, 'subject'), h('th', { class: 'num', title: 'seeds (runs) a grouped row is over' }, 'n'),
    // the whole header cell takes the click; the button inside makes it reachable and usable from the keyboard
    table.columns.map((c, i) => h('th', { class: 'num sortable', 'data-col': c.label, 'aria-sort': sort?.col === i ? sort.dir : 'none', onclick: () => onSort(i) },
      h('button', { title: 'sort by this column' }, c.entry ? c.label : 'Average', mark(i)))),
    h('th', {}, 'config'));
}

function evalRow(r: EvalRow, columns: EvalTable['columns'], settings: string[] | undefined): HTMLTableRowElement {
  return h('tr', { 'data-row': r.label, 'data-kind': r.kind },
    h('td', {}, kindBadge(r.kind), r.label),
    h('td', { class: 'num' }, r.kind === 'RUN' && r.experiment ? r.subjects.length : ''),
    r.cells.map((c, i) => h('td', { class: c.best ? 'num best' : 'num', 'data-col': columns[i]?.label, title: cellTitle(c) }, cellText(c))),
    h('td', { class: 'config' }, (settings ?? []).map((s) => h('span', { class: 'pair' }, s))));
}

async function evalTablePage(name: string, params: URLSearchParams) {
  const version = Number(params.get('version')) || undefined;
  const { evaluationTable: table } = await ril().request(EvaluationTableViewDocument, { suite: name, version });
  const settings = differingSettings(table.rows);
  const at = table.version.version;
  // sorting is a view of the rows already here: no new request, and the hash (the version) stays as it is
  let sort: EvalSort | null = null;
  const grid = h('table', { id: 'eval-table', class: 'eval' });
  const render = () => grid.replaceChildren(
    h('thead', {}, evalHeader(table, sort, (col) => { sort = nextSort(sort, col); render(); })),
    h('tbody', {}, sortRows(table.rows, sort).map((r) => evalRow(r, table.columns, settings.get(r)))));
  render();
  app.replaceChildren(
    h('h1', {}, `${table.suite.name} · version ${at}`),
    table.suite.description ? h('p', { class: 'muted' }, table.suite.description) : '',
    h('div', { class: 'row', id: 'versions' }, 'version:', table.suite.versions.map((v) => (v.version === at ? h('b', {}, `v${v.version}`) : h('a', { href: suiteHref(name, v.version) }, `v${v.version}`))),
      h('span', { class: 'muted' }, table.version.frozen ? '· scored (frozen)' : '· nothing scored yet')),
    table.rows.length ? grid : h('p', { class: 'muted' }, 'No results on this version yet.'),
    h('p', { class: 'muted' }, 'Accuracy in percent. Runs of one experiment make one row: the mean over its seeds ± the half-width of the 95% interval (Student\'s t). The best mean of each column is bold; the average is over subjects scored on every dataset. Click a column to sort.'),
  );
}

function readFile(file: File): Promise<Uint8Array> {
  return file.arrayBuffer().then((b) => new Uint8Array(b));
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;

/**
 * The "Run on this device" pane of the try-it box: the deployment's live bundle run in this browser (./ondevice/,
 * imported on first use, so onnxruntime-web is not part of the dashboard's first load), with a progress bar while
 * its files download, where they came from (downloaded, or cached on this device), the provider that ran it, and
 * the answer with its time to first token and tokens/s. data-* attributes carry the same for tests.
 */
function onDevicePane() {
  const status = h('div', { class: 'muted', id: 'ondevice-status' }, 'not run yet: tick "Run on this device" and ask');
  const fill = h('span', { style: 'width:0%' });
  const bar = h('span', { class: 'progress wide', id: 'ondevice-progress', hidden: true }, fill);
  const out = h('div', { class: 'answer', id: 'ondevice-answer' });
  const timings = h('div', { class: 'muted', id: 'ondevice-timings' });
  const pane = h('div', { class: 'pane', id: 'ondevice-pane' }, h('b', {}, 'This device'), bar, status, out, timings);
  const reset = () => {
    out.textContent = '';
    timings.textContent = '';
    for (const k of ['done', 'tokenIds', 'provider', 'source', 'error']) { delete out.dataset[k]; delete pane.dataset[k]; }
  };
  async function run(req: { deployment: string; image: File; question: string }) {
    reset();
    status.textContent = 'loading the on-device runner…';
    try {
      const { runOnDevice } = await import('./ondevice/index.js');
      const r = await runOnDevice({
        origin: location.origin, apiKey: localStorage.getItem(KEY) ?? '', ...req,
        onProgress: (p) => {
          bar.hidden = false;
          fill.style.width = `${p.total ? Math.round((p.received / p.total) * 100) : 100}%`;
          bar.title = `${mb(p.received)} / ${mb(p.total)}`;
          status.textContent = p.file ? `fetching the bundle: ${p.file} · ${mb(p.received)} / ${mb(p.total)}` : `bundle here: ${mb(p.total)}, checked (sha256)`;
        },
        onReady: (info) => {
          const where = info.source === 'cached' ? 'cached on this device (nothing downloaded)' : info.source === 'loaded' ? 'already loaded in this page'
            : `downloaded ${mb(info.downloadedBytes)}${info.cacheable ? ', now cached on this device' : ' (not cached: the Cache API needs https)'}`;
          status.textContent = `revision ${info.revision} · ${where} · running on ${info.provider.toUpperCase()}${info.fallback ? ` (${info.fallback})` : ''} · generating…`;
          Object.assign(pane.dataset, { provider: info.provider, source: info.source });
        },
        onToken: (_id, text) => { out.textContent += text; },
      });
      status.textContent = status.textContent!.replace(' · generating…', '');
      Object.assign(out.dataset, { done: '1', tokenIds: JSON.stringify(r.tokenIds) });
      timings.textContent = `${r.tokenIds.length} tokens (${r.finishReason}) · on this device (${r.provider}): TTFT ${fmt(r.ttftMs)} ms, total ${fmt(r.totalMs)} ms, ` +
        `${fmt(r.tokensPerSecond)} tok/s${r.resizedFrom ? ` · the image (${r.resizedFrom.join('x')}) was resized to the model's size here; the server refuses other sizes` : ''}`;
    } catch (err) {
      pane.dataset.error = '1';
      status.replaceChildren(showError(err));
    }
  }
  return { pane, run, reset };
}

async function deploymentsPage() {
  const [{ deployments }, { artifacts }] = await Promise.all([ril().request(DeploymentsDocument, {}), ril().request(ArtifactsDocument, { kind: 'BUNDLE' })]);
  const list = h('div', {});
  const latencyCells = new Map<string, HTMLElement>();
  const renderList = (ds: DeploymentFieldsFragment[]) => {
    latencyCells.clear();
    list.replaceChildren(...ds.map((d) => {
      const lat = h('div', { class: 'muted', 'data-latency': d.name });
      latencyCells.set(d.name, lat);
      setLatency(d);
      return h('div', { class: 'card', 'data-deployment': d.name },
        h('div', { class: 'row' }, h('b', {}, d.name), status(d.status), `live revision ${d.liveRevision?.revision ?? '—'}`, d.error ? h('span', { class: 'error' }, d.error) : null),
        lat,
        h('table', {}, h('tr', {}, ['revision', 'artifact', 'run', 'note', 'created', ''].map((c) => h('th', {}, c))),
          d.revisions.map((r) => h('tr', {}, h('td', {}, r.live ? h('b', {}, `${r.revision} (live)`) : r.revision), h('td', {}, r.artifact.name),
            h('td', {}, r.artifact.runId ? h('a', { href: `#/runs/${r.artifact.runId}` }, r.artifact.runId) : '—'), h('td', {}, r.note ?? ''), h('td', {}, when(r.createdAt)),
            h('td', {}, r.live ? '' : h('button', { 'data-rollback': `${d.name}:${r.revision}`, onclick: async () => {
              try { await ril().request(RollbackDeploymentDocument, { name: d.name, revision: r.revision }); await refresh(); } catch (err) { list.prepend(showError(err)); }
            } }, `make live`))))));
    }));
  };
  const setLatency = (d: DeploymentFieldsFragment) => {
    const l = d.latency;
    latencyCells.get(d.name)?.replaceChildren(`latency (live revision, last ${l.requests} requests): p50 ${fmt(l.p50Ms)} ms · p95 ${fmt(l.p95Ms)} ms · TTFT p50 ${fmt(l.ttftP50Ms)} ms · decode ${fmt(l.decodeTokensPerSecond)} tok/s`);
  };
  const refresh = async () => renderList((await ril().request(DeploymentsDocument, {})).deployments);

  const depName = h('input', { name: 'deployment-name', placeholder: 'deployment name', value: deployments[0]?.name ?? 'student' });
  const artifact = h('select', { name: 'artifact' }, artifacts.map((a) => h('option', { value: a.id }, `${a.name} · ${a.id}${a.runId ? ` · run ${a.runId}` : ''}`)));
  const note = h('input', { name: 'note', placeholder: 'note' });
  const deployMsg = h('span', { class: 'muted' });
  const deployForm = h('div', { class: 'card' }, h('b', {}, 'Deploy a bundle'), h('div', { class: 'row' }, depName, artifact, note,
    h('button', { id: 'deploy', onclick: async () => {
      deployMsg.textContent = 'deploying (loading and warming up)…';
      try {
        const { deploy } = await ril().request(DeployDocument, { input: { name: depName.value, artifactId: artifact.value, note: note.value || undefined } });
        deployMsg.textContent = `${deploy.name} revision ${deploy.liveRevision?.revision} is live`;
        await refresh();
        tryDeployment.value = deploy.name;
      } catch (err) { deployMsg.replaceChildren(showError(err)); }
    } }, 'Deploy'), deployMsg));

  const tryDeployment = h('input', { name: 'try-deployment', value: deployments[0]?.name ?? '' });
  const file = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp', name: 'image' });
  const preview = h('img', { style: 'width:84px;height:84px;image-rendering:pixelated;display:none;border:1px solid #ccd' });
  file.addEventListener('change', () => { if (file.files?.[0]) { preview.src = URL.createObjectURL(file.files[0]); preview.style.display = ''; } });
  const question = h('input', { name: 'question', placeholder: 'question', size: 50, value: 'What item of clothing is this?' });
  const answer = h('div', { class: 'answer', id: 'answer' });
  const timings = h('div', { class: 'muted', id: 'timings' });
  const device = onDevicePane();
  const onDevice = h('input', { type: 'checkbox', name: 'on-device' });
  const askServer = async (f: File) => {
    answer.textContent = '';
    delete answer.dataset.done;
    timings.textContent = 'generating…';
    try {
      const started = performance.now();
      let first = 0;
      const r = await ril().infer({ deployment: tryDeployment.value, image: await readFile(f), question: question.value },
        { onToken: (text) => { if (!first) first = performance.now() - started; answer.textContent += text; } });
      answer.dataset.done = '1';
      answer.dataset.tokenIds = JSON.stringify(r.token_ids);
      timings.textContent = `revision ${r.revision} · ${r.tokens} tokens (${r.finish_reason}) · server: TTFT ${fmt(r.timings.ttft_ms)} ms, total ${fmt(r.timings.total_ms)} ms, ` +
        `${fmt(r.timings.decode_tokens_per_s)} tok/s · in the browser: first token after ${fmt(first)} ms, done after ${fmt(performance.now() - started)} ms`;
      await refresh();
    } catch (err) { timings.replaceChildren(showError(err)); }
  };
  const ask = h('button', { id: 'ask', onclick: async () => {
    const f = file.files?.[0];
    if (!f) return void timings.replaceChildren(showError(new Error('choose an image first')));
    ask.disabled = true;
    device.reset(); // at once, so nothing of the last answer stands while the server answers this one
    // one after the other, not at once: each side's timings are then its own, not a share of this machine's cores
    try {
      await askServer(f);
      if (onDevice.checked) await device.run({ deployment: tryDeployment.value, image: f, question: question.value });
    } finally { ask.disabled = false; }
  } }, 'Ask');

  app.replaceChildren(h('h1', {}, 'Deployments'), deployForm, list,
    h('h2', {}, 'Try it'), h('div', { class: 'card', id: 'try-it' }, h('div', { class: 'row' }, 'deployment', tryDeployment, file, preview),
      h('div', { class: 'row' }, question, ask, h('label', { title: 'also answer with the deployed student in this browser (downloaded once, then cached)' }, onDevice, ' Run on this device')),
      h('div', { class: 'side-by-side' }, h('div', { class: 'pane', id: 'server-pane' }, h('b', {}, 'Server'), answer, timings), device.pane)));
  renderList(deployments);
  every(3000, async () => { for (const d of (await ril().request(DeploymentsDocument, {})).deployments) setLatency(d); });
}

function keyPage(message?: string) {
  const input = h('input', { type: 'password', name: 'api-key', size: 60, placeholder: 'ril_...' });
  app.replaceChildren(h('h1', {}, 'API key'), h('p', {}, 'Enter an API key once; it is kept in this browser (localStorage).'),
    message ? h('p', { class: 'error' }, message) : "",
    h('div', { class: 'row' }, input, h('button', { id: 'save-key', onclick: () => { localStorage.setItem(KEY, input.value.trim()); void route(); } }, 'Save')));
}

async function route() {
  for (const d of disposers.splice(0)) d();
  const key = localStorage.getItem(KEY);
  if (!key) return keyPage();
  client = new RilClient({ url: location.origin, apiKey: key });
  const [path, query] = (location.hash.slice(1) || '/experiments').split('?');
  const params = new URLSearchParams(query ?? '');
  const parts = path.split('/').filter(Boolean);
  try {
    const { me } = await ril().request(MeDocument, {});
    document.getElementById('who')!.replaceChildren(`${me.name} (${me.role}) `, h('button', { onclick: () => { localStorage.removeItem(KEY); void route(); } }, 'forget key'));
    app.replaceChildren(h('p', { class: 'muted' }, 'loading…'));
    if (parts[0] === 'datasets' && parts[1]) await datasetPage(parts[1], params);
    else if (parts[0] === 'datasets') await datasetsPage();
    else if (parts[0] === 'runs' && parts[1]) await runPage(parts[1]);
    else if (parts[0] === 'compare') await comparePage(params);
    else if (parts[0] === 'evals' && parts[1]) await evalTablePage(decodeURIComponent(parts[1]), params);
    else if (parts[0] === 'evals') await evalsPage();
    else if (parts[0] === 'deployments') await deploymentsPage();
    else await experimentsPage();
  } catch (err) {
    if (err instanceof RilError && err.code === 'UNAUTHENTICATED') return keyPage(`The key was refused: ${err.message}`);
    app.replaceChildren(showError(err));
  }
}

window.addEventListener('hashchange', () => void route());
void route();
