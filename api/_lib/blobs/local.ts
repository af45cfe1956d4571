// The local blob store: bytes at <dir>/<sha[0:2]>/<sha> (dir = $RIL_HOME/blobs). Writes go to <dir>/tmp and are
// renamed into place, so a reader never sees a partial blob. Directories are made on the first write, never
// in the constructor (a read-only filesystem can still serve reads and start up).
// Direct transfers go through the API itself: uploads are PUT /blobs/<sha256> with the caller's key (hash and
// size checked while streaming), downloads are GET /blobs/<sha256>?exp=..&sig=.. signed with the URL key.
import crypto from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PrismaClient } from '../db/index.js';
import { badInput, notFound } from '../errors.js';
import { sweepStaleTemp } from '../staleTemp.js';
import type { UrlSigner } from './signing.js';
import {
  BaseBlobStore, assertSha256, downloadWindow, sha256, tooLarge, type BlobDownload, type BlobRow, type BlobUpload, type StoredBlob,
} from './store.js';

export interface LocalBlobStoreOptions { dir: string; prisma: PrismaClient; maxBytes: number; signer: () => UrlSigner }

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException)?.code === 'ENOENT';

export class LocalBlobStore extends BaseBlobStore {
  readonly kind = 'local' as const;
  readonly dir: string;
  private tmpReady?: Promise<unknown>;

  constructor(opts: LocalBlobStoreOptions) {
    super(opts.prisma, opts.maxBytes, opts.signer);
    this.dir = opts.dir;
  }

  /** The file of a blob (local store only; tests and diagnostics). */
  pathOf(hash: string): string {
    return path.join(this.dir, assertSha256(hash).slice(0, 2), hash);
  }

  private async tmpFile(hash: string): Promise<string> {
    const tmp = path.join(this.dir, 'tmp');
    this.tmpReady ??= fsp.mkdir(tmp, { recursive: true }).then(
      () => { void sweepStaleTemp(tmp, () => true); }, // uploads a crashed process left (in the background)
      (err) => { this.tmpReady = undefined; throw err; });
    await this.tmpReady;
    return path.join(tmp, `${hash}.${process.pid}.${crypto.randomUUID()}`);
  }

  async has(hash: string): Promise<boolean> {
    try {
      await fsp.access(this.pathOf(hash));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async read(hash: string): Promise<Buffer> {
    try {
      return await fsp.readFile(this.pathOf(hash));
    } catch (err) {
      if (isMissing(err)) throw notFound(`blob ${hash}`);
      throw err;
    }
  }

  async openRead(hash: string): Promise<Readable> {
    let handle: fsp.FileHandle;
    try {
      handle = await fsp.open(this.pathOf(hash), 'r');
    } catch (err) {
      if (isMissing(err)) throw notFound(`blob ${hash}`);
      throw err;
    }
    return handle.createReadStream();
  }

  async writeFile(bytes: Uint8Array): Promise<string> {
    const hash = sha256(bytes);
    const dest = this.pathOf(hash);
    if (await this.has(hash)) return hash;
    const tmp = await this.tmpFile(hash);
    try {
      await fsp.writeFile(tmp, bytes);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(tmp, dest);
    } finally {
      await fsp.rm(tmp, { force: true });
    }
    return hash;
  }

  async putStream(expected: string, body: Readable, contentType: string, size?: number): Promise<StoredBlob> {
    const dest = this.pathOf(expected);
    if (size !== undefined && size > this.maxBytes) throw tooLarge(this.maxBytes);
    const tmp = await this.tmpFile(expected);
    const hash = crypto.createHash('sha256');
    let seen = 0;
    const maxBytes = this.maxBytes;
    // opened before anything can fail (as exportDataset does): fs.createWriteStream(tmp) opens its file
    // asynchronously, and a body refused at its first chunk failed the pipeline before that open landed, so the rm
    // below ran before the file existed and an empty temporary file stayed behind
    const out = (await fsp.open(tmp, 'wx')).createWriteStream(); // the stream closes the handle, however it ends
    // An fs write still in flight when the stream is destroyed (the body went over the limit, or the client left)
    // reports ERR_STREAM_DESTROYED as an 'error' event after the pipeline has already failed: without a listener
    // that event is an uncaught exception, and a hostile client could crash the server with a chunked body.
    out.on('error', () => {});
    try {
      await pipeline(body, async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          seen += chunk.length;
          if (seen > maxBytes) throw tooLarge(maxBytes);
          hash.update(chunk);
          yield chunk;
        }
      }, out);
      const actual = hash.digest('hex');
      if (actual !== expected) throw badInput(`content hash ${actual} does not match the URL's ${expected}`);
      const created = !(await this.has(expected));
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(tmp, dest);
      await this.record(expected, seen, contentType);
      return { sha256: expected, size: seen, created };
    } finally {
      out.destroy();
      await fsp.rm(tmp, { force: true });
    }
  }

  /** The API's own PUT /blobs/<sha256>: the caller sends its bearer key; the route checks hash and size. */
  protected async stageUpload(hash: string, _size: number, contentType: string): Promise<Omit<BlobUpload, 'sha256' | 'alreadyExists'>> {
    return { url: `/blobs/${hash}`, method: 'PUT', headers: { 'content-type': contentType }, expiresAt: null };
  }

  /** The PUT already verified and recorded the blob: confirm it. */
  protected async finishUpload(hash: string): Promise<BlobRow> {
    const row = await this.existing(hash);
    if (!row) throw badInput(`nothing has been uploaded for blob ${hash}: PUT its bytes to the URL from createBlobUpload first`);
    return row;
  }

  async downloadUrl(hash: string): Promise<BlobDownload> {
    const { exp } = downloadWindow();
    const sig = this.signer().signBlob(assertSha256(hash), exp);
    return { url: `/blobs/${hash}?exp=${exp}&sig=${sig}`, expiresAt: new Date(exp * 1000) };
  }
}
