// The comparison table of an evaluation suite as text: Markdown, CSV (RFC 4180) and LaTeX (booktabs). Pure functions
// of the table the API returns (Query.evaluationTable), so `ril eval table` and the tests share them. Accuracies are
// shown in percent with one decimal (CSV: two), a group of seeds as "mean ± half-width of the 95% interval".

export interface TableCellText { mean: number | null; halfWidth: number | null; n: number; best: boolean }
export interface TableText {
  columns: { label: string }[];
  rows: { label: string; cells: TableCellText[] }[];
}
export type TableFormat = 'markdown' | 'csv' | 'latex';
export const TABLE_FORMATS: readonly TableFormat[] = ['markdown', 'csv', 'latex'];

const pct = (v: number, digits: number) => (v * 100).toFixed(digits);

/** "65.0" or "65.0 ± 3.1"; null when there is no value. */
function cellText(cell: TableCellText, pm: string): string | null {
  if (cell.mean === null) return null;
  return cell.halfWidth === null ? pct(cell.mean, 1) : `${pct(cell.mean, 1)}${pm}${pct(cell.halfWidth, 1)}`;
}

// ---------------------------------------------------------------- Markdown

/** Pipes end a cell and a newline ends the row; backslashes are doubled so that `\|` stays ours. */
const mdEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

export function toMarkdown(t: TableText): string {
  const head = ['subject', ...t.columns.map((c) => c.label)].map(mdEscape);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of t.rows) {
    const cells = row.cells.map((c) => {
      const text = cellText(c, ' ± ');
      return text === null ? '–' : c.best ? `**${text}**` : text;
    });
    lines.push(`| ${[mdEscape(row.label), ...cells].join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- CSV (RFC 4180)

/** A field with a comma, a double quote, CR or LF is quoted, its quotes doubled; every other field as is. */
export const csvField = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * One row per table row: subject, n (the most values any of its cells is over: the seeds), each column's mean and
 * half-width in percent (empty when absent), then `best`: the columns where the row is best, separated by "; ".
 * Lines end with CRLF, as RFC 4180 says.
 */
export function toCsv(t: TableText): string {
  const head = ['subject', 'n', ...t.columns.flatMap((c) => [c.label, `${c.label} ±95%`]), 'best'];
  const lines = [head.map(csvField).join(',')];
  for (const row of t.rows) {
    const fields = [
      row.label,
      String(Math.max(0, ...row.cells.map((c) => c.n))),
      ...row.cells.flatMap((c) => [c.mean === null ? '' : pct(c.mean, 2), c.halfWidth === null ? '' : pct(c.halfWidth, 2)]),
      t.columns.filter((_, i) => row.cells[i]?.best).map((c) => c.label).join('; '),
    ];
    lines.push(fields.map(csvField).join(','));
  }
  return lines.join('\r\n') + '\r\n';
}

// ---------------------------------------------------------------- LaTeX

const LATEX: Record<string, string> = {
  '\\': '\\textbackslash{}', '&': '\\&', '%': '\\%', '$': '\\$', '#': '\\#', '_': '\\_', '{': '\\{', '}': '\\}',
  '~': '\\textasciitilde{}', '^': '\\textasciicircum{}',
  // not special to LaTeX, but the default (OT1) text font prints them as other glyphs
  '|': '\\textbar{}', '<': '\\textless{}', '>': '\\textgreater{}',
};
/** Every character LaTeX treats specially, in one pass (so the braces of an escape are not escaped again). */
export const latexEscape = (s: string) => s.replace(/[\\&%$#_{}~^|<>]/g, (ch) => LATEX[ch]).replace(/\r?\n/g, ' ');

/** A booktabs tabular (needs \usepackage{booktabs}); the best cell of each column in bold, no value as "--". */
export function toLatex(t: TableText): string {
  const lines = [
    '% needs \\usepackage{booktabs}',
    `\\begin{tabular}{l${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    `${['Subject', ...t.columns.map((c) => c.label)].map(latexEscape).join(' & ')} \\\\`,
    '\\midrule',
  ];
  for (const row of t.rows) {
    const cells = row.cells.map((c) => {
      const text = cellText(c, ' $\\pm$ ');
      return text === null ? '--' : c.best ? `\\textbf{${text}}` : text;
    });
    lines.push(`${[latexEscape(row.label), ...cells].join(' & ')} \\\\`);
  }
  lines.push('\\bottomrule', '\\end{tabular}');
  return lines.join('\n') + '\n';
}

export function formatTable(t: TableText, format: TableFormat): string {
  switch (format) {
    case 'markdown': return toMarkdown(t);
    case 'csv': return toCsv(t);
    case 'latex': return toLatex(t);
  }
}

/** `--dataset NAME[:split[:limit]]` of `ril eval suite create`. */
export function parseDatasetSpec(spec: string): { dataset: string; split?: 'train' | 'val' | 'test'; sampleLimit?: number } {
  const [dataset, split, limit, ...rest] = spec.split(':');
  if (!dataset || rest.length) throw new Error(`--dataset ${spec}: expected NAME[:split[:limit]]`);
  if (split && !['train', 'val', 'test'].includes(split)) throw new Error(`--dataset ${spec}: split must be train, val or test`);
  if (limit !== undefined && !/^[1-9]\d*$/.test(limit)) throw new Error(`--dataset ${spec}: limit must be a positive integer`);
  return { dataset, ...(split ? { split: split as 'train' | 'val' | 'test' } : {}), ...(limit ? { sampleLimit: Number(limit) } : {}) };
}
