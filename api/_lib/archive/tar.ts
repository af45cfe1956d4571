// A minimal reader for tar archives (ustar/GNU/pax as written by GNU tar, bsdtar and Python's tarfile),
// optionally gzip-compressed. Regular files and directories only; links, devices and unsafe paths
// (absolute, `..`) are refused. Enough for student bundles and dataset archives; not a general-purpose tar
// library. The archive is gunzipped as a stream on zlib's thread pool (never *Sync on the event loop) and
// `maxUnpackedBytes` caps what it may unpack to: a small gzip bomb is cut off at the cap, not after it.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';

export interface TarEntry {
  path: string;
  data: Buffer;
}

const BLOCK = 512;

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(block: Buffer, start: number, length: number): number {
  const text = field(block, start, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new Error(`corrupt tar header: size field ${JSON.stringify(text)}`);
  return text ? parseInt(text, 8) : 0;
}

/** pax extended header records: "<len> key=value\n" */
function paxPath(data: Buffer): string | undefined {
  let off = 0;
  while (off < data.length) {
    const space = data.indexOf(0x20, off);
    if (space < 0) break;
    const len = parseInt(data.subarray(off, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = data.subarray(space + 1, off + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (record.slice(0, eq) === 'path') return record.slice(eq + 1);
    off += len;
  }
  return undefined;
}

export function safePath(name: string): string {
  const parts = name.replace(/\\/g, '/').split('/').filter((p) => p !== '' && p !== '.');
  if (name.startsWith('/') || parts.some((p) => p === '..')) throw new Error(`unsafe path in archive: ${name}`);
  return parts.join('/');
}

export const isGzip = (bytes: Uint8Array) => bytes[0] === 0x1f && bytes[1] === 0x8b;

/** A (gzipped) tar archive, by its magic bytes: gzip's, or "ustar" at offset 257 of the first header. */
export const looksLikeTar = (bytes: Buffer) => isGzip(bytes) || (bytes.length >= 512 && bytes.subarray(257, 262).toString('latin1') === 'ustar');

export class TarTooLargeError extends Error {}

/** The bytes of a tar archive, gunzipped (streamed, off the event loop) when they start with gzip's magic.
 * Throws TarTooLargeError as soon as the output passes `max` bytes, without unpacking the rest. */
export async function unpackedBytes(source: Buffer | Readable, max = Infinity): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge: TarTooLargeError | undefined;
  const take = (chunk: Buffer) => {
    size += chunk.length;
    if (size > max) throw (tooLarge = new TarTooLargeError(`the archive unpacks to more than ${max} bytes`));
    chunks.push(chunk);
  };
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
  try {
    const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    let head = Buffer.alloc(0);
    let ended = false;
    while (head.length < 2 && !ended) {
      const n = await it.next();
      if (n.done) ended = true; else head = Buffer.concat([head, n.value]);
    }
    const rest = Readable.from((async function* () {
      if (head.length) yield head;
      if (ended) return;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
    })());
    if (!isGzip(head)) {
      for await (const chunk of rest) take(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    try {
      await pipeline(rest, zlib.createGunzip(), async (out: AsyncIterable<Buffer>) => { for await (const chunk of out) take(chunk); });
    } catch (err) {
      if (tooLarge) throw tooLarge; // the pipeline may report the abort of its source instead
      throw new Error(`not a gzip archive: ${(err as Error).message}`);
    }
    return Buffer.concat(chunks);
  } finally {
    input.destroy();
  }
}

/** Reads every regular file of a (gzipped) tar archive. Throws on anything that is not a well-formed tar. */
export async function readTar(archive: Buffer | Readable, opts: { maxUnpackedBytes?: number } = {}): Promise<TarEntry[]> {
  return parseTar(await unpackedBytes(archive, opts.maxUnpackedBytes ?? Infinity));
}

/** Parses an uncompressed tar archive already in memory. */
export function parseTar(buf: Buffer): TarEntry[] {
  if (buf.length < BLOCK || buf.length % BLOCK !== 0) throw new Error('not a tar archive (length is not a multiple of 512 bytes)');
  const entries: TarEntry[] = [];
  let off = 0;
  let longName: string | undefined;
  while (off + BLOCK <= buf.length) {
    const header = buf.subarray(off, off + BLOCK);
    if (header.every((b) => b === 0)) break; // end-of-archive marker
    const stored = octal(header, 148, 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
    if (sum !== stored) throw new Error('not a tar archive (header checksum mismatch)');
    const size = octal(header, 124, 12);
    const type = String.fromCharCode(header[156] || 0x30);
    const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? field(header, 345, 155) : '';
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    const dataStart = off + BLOCK;
    if (dataStart + size > buf.length) throw new Error('truncated tar archive');
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') { longName = paxPath(data); continue; }
    if (type === 'L') { longName = field(data, 0, data.length); continue; }
    if (type === 'g' || type === '5') continue; // global pax header, directory
    if (type !== '0' && type !== '7') throw new Error(`unsupported tar entry ${name} (type ${type}): only regular files`);
    entries.push({ path: safePath(name), data: Buffer.from(data) });
  }
  return entries;
}
