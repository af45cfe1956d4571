// The worker's API key, kept off the command line: argv is visible to every user of the machine (ps, /proc), so a
// key comes from RIL_API_KEY or a key file only its owner can read. `--key` still works, with a warning.
import fs from 'node:fs';

/** The key in `file` (trimmed); refuses a file that group or others may read or write, like ssh does. */
export function readKeyFile(file: string): string {
  let stat: fs.Stats;
  try { stat = fs.statSync(file); } catch { throw new Error(`--key-file ${file} not found`); }
  if (!stat.isFile()) throw new Error(`--key-file ${file} is not a regular file`);
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new Error(`--key-file ${file} is accessible to other users (mode ${(stat.mode & 0o777).toString(8)}): chmod 600 ${file}`);
  }
  const key = fs.readFileSync(file, 'utf8').trim();
  if (!key) throw new Error(`--key-file ${file} is empty`);
  return key;
}

export const KEY_ON_ARGV_WARNING = 'warning: --key is deprecated: the command line is visible to other users (ps); use RIL_API_KEY or --key-file (mode 600)';

/** --key-file, else --key (deprecated, warned on stderr), else RIL_API_KEY. */
export function workerKey(opts: { key?: string; keyFile?: string }, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (opts.keyFile) return readKeyFile(opts.keyFile);
  if (opts.key) { console.error(KEY_ON_ARGV_WARNING); return opts.key; }
  return env.RIL_API_KEY || undefined;
}
