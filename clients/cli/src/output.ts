// Output and failure policy for every command: --json prints one JSON document on stdout; otherwise a
// human summary. Failures print `error: <message>` (and bad lines) on stderr and exit 1.
import { InvalidArgumentError } from 'commander';
import Table from 'cli-table3';
import cliProgress from 'cli-progress';

export interface OutputOptions { json?: boolean }

export function print(opts: OutputOptions, value: unknown, human: () => string) {
  process.stdout.write(opts.json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}

export function table(head: string[], rows: (string | number | null | undefined)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] } });
  for (const r of rows) t.push(r.map((c) => (c == null ? '' : String(c))));
  return t.toString();
}

/** A progress bar on stderr (so --json stdout stays clean); silent when stderr is not a terminal or in --json mode. */
export function progressBar(opts: OutputOptions, label: string) {
  const enabled = !opts.json && process.stderr.isTTY;
  const bar = new cliProgress.SingleBar({
    format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted} {extra}`,
    stream: process.stderr,
    hideCursor: true,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  let lastLogged = 0;
  let lastLine = '';
  return {
    update(done: number, total: number, extra = '') {
      if (enabled) {
        if (!started) { bar.start(total, 0, { extra }); started = true; }
        bar.setTotal(total);
        bar.update(done, { extra });
      } else if (!opts.json) {
        // without a terminal: a line when something changed, at most every 2 s (and a reminder every 30 s)
        const line = `${label}: ${done}/${total} ${extra}`;
        const now = Date.now();
        if ((line !== lastLine && (now - lastLogged > 2000 || done === total)) || now - lastLogged > 30_000) {
          lastLogged = now;
          lastLine = line;
          process.stderr.write(line + '\n');
        }
      }
    },
    stop() { if (started) bar.stop(); },
  };
}

export function fail(err: unknown): never {
  const e = err as { message?: string; extensions?: { code?: string; errors?: { line: number; message: string }[] } };
  const code = e.extensions?.code ? ` [${e.extensions.code}]` : '';
  process.stderr.write(`error${code}: ${e.message ?? String(err)}\n`);
  for (const line of e.extensions?.errors ?? []) process.stderr.write(`  line ${line.line}: ${line.message}\n`);
  process.exit(1);
}

// commander parsers for numeric options. They throw commander's InvalidArgumentError, which commander turns into a
// usage error (`error: option '--limit <n>' argument 'abc' is invalid. not an integer: abc`, exit 2); any other
// error thrown by a parser would escape as a stack trace.

/** Integer options: `--limit 3.5` or `--limit abc` is a usage error, not a silent 3 or NaN. */
export function intOption(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isInteger(n)) throw new InvalidArgumentError(`not an integer: ${v}`);
  return n;
}

/** Numeric options (`--temperature 0.7`): any finite number. */
export function numberOption(v: string): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`not a number: ${v}`);
  return n;
}
