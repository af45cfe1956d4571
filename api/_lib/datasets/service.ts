// Datasets: atomic JSONL import (validated line by line), export to the trainer's directory format, stats.
// Import policy: every line is checked before anything is written; if any line is bad the import fails with
// BAD_USER_INPUT listing each bad line, and no row is written. Image bytes go to the content-addressed store
// first (idempotent and unreferenced until the transaction commits), then all rows in one transaction.
//
// Three sources, one validation: a JSONL file on this machine (`path`, images relative to it: the local CLI, or
// an API caller inside RIL_IMPORT_ROOT, see serverFiles.ts), an
// uploaded JSONL blob (images are `sha256:` references to uploaded blobs), or an uploaded .tar/.tar.gz archive
// (examples.jsonl + the image files it names). Images are checked from their headers with image-size, so the
// GraphQL function does not load sharp's native library.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { imageSize } from 'image-size';
import type { Database } from '../db/index.js';
import { placeholders, rawQuery, toInt } from '../db/sql.js';
import { badInput, notFound } from '../errors.js';
import { SHA256_RE, sha256, type BlobStore } from '../blobs/store.js';
import { looksLikeTar, readTar, safePath } from '../archive/tar.js';
import { openImportFile, openRegular, readAll, type ImportFile, type PathPolicy } from './serverFiles.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type SplitName = (typeof SPLITS)[number];
/** image-size's type names -> content types: the formats the trainer and the teachers' chat endpoints all read. */
const IMAGE_FORMATS: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };
const MAX_REPORTED_ERRORS = 200;
/** The JSONL file an archive must hold (at its root, or in its one top-level folder). */
export const ARCHIVE_JSONL = 'examples.jsonl';

export interface LineError { line: number; message: string }

interface ParsedExample {
  line: number;
  id: string;
  imageRef: string;
  question: string;
  answer: string;
  split: SplitName;
}

interface ImageInfo { sha256: string; bytes?: Buffer; contentType: string; size: number }

/** Where an import's lines and its (non-`sha256:`) image files come from. */
interface ImportSource {
  lines(): AsyncIterable<string>;
  /** The bytes of the image file `ref` names, or why there are none. */
  imageFile(ref: string, maxBytes: number): Promise<Buffer | string>;
}

function parseLine(text: string, line: number): ParsedExample | LineError {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    // never the parser's message: it quotes the start of the line, i.e. of whatever file the path named
    return { line, message: 'invalid JSON: each line must hold one JSON object' };
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return { line, message: 'expected a JSON object' };
  const o = obj as Record<string, unknown>;
  for (const field of ['id', 'image', 'question', 'answer', 'split']) {
    if (!(field in o)) return { line, message: `missing field "${field}"` };
    if (typeof o[field] !== 'string' || !(o[field] as string).trim()) return { line, message: `field "${field}" must be a non-empty string` };
  }
  if (!(SPLITS as readonly string[]).includes(o.split as string)) {
    return { line, message: `unknown split "${o.split}" (expected train, val or test)` };
  }
  return { line, id: o.id as string, imageRef: o.image as string, question: o.question as string, answer: o.answer as string, split: o.split as SplitName };
}

/** The content type of an image, from its header (format, and both dimensions present); undefined if not one. */
export function imageContentType(bytes: Uint8Array): string | undefined {
  try {
    const { type, width, height } = imageSize(bytes);
    if (!type || !width || !height) return undefined;
    return IMAGE_FORMATS[type];
  } catch {
    return undefined;
  }
}

async function loadImage(ref: string, source: ImportSource, blobs: BlobStore, maxBytes: number): Promise<ImageInfo | string> {
  if (ref.startsWith('sha256:')) {
    const hash = ref.slice(7);
    if (!SHA256_RE.test(hash)) return `image "${ref}" is not a valid sha256 reference`;
    let bytes: Buffer;
    try {
      bytes = await blobs.read(hash);
    } catch (err) {
      if ((err as { extensions?: { code?: string } }).extensions?.code === 'NOT_FOUND') return `image blob ${hash} is not in the blob store`;
      throw err;
    }
    if (bytes.length > maxBytes) return `image blob ${hash} is ${bytes.length} bytes; the limit is ${maxBytes}`;
    const type = imageContentType(bytes);
    if (!type) return `image blob ${hash} is not an image (PNG, JPEG, WebP or GIF)`;
    return { sha256: hash, contentType: type, size: bytes.length };
  }
  const bytes = await source.imageFile(ref, maxBytes);
  if (typeof bytes === 'string') return bytes;
  if (bytes.length > maxBytes) return `image "${ref}" is ${bytes.length} bytes; the limit is ${maxBytes}`;
  const type = imageContentType(bytes);
  if (!type) return `"${ref}" is not an image (PNG, JPEG, WebP or GIF)`;
  return { sha256: sha256(bytes), bytes, contentType: type, size: bytes.length };
}

/** A JSONL file on this machine (opened and checked by openImportFile); its images are regular files relative to
 * it, never outside its folder, read the same checked way. */
function fileSource(file: ImportFile): ImportSource {
  const baseDir = path.dirname(file.realPath);
  return {
    lines: () => {
      if (file.size === 0) { void file.handle.close(); return textLines(''); }
      // at most the bytes that were checked against the cap, even if the file grows meanwhile
      return readline.createInterface({ input: file.handle.createReadStream({ encoding: 'utf8', start: 0, end: file.size - 1, autoClose: true }), crlfDelay: Infinity });
    },
    async imageFile(ref, maxBytes) {
      if (path.isAbsolute(ref)) return `image path "${ref}" must be relative to the JSONL file`;
      const resolved = path.resolve(baseDir, ref);
      const rel = path.relative(baseDir, resolved);
      if (rel.startsWith('..') || path.isAbsolute(rel)) return `image path "${ref}" escapes the dataset folder`;
      let real: string;
      try {
        // realpath as well: a symlink inside the folder must not lead outside it
        real = await fsp.realpath(resolved);
      } catch {
        return `image file "${ref}" not found`;
      }
      const realRel = path.relative(baseDir, real);
      if (realRel.startsWith('..') || path.isAbsolute(realRel)) return `image path "${ref}" escapes the dataset folder`;
      try {
        return await readAll(await openRegular(real, maxBytes, `image "${ref}"`, ref));
      } catch (err) {
        return (err as Error).message;
      }
    },
  };
}

async function* textLines(text: string): AsyncIterable<string> {
  yield* text.split(/\r?\n/);
}

/** An uploaded JSONL blob: there is no folder, so every image must be an uploaded blob (`sha256:<hash>`). */
function jsonlBlobSource(text: string): ImportSource {
  return {
    lines: () => textLines(text),
    imageFile: async (ref) => `image "${ref}" must be a sha256:<hash> reference to an uploaded blob (an uploaded JSONL has no folder to read files from)`,
  };
}

/** An uploaded archive: examples.jsonl at its root (or in its one top-level folder) and the files it names. */
async function archiveSource(archive: Buffer, maxUnpackedBytes: number): Promise<ImportSource> {
  let entries;
  try {
    entries = await readTar(archive, { maxUnpackedBytes });
  } catch (err) {
    throw badInput(`dataset archive: ${(err as Error).message}`);
  }
  const files = new Map(entries.map((e) => [e.path, e.data]));
  const jsonl = files.has(ARCHIVE_JSONL) ? ARCHIVE_JSONL
    : (() => {
      const nested = [...files.keys()].filter((p) => p.split('/').length === 2 && p.endsWith(`/${ARCHIVE_JSONL}`));
      return nested.length === 1 ? nested[0] : undefined;
    })();
  if (!jsonl) throw badInput(`dataset archive: no ${ARCHIVE_JSONL} at its root (or in its one top-level folder)`);
  const base = path.posix.dirname(jsonl);
  return {
    lines: () => textLines(files.get(jsonl)!.toString('utf8')),
    async imageFile(ref) {
      let inside: string;
      try {
        if (ref.startsWith('/')) throw new Error('absolute');
        inside = safePath(base === '.' ? ref : `${base}/${ref}`);
      } catch {
        return `image path "${ref}" must be relative to ${ARCHIVE_JSONL} and stay inside the archive`;
      }
      return files.get(inside) ?? `image file "${ref}" is not in the archive`;
    },
  };
}

export interface ImportOptions {
  name: string;
  /** A JSONL file on the server: the local CLI, or an API caller within RIL_IMPORT_ROOT (see pathPolicy). */
  path?: string | null;
  /** An uploaded blob: a JSONL whose images are sha256: refs, or a .tar/.tar.gz with examples.jsonl and its images. */
  blobSha256?: string | null;
  description?: string | null;
  maxImageBytes: number;
  /** Largest unpacked archive (bytes; default: no limit beyond the blob's own). */
  maxUnpackedBytes?: number;
  /** Where `path` may point and how large it may be (serverFiles.ts). Default: server paths refused. */
  pathPolicy?: PathPolicy;
}

async function openSource(blobs: BlobStore, opts: ImportOptions): Promise<ImportSource> {
  if ((opts.path == null) === (opts.blobSha256 == null)) throw badInput('give exactly one of blobSha256 or path');
  if (opts.path != null) {
    return fileSource(await openImportFile(opts.path, opts.pathPolicy ?? { root: undefined, maxBytes: 0 }, 'dataset file'));
  }
  const hash = opts.blobSha256!.replace(/^sha256:/, '');
  if (!SHA256_RE.test(hash)) throw badInput(`blobSha256 is not a sha256: ${opts.blobSha256}`);
  const bytes = await blobs.read(hash); // NOT_FOUND if it was never uploaded
  return looksLikeTar(bytes) ? archiveSource(bytes, opts.maxUnpackedBytes ?? Infinity) : jsonlBlobSource(bytes.toString('utf8'));
}

/** Imports a JSONL dataset. Returns the new Dataset row (a new version if the name exists). */
export async function importDataset(db: Database, blobs: BlobStore, opts: ImportOptions) {
  const name = opts.name.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name)) throw badInput('dataset name: 1-100 of letters, digits, ".", "_", "-"');
  const source = await openSource(blobs, opts);

  // ---- validate every line (nothing written yet) ----
  const errors: LineError[] = [];
  const examples: ParsedExample[] = [];
  const seen = new Map<string, number>();
  let lineNo = 0;
  for await (const text of source.lines()) {
    lineNo += 1;
    if (!text.trim()) continue;
    const parsed = parseLine(text, lineNo);
    if ('message' in parsed) { errors.push(parsed); continue; }
    const first = seen.get(parsed.id);
    if (first !== undefined) { errors.push({ line: lineNo, message: `duplicate id "${parsed.id}" (first on line ${first})` }); continue; }
    seen.set(parsed.id, lineNo);
    examples.push(parsed);
  }
  const images = new Map<string, ImageInfo | string>();
  for (const ex of examples) {
    if (!images.has(ex.imageRef)) images.set(ex.imageRef, await loadImage(ex.imageRef, source, blobs, opts.maxImageBytes));
    const img = images.get(ex.imageRef)!;
    if (typeof img === 'string') errors.push({ line: ex.line, message: img });
  }
  if (examples.length === 0 && errors.length === 0) errors.push({ line: 0, message: 'the file has no examples' });
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line);
    const shown = errors.slice(0, MAX_REPORTED_ERRORS);
    const summary = shown.slice(0, 5).map((e) => `line ${e.line}: ${e.message}`).join('; ');
    throw badInput(`dataset import failed: ${errors.length} bad line(s), nothing imported. ${summary}`, {
      errors: shown,
      errorCount: errors.length,
    });
  }

  // ---- write: blob files first (content-addressed, idempotent), then every row in one transaction ----
  const blobRows = new Map<string, { sha256: string; size: number; contentType: string }>();
  for (const img of images.values()) {
    const info = img as ImageInfo;
    if (info.bytes) await blobs.writeFile(info.bytes, info.contentType);
    blobRows.set(info.sha256, { sha256: info.sha256, size: info.size, contentType: info.contentType });
  }
  return db.prisma.$transaction(async (tx) => {
    const existing = await tx.blob.findMany({ where: { sha256: { in: [...blobRows.keys()] } }, select: { sha256: true } });
    const have = new Set(existing.map((b) => b.sha256));
    const newBlobs = [...blobRows.values()].filter((b) => !have.has(b.sha256));
    for (let i = 0; i < newBlobs.length; i += 500) await tx.blob.createMany({ data: newBlobs.slice(i, i + 500) });
    const latest = await tx.dataset.findFirst({ where: { name }, orderBy: { version: 'desc' }, select: { version: true } });
    const dataset = await tx.dataset.create({
      data: { name, version: (latest?.version ?? 0) + 1, description: opts.description ?? null, exampleCount: examples.length },
    });
    const rows = examples.map((ex, ordinal) => ({
      datasetId: dataset.id,
      externalId: ex.id,
      ordinal,
      split: ex.split,
      imageSha256: (images.get(ex.imageRef) as ImageInfo).sha256,
      question: ex.question,
      answer: ex.answer,
    }));
    for (let i = 0; i < rows.length; i += 500) await tx.example.createMany({ data: rows.slice(i, i + 500) });
    return dataset;
  }, { timeout: 300_000, maxWait: 30_000 });
}

export async function getDatasetOrThrow(db: Database, id: string) {
  const dataset = await db.prisma.dataset.findUnique({ where: { id } });
  if (!dataset) throw notFound(`dataset ${id}`);
  return dataset;
}

/** Writes the trainer's input directory: dataset.json, examples.jsonl, images/, teachers/<name>.jsonl. */
export async function exportDataset(db: Database, blobs: BlobStore, id: string, outDir: string) {
  const dataset = await getDatasetOrThrow(db, id);
  const out = path.resolve(outDir);
  await fsp.mkdir(path.join(out, 'images'), { recursive: true });
  await fsp.mkdir(path.join(out, 'teachers'), { recursive: true });
  const examples = await db.prisma.example.findMany({ where: { datasetId: id }, orderBy: { ordinal: 'asc' } });
  const shas = [...new Set(examples.map((e) => e.imageSha256))];
  const types = new Map((await db.prisma.blob.findMany({ where: { sha256: { in: shas } } })).map((b) => [b.sha256, b.contentType]));
  const fileOf = (sha: string) => `images/${sha}.${(types.get(sha) ?? 'image/png').split('/')[1]}`;
  for (const sha of shas) {
    const dest = path.join(out, fileOf(sha));
    if (fs.existsSync(dest)) continue;
    const tmp = `${dest}.${process.pid}.${crypto.randomUUID()}.tmp`;
    const src = await blobs.openRead(sha);
    // the file is created before anything can fail (fs.createWriteStream opens it asynchronously: a pipeline that
    // failed first would let the rm below run before that open, leaving an empty temp file behind)
    const file = await fsp.open(tmp, 'wx').catch((err) => { src.destroy(); throw err; });
    try {
      await pipeline(src, file.createWriteStream()); // the stream closes the handle, on success or failure
      await fsp.rename(tmp, dest);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
  }
  const byId = new Map(examples.map((e) => [e.id, e]));
  await fsp.writeFile(path.join(out, 'examples.jsonl'), examples.map((e) =>
    JSON.stringify({ id: e.externalId, image: fileOf(e.imageSha256), question: e.question, answer: e.answer, split: e.split })).join('\n') + '\n');
  const responses = await db.prisma.teacherResponse.findMany({
    where: { example: { datasetId: id } },
    include: { teacher: { select: { name: true } } },
    orderBy: [{ teacherId: 'asc' }, { exampleId: 'asc' }, { sample: 'asc' }],
  });
  const perTeacher = new Map<string, string[]>();
  for (const r of responses) {
    const lines = perTeacher.get(r.teacher.name) ?? [];
    lines.push(JSON.stringify({ example: byId.get(r.exampleId)!.externalId, teacher: r.teacher.name, sample: r.sample, text: r.text }));
    perTeacher.set(r.teacher.name, lines);
  }
  for (const [teacher, lines] of perTeacher) await fsp.writeFile(path.join(out, 'teachers', `${teacher}.jsonl`), lines.join('\n') + '\n');
  await fsp.writeFile(path.join(out, 'dataset.json'), JSON.stringify({
    id: dataset.id, name: dataset.name, version: dataset.version, teachers: [...perTeacher.keys()].sort(), exampleCount: examples.length,
  }, null, 2) + '\n');
  return { out, examples: examples.length, images: shas.length, teachers: [...perTeacher.keys()].sort(), responses: responses.length };
}

export async function splitCounts(db: Database, datasetId: string) {
  const rows = await db.prisma.example.groupBy({ by: ['split'], where: { datasetId }, _count: { _all: true } });
  return SPLITS.map((split) => ({ split, count: rows.find((r) => r.split === split)?._count._all ?? 0 }));
}

export async function topAnswers(db: Database, datasetId: string, limit: number) {
  const rows = await db.prisma.example.groupBy({
    by: ['answer'], where: { datasetId }, _count: { answer: true },
    orderBy: [{ _count: { answer: 'desc' } }, { answer: 'asc' }], take: Math.min(Math.max(limit, 1), 100),
  });
  return rows.map((r) => ({ answer: r.answer, count: r._count.answer }));
}

export interface ExamplePageKey { datasetId: string; split: SplitName | null; first: number; afterOrdinal: number }
export interface ExampleRow { id: string; datasetId: string; externalId: string; ordinal: number; split: string; imageSha256: string; question: string; answer: string }

/**
 * One SQL query for the first `first + 1` examples of MANY datasets (ROW_NUMBER per dataset), so that
 * `datasets { examples { ... } }` costs one query however many datasets are listed. The extra row tells
 * whether there is a next page.
 */
export async function examplePages(db: Database, keys: readonly ExamplePageKey[]): Promise<ExampleRow[][]> {
  const groups = new Map<string, ExamplePageKey[]>();
  for (const k of keys) {
    const g = `${k.split}|${k.first}|${k.afterOrdinal}`;
    groups.set(g, [...(groups.get(g) ?? []), k]);
  }
  const results = new Map<string, ExampleRow[]>();
  for (const group of groups.values()) {
    const { split, first, afterOrdinal } = group[0];
    const ids = [...new Set(group.map((k) => k.datasetId))];
    const rows = await rawQuery<ExampleRow & { rn: unknown }>(db,
      `SELECT * FROM (SELECT e."id", e."datasetId", e."externalId", e."ordinal", e."split", e."imageSha256", e."question", e."answer",
         ROW_NUMBER() OVER (PARTITION BY e."datasetId" ORDER BY e."ordinal") AS rn
       FROM "Example" e WHERE e."datasetId" IN (${placeholders(ids.length)}) AND e."ordinal" > ?${split ? ' AND e."split" = ?' : ''}) t
       WHERE t.rn <= ? ORDER BY t."datasetId", t."ordinal"`,
      [...ids, afterOrdinal, ...(split ? [split] : []), first + 1]);
    for (const k of group) results.set(pageKey(k), []);
    for (const r of rows) {
      const row = { ...r, ordinal: toInt(r.ordinal) };
      delete (row as { rn?: unknown }).rn;
      for (const k of group) if (k.datasetId === r.datasetId) results.get(pageKey(k))!.push(row);
    }
  }
  return keys.map((k) => results.get(pageKey(k)) ?? []);
}

export const pageKey = (k: ExamplePageKey) => `${k.datasetId}|${k.split}|${k.first}|${k.afterOrdinal}`;

/** Example counts per (dataset, split filter) for many datasets in one grouped query per filter. */
export async function exampleCounts(db: Database, keys: readonly { datasetId: string; split: SplitName | null }[]): Promise<number[]> {
  const out = new Map<string, number>();
  for (const split of new Set(keys.map((k) => k.split))) {
    const ids = [...new Set(keys.filter((k) => k.split === split).map((k) => k.datasetId))];
    const rows = await db.prisma.example.groupBy({ by: ['datasetId'], where: { datasetId: { in: ids }, ...(split ? { split } : {}) }, _count: { _all: true } });
    for (const id of ids) out.set(`${id}|${split}`, rows.find((r) => r.datasetId === id)?._count._all ?? 0);
  }
  return keys.map((k) => out.get(`${k.datasetId}|${k.split}`) ?? 0);
}
