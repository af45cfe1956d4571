// Reading files named by a server `path` (importDataset, importTeacherResponses): where they may be, what they may
// be, how much of them is read. A path from an API caller is confined to the operator's import root
// (RIL_IMPORT_ROOT; unset = refused), resolved with symlinks followed so no link inside the root leads out of it.
// Every file, API or local CLI, must be a regular file (not a FIFO that blocks a reader forever, nor /dev/zero
// that never ends) under a size cap; it is opened non-blocking and checked on the open handle (fstat), so it
// cannot be swapped between the check and the read, and read asynchronously.
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Env } from '../env.js';
import { badInput } from '../errors.js';

/** Where server-path reads may go: `root` for API callers (undefined: none), or `local` for the CLI's own user. */
export type PathPolicy = { local?: false; root: string | undefined; maxBytes: number } | { local: true; maxBytes: number };

/** API callers (GraphQL): confined to RIL_IMPORT_ROOT, refused when it is unset. */
export const apiPathPolicy = (env: Pick<Env, 'RIL_IMPORT_ROOT' | 'RIL_MAX_IMPORT_BYTES'>): PathPolicy =>
  ({ root: env.RIL_IMPORT_ROOT, maxBytes: env.RIL_MAX_IMPORT_BYTES });

/** The local CLI (`ril datasets import`, `ril teachers import`): the user may read what they point at, with the
 * same regular-file and size checks (they run with their own permissions; nothing crosses a trust boundary). */
export const localPathPolicy = (env: Pick<Env, 'RIL_MAX_IMPORT_BYTES'>): PathPolicy => ({ local: true, maxBytes: env.RIL_MAX_IMPORT_BYTES });

const inside = (root: string, p: string) => {
  const rel = path.relative(root, p);
  return rel === '' ? false : !rel.startsWith('..') && !path.isAbsolute(rel);
};

// O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW: the path given to open is already the real one
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0) | (fs.constants.O_NOFOLLOW ?? 0);

export interface ImportFile { handle: FileHandle; realPath: string; size: number }

/** Opens `given` for reading under `policy`, or throws BAD_USER_INPUT saying why not (never its contents). */
export async function openImportFile(given: string, policy: PathPolicy, what: string): Promise<ImportFile> {
  let real: string;
  if (!policy.local) {
    if (!policy.root) {
      throw badInput(`server paths are not accepted here (the operator has set no RIL_IMPORT_ROOT): upload the ${what} instead`);
    }
    let root: string;
    try { root = await fsp.realpath(policy.root); } catch { throw badInput('the import root (RIL_IMPORT_ROOT) does not exist on the server'); }
    const candidate = path.resolve(root, given); // relative paths are relative to the root
    if (!inside(root, candidate)) throw badInput(`${what} path must be inside the import root`);
    try { real = await fsp.realpath(candidate); } catch { throw badInput(`${what} not found: ${given}`); }
    if (!inside(root, real)) throw badInput(`${what} path leads outside the import root`);
  } else {
    try { real = await fsp.realpath(path.resolve(given)); } catch { throw badInput(`${what} not found: ${given}`); }
  }
  return openRegular(real, policy.maxBytes, what, given);
}

/** Opens the real path `real` if it is a regular file of at most `maxBytes`; otherwise BAD_USER_INPUT. */
export async function openRegular(real: string, maxBytes: number, what: string, shown = real): Promise<ImportFile> {
  let handle: FileHandle;
  try { handle = await fsp.open(real, OPEN_FLAGS); } catch { throw badInput(`${what} cannot be opened: ${shown}`); }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw badInput(`${what} is not a regular file: ${shown}`);
    if (stat.size > maxBytes) throw badInput(`${what} is ${stat.size} bytes; the limit is ${maxBytes} (RIL_MAX_IMPORT_BYTES for imports)`);
    return { handle, realPath: real, size: stat.size };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The first `size` bytes of an open file (what was checked; a file that grew since is not read further); closes it. */
export async function readAll(file: ImportFile): Promise<Buffer> {
  try {
    const buf = Buffer.alloc(file.size);
    let at = 0;
    while (at < file.size) {
      const { bytesRead } = await file.handle.read(buf, at, file.size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf.subarray(0, at);
  } finally {
    await file.handle.close();
  }
}
