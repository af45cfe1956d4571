// Temporary files a crashed process left behind (an upload cut off by kill -9, a bundle unpack interrupted): nothing
// else ever removes them. Swept once per process and folder, when the folder is first written to, and only entries
// older than an hour (a live process, a CLI command sharing RIL_HOME, may be writing the younger ones).
import fsp from 'node:fs/promises';
import path from 'node:path';

export const STALE_TEMP_MS = 60 * 60 * 1000;

const swept = new Set<string>();

/** Removes the entries of `dir` that `matches` accepts and that were last modified over `olderThanMs` ago; at most
 * once per folder per process. Never throws (a sweep that fails leaves files for the next process). */
export async function sweepStaleTemp(dir: string, matches: (name: string) => boolean, olderThanMs = STALE_TEMP_MS): Promise<string[]> {
  const key = path.resolve(dir);
  if (swept.has(key)) return [];
  swept.add(key);
  const removed: string[] = [];
  const now = Date.now();
  for (const name of await fsp.readdir(key).catch(() => [] as string[])) {
    if (!matches(name)) continue;
    const file = path.join(key, name);
    const stat = await fsp.lstat(file).catch(() => null);
    if (!stat || now - stat.mtimeMs < olderThanMs) continue;
    if (await fsp.rm(file, { recursive: true, force: true }).then(() => true, () => false)) removed.push(name);
  }
  return removed;
}
