// Content-addressed blobs: bytes identified by their sha256, recorded in the Blob table. One interface, two
// stores (./local.ts: a directory under RIL_HOME; ./s3.ts: any S3-compatible bucket); ./index.ts picks one.
//
// Writes are all-or-nothing: a reader never sees a partial blob, and bytes land under their content address only
// after their hash has been checked. Large transfers need not pass through the API: createUpload/completeUpload
// and downloadUrl hand out short-lived URLs (the API's own on the local store, presigned ones on S3).
import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import type { PrismaClient } from '../db/index.js';
import { AppError, badInput } from '../errors.js';
import type { UrlSigner } from './signing.js';

export const SHA256_RE = /^[0-9a-f]{64}$/;

export const sha256 = (bytes: Uint8Array) => crypto.createHash('sha256').update(bytes).digest('hex');

/** Throws BAD_USER_INPUT unless `hash` is 64 lowercase hex digits. */
export function assertSha256(hash: string): string {
  if (!SHA256_RE.test(hash)) throw badInput(`not a sha256: ${hash}`);
  return hash;
}

/** How long a download URL is valid (s). Expiries are aligned to DOWNLOAD_STEP_S, so the URL of one blob stays
 * the same for that long and browsers can cache what it fetched. */
export const DOWNLOAD_TTL_S = 3600;
export const DOWNLOAD_STEP_S = 300;
/** How long an upload URL (S3: a presigned PUT to a staging key) may be started (s). */
export const UPLOAD_TTL_S = 900;

const CONTENT_TYPE_RE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}(\s*;\s*[\x20-\x7e]{1,200})?$/;

export interface BlobRow { sha256: string; size: number; contentType: string; createdAt: Date }
export interface StoredBlob { sha256: string; size: number; created: boolean }

/** Where to send a blob's bytes (see schema.graphql BlobUpload). A relative `url` is relative to the API. */
export interface BlobUpload {
  sha256: string;
  alreadyExists: boolean;
  url: string | null;
  method: string;
  headers: Record<string, string>;
  expiresAt: Date | null;
}

/** A URL that serves a blob's bytes to anyone holding it, until expiresAt. A relative `url` is relative to the API. */
export interface BlobDownload { url: string; expiresAt: Date }

export interface CreateUploadInput { sha256: string; size: number; contentType?: string | null; /** the API key asking */ owner: string }

export interface BlobStore {
  readonly kind: 'local' | 's3';
  /** RIL_MAX_BLOB_BYTES. */
  readonly maxBytes: number;
  has(hash: string): Promise<boolean>;
  /** The whole blob; NOT_FOUND when it is missing. */
  read(hash: string): Promise<Buffer>;
  /** A stream of the blob; rejects with NOT_FOUND when it is missing. Later read errors reach the stream's consumer. */
  openRead(hash: string): Promise<Readable>;
  /** Stores the bytes only (no row): imports write their rows in their own transaction. Returns the sha256. */
  writeFile(bytes: Uint8Array, contentType?: string): Promise<string>;
  /** Stores bytes and records the blob (idempotent). Returns the sha256. */
  put(bytes: Uint8Array, contentType?: string): Promise<string>;
  /**
   * Streams an upload while hashing it; keeps it (and records the row) only if it matches `expected` and fits the
   * limit. `size`: the declared length (Content-Length), required by the S3 store. Throws PAYLOAD_TOO_LARGE,
   * LENGTH_REQUIRED or BAD_USER_INPUT (hash mismatch).
   */
  putStream(expected: string, body: Readable, contentType: string, size?: number): Promise<StoredBlob>;
  /** Step 1 of a direct upload: checks the hash, size and content type; says where to send the bytes. */
  createUpload(input: CreateUploadInput): Promise<BlobUpload>;
  /** Step 2: verifies what was sent (hash and size), moves it under its content address and records the row. */
  completeUpload(hash: string, owner: string): Promise<BlobRow>;
  /** A short-lived URL that serves the blob (no existence check: callers that must know look at the row). */
  downloadUrl(hash: string, contentType?: string): Promise<BlobDownload>;
  /** Whether `GET /blobs/<hash>?exp=..&sig=..` carries a valid, unexpired signature of this server. */
  verifySignedUrl(hash: string, exp: string | null, sig: string | null): boolean;
  /** Releases connections (the S3 client's sockets). */
  close(): void;
}

export const tooLarge = (max: number, size?: number) => new AppError('PAYLOAD_TOO_LARGE' as never,
  size === undefined ? `blob exceeds the limit of ${max} bytes (RIL_MAX_BLOB_BYTES)` : `blob is ${size} bytes; the limit is ${max} (RIL_MAX_BLOB_BYTES)`);

/** The start of the current expiry window and the expiry (unix seconds) of a download URL signed now. */
export function downloadWindow(nowMs = Date.now()): { start: number; exp: number } {
  const start = Math.floor(nowMs / 1000 / DOWNLOAD_STEP_S) * DOWNLOAD_STEP_S;
  return { start, exp: start + DOWNLOAD_TTL_S };
}

/** What both stores share: rows, argument checks, the idempotent paths; the stores supply the bytes. */
export abstract class BaseBlobStore implements BlobStore {
  abstract readonly kind: 'local' | 's3';

  constructor(protected readonly prisma: PrismaClient, readonly maxBytes: number, protected readonly signer: () => UrlSigner) {}

  abstract has(hash: string): Promise<boolean>;
  abstract read(hash: string): Promise<Buffer>;
  abstract openRead(hash: string): Promise<Readable>;
  abstract writeFile(bytes: Uint8Array, contentType?: string): Promise<string>;
  abstract putStream(expected: string, body: Readable, contentType: string, size?: number): Promise<StoredBlob>;
  abstract downloadUrl(hash: string, contentType?: string): Promise<BlobDownload>;
  /** Where the bytes go (the blob is not stored yet; arguments are checked). */
  protected abstract stageUpload(hash: string, size: number, contentType: string, owner: string): Promise<Omit<BlobUpload, 'sha256' | 'alreadyExists'>>;
  /** Verifies and stores what was sent for `hash`, returning the row; BAD_USER_INPUT when nothing valid was sent. */
  protected abstract finishUpload(hash: string, owner: string): Promise<BlobRow>;

  async put(bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    if (bytes.byteLength > this.maxBytes) throw new AppError('BAD_USER_INPUT', `blob is ${bytes.byteLength} bytes; the limit is ${this.maxBytes}`);
    const hash = await this.writeFile(bytes, contentType);
    await this.record(hash, bytes.byteLength, contentType);
    return hash;
  }

  async createUpload({ sha256: hash, size, contentType, owner }: CreateUploadInput): Promise<BlobUpload> {
    assertSha256(hash);
    if (!Number.isSafeInteger(size) || size < 0) throw badInput(`size must be a whole number of bytes, not ${size}`);
    if (size > this.maxBytes) throw badInput(`blob is ${size} bytes; the limit is ${this.maxBytes} (RIL_MAX_BLOB_BYTES)`);
    const type = contentType ?? 'application/octet-stream';
    if (!CONTENT_TYPE_RE.test(type)) throw badInput(`not a content type: ${JSON.stringify(type)}`);
    const existing = await this.existing(hash);
    if (existing) {
      if (existing.size !== size) throw badInput(`blob ${hash} is stored with ${existing.size} bytes, not ${size}`);
      return { sha256: hash, alreadyExists: true, url: null, method: 'PUT', headers: {}, expiresAt: null };
    }
    return { sha256: hash, alreadyExists: false, ...(await this.stageUpload(hash, size, type, owner)) };
  }

  completeUpload(hash: string, owner: string): Promise<BlobRow> {
    return this.finishUpload(assertSha256(hash), owner);
  }

  verifySignedUrl(hash: string, exp: string | null, sig: string | null): boolean {
    return SHA256_RE.test(hash) && this.signer().verifyBlob(hash, exp, sig);
  }

  close(): void {}

  /** The row of a blob whose bytes are present, or null. */
  protected async existing(hash: string): Promise<BlobRow | null> {
    const row = await this.prisma.blob.findUnique({ where: { sha256: hash } });
    return row && (await this.has(hash)) ? row : null;
  }

  protected record(hash: string, size: number, contentType: string): Promise<BlobRow> {
    return this.prisma.blob.upsert({ where: { sha256: hash }, create: { sha256: hash, size, contentType }, update: {} });
  }
}
