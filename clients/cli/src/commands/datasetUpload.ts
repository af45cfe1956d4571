// `ril datasets import` against a remote API: the images go up first, one blob each (content-addressed, so an image
// shared by many lines or already uploaded by an earlier version costs one PUT of its bytes and no storage), then the
// JSONL with each image path rewritten to its `sha256:` reference, then the importDataset mutation. Small requests
// rather than one archive: each fits a serverless function's request-size limit and is retried on its own.
// Lines are kept one for one (bad ones untouched), so the server's line-numbered errors match the user's file.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ImportDatasetDocument, type RilClient } from '../../../sdk/src/index.js';

const CONTENT_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' };
const PARALLEL_UPLOADS = 4;

interface Bar { update(done: number, total: number, extra?: string): void }

/** The JSONL of a dataset argument: the file itself, or <folder>/examples.jsonl. */
export function datasetFile(arg: string): string {
  const stat = fs.statSync(arg, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return path.join(arg, 'examples.jsonl');
  return arg;
}

/** The image path of a line, if the line is a JSON object with a relative `image` string. */
function localImage(line: string): string | undefined {
  try {
    const o = JSON.parse(line) as { image?: unknown };
    return o && typeof o === 'object' && typeof o.image === 'string' && !o.image.startsWith('sha256:') ? o.image : undefined;
  } catch {
    return undefined;
  }
}

export async function uploadAndImport(client: RilClient, file: string, opts: { name: string; description?: string }, bar: Bar) {
  const baseDir = path.dirname(path.resolve(file));
  const lines = (await fsp.readFile(file, 'utf8')).split(/\r?\n/);
  const refs = [...new Set(lines.map(localImage).filter((r): r is string => r !== undefined))];
  const uploaded = new Map<string, string>();
  let done = 0;
  bar.update(0, refs.length + 1, 'images');
  let next = 0;
  const uploader = async () => {
    while (next < refs.length) {
      const ref = refs[next++];
      const full = path.resolve(baseDir, ref);
      // a missing file is left as written: the server reports it on its line, with every other bad line
      const bytes = await fsp.readFile(full).catch(() => undefined);
      if (bytes) uploaded.set(ref, `sha256:${await client.putBlob(new Uint8Array(bytes), CONTENT_TYPES[path.extname(ref).toLowerCase()] ?? 'application/octet-stream')}`);
      bar.update(++done, refs.length + 1, 'images');
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, refs.length) }, uploader));
  const rewritten = lines.map((line) => {
    const ref = localImage(line);
    const sha = ref === undefined ? undefined : uploaded.get(ref);
    return sha ? JSON.stringify({ ...JSON.parse(line), image: sha }) : line;
  }).join('\n');
  const jsonl = await client.putBlob(new TextEncoder().encode(rewritten), 'application/x-ndjson');
  bar.update(refs.length + 1, refs.length + 1, 'importing');
  return (await client.request(ImportDatasetDocument, { input: { name: opts.name, description: opts.description, blobSha256: jsonl } })).importDataset;
}
