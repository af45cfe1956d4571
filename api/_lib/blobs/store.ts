// Content-addressed blob store: bytes live at <dir>/<sha[0:2]>/<sha>, recorded in the Blob table.
// Writes go to a temp file and are renamed into place, so a reader never sees a partial blob, and a blob
// written twice is written once (same hash, same bytes).
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { PrismaClient } from '../db/index.js';
import { AppError, badInput, notFound } from '../errors.js';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export const sha256 = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

export class BlobStore {
  constructor(readonly dir: string, private readonly prisma: PrismaClient, readonly maxBytes: number) {
    fs.mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  }

  pathOf(hash: string): string {
    if (!SHA256_RE.test(hash)) throw badInput(`not a sha256: ${hash}`);
    return path.join(this.dir, hash.slice(0, 2), hash);
  }

  has(hash: string): boolean {
    return fs.existsSync(this.pathOf(hash));
  }

  async read(hash: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.pathOf(hash));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`blob ${hash}`);
      throw err;
    }
  }

  /** Writes the file only (no row): used inside imports, whose rows are written in their own transaction. */
  async writeFile(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const dest = this.pathOf(hash);
    if (fs.existsSync(dest)) return hash;
    await fsp.mkdir(path.dirname(dest), { recursive: true });
    const tmp = path.join(this.dir, 'tmp', `${hash}.${process.pid}.${crypto.randomUUID()}`);
    await fsp.writeFile(tmp, bytes);
    await fsp.rename(tmp, dest);
    return hash;
  }

  /** Stores bytes and records the blob (idempotent). */
  async put(bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    if (bytes.byteLength > this.maxBytes) throw new AppError('BAD_USER_INPUT', `blob is ${bytes.byteLength} bytes; the limit is ${this.maxBytes}`);
    const hash = await this.writeFile(bytes);
    await this.prisma.blob.upsert({ where: { sha256: hash }, create: { sha256: hash, size: bytes.byteLength, contentType }, update: {} });
    return hash;
  }

  /**
   * Streams an upload to a temp file while hashing it; keeps it only if it matches `expected` and fits the limit.
   * Throws PAYLOAD_TOO_LARGE (413) or BAD_USER_INPUT (hash mismatch).
   */
  async putStream(expected: string, body: Readable, contentType: string): Promise<{ sha256: string; size: number; created: boolean }> {
    const dest = this.pathOf(expected);
    const tmp = path.join(this.dir, 'tmp', `${expected}.${process.pid}.${crypto.randomUUID()}`);
    const hash = crypto.createHash('sha256');
    let size = 0;
    const out = fs.createWriteStream(tmp);
    try {
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > this.maxBytes) throw new AppError('PAYLOAD_TOO_LARGE' as never, `blob exceeds the limit of ${this.maxBytes} bytes`);
        hash.update(chunk as Buffer);
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
      const actual = hash.digest('hex');
      if (actual !== expected) throw badInput(`content hash ${actual} does not match the URL's ${expected}`);
      const created = !fs.existsSync(dest);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(tmp, dest);
      await this.prisma.blob.upsert({ where: { sha256: expected }, create: { sha256: expected, size, contentType }, update: {} });
      return { sha256: expected, size, created };
    } finally {
      out.destroy();
      await fsp.rm(tmp, { force: true });
    }
  }
}
