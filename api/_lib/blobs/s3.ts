// The S3 blob store: any S3-compatible server (AWS S3, MinIO, Cloudflare R2, ...). A blob lives at
// <prefix><sha256>; nothing is ever written there before its bytes have been hashed and checked.
//
// Direct uploads go to a staging key, never to the content key (a presigned URL aimed at the content key could
// later overwrite a verified blob): createUpload presigns a PUT to <prefix>uploads/<hmac(owner, sha256)>, with
// the declared size (Content-Length), the content type and x-amz-meta-ril-sha256 / -ril-size bound into the
// signature. The staging key is derived from the API key and the hash with the server's secret, so
// completeUpload finds it again without a table, and two keys uploading the same hash do not meet.
// completeUpload stream-hashes the staged object, checks sha256 and size, copies it to the content key
// (CopyObject, conditional on the ETag it hashed), deletes the staged object and only then writes the row.
// Abandoned staged objects stay until overwritten: give <prefix>uploads/ a lifecycle rule (expire after a day).
import crypto from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import {
  CopyObjectCommand, DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type GetObjectCommandOutput,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { PrismaClient } from '../db/index.js';
import type { Env } from '../env.js';
import { AppError, badInput, notFound } from '../errors.js';
import type { UrlSigner } from './signing.js';
import {
  BaseBlobStore, UPLOAD_TTL_S, assertSha256, downloadWindow, sha256, tooLarge, type BlobDownload, type BlobRow, type BlobUpload, type StoredBlob,
} from './store.js';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Key prefix of every object this store writes (default `blobs/`). */
  prefix: string;
  prisma: PrismaClient;
  maxBytes: number;
  signer: () => UrlSigner;
}

/** Checks the RIL_S3_* settings; throws an Error naming what to fix. */
export function checkS3Config(env: Env): void {
  if (!env.RIL_S3_BUCKET) throw new Error('RIL_BLOB_STORE=s3 needs RIL_S3_BUCKET (the bucket that holds the blobs)');
  if (Boolean(env.RIL_S3_ACCESS_KEY_ID) !== Boolean(env.RIL_S3_SECRET_ACCESS_KEY)) {
    throw new Error('set both RIL_S3_ACCESS_KEY_ID and RIL_S3_SECRET_ACCESS_KEY, or neither (then the AWS SDK\'s default credential chain is used)');
  }
}

/** The S3 client for the RIL_S3_* settings. */
export function s3ClientFor(env: Env): S3Client {
  return new S3Client({
    region: env.RIL_S3_REGION,
    endpoint: env.RIL_S3_ENDPOINT,
    forcePathStyle: env.RIL_S3_FORCE_PATH_STYLE === '1',
    credentials: env.RIL_S3_ACCESS_KEY_ID ? { accessKeyId: env.RIL_S3_ACCESS_KEY_ID, secretAccessKey: env.RIL_S3_SECRET_ACCESS_KEY! } : undefined,
    // Checksums only where S3 requires them: by default the SDK adds a CRC32 of the (empty) body to presigned
    // PUTs, which real S3 then rejects, and S3-compatible servers do not all speak aws-chunked trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

const status = (err: unknown) => (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const isMissing = (err: unknown) => ['NoSuchKey', 'NotFound'].includes((err as Error)?.name) || status(err) === 404;

export class S3BlobStore extends BaseBlobStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;

  constructor(opts: S3BlobStoreOptions) {
    super(opts.prisma, opts.maxBytes, opts.signer);
    this.client = opts.client;
    this.bucket = opts.bucket;
    this.prefix = opts.prefix;
  }

  /** The object key of a blob. */
  keyOf(hash: string): string {
    return `${this.prefix}${assertSha256(hash)}`;
  }

  /** The staging key of `owner`'s direct upload of `hash`. */
  stagingKey(owner: string, hash: string): string {
    return `${this.prefix}uploads/${this.signer().derive('s3-staging', owner, hash)}`;
  }

  async has(hash: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  private async get(key: string, what: string): Promise<GetObjectCommandOutput & { Body: Readable }> {
    try {
      return await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })) as GetObjectCommandOutput & { Body: Readable };
    } catch (err) {
      if (isMissing(err)) throw notFound(what);
      throw err;
    }
  }

  async read(hash: string): Promise<Buffer> {
    const obj = await this.get(this.keyOf(hash), `blob ${hash}`);
    const chunks: Buffer[] = [];
    for await (const chunk of obj.Body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async openRead(hash: string): Promise<Readable> {
    return (await this.get(this.keyOf(hash), `blob ${hash}`)).Body;
  }

  async writeFile(bytes: Uint8Array, contentType = 'application/octet-stream'): Promise<string> {
    const hash = sha256(bytes);
    if (await this.has(hash)) return hash;
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash), Body: bytes, ContentLength: bytes.byteLength, ContentType: contentType }));
    return hash;
  }

  /** Streams to a fresh staging key while hashing (S3 needs the length up front), then promotes it if it matches. */
  async putStream(expected: string, body: Readable, contentType: string, size?: number): Promise<StoredBlob> {
    assertSha256(expected);
    if (size === undefined) throw new AppError('LENGTH_REQUIRED' as never, 'uploads to the S3 blob store need a Content-Length (or use createBlobUpload)');
    if (size > this.maxBytes) throw tooLarge(this.maxBytes, size);
    const staging = `${this.prefix}uploads/${crypto.randomUUID()}`;
    const hash = crypto.createHash('sha256');
    let seen = 0;
    let failure: Error | undefined;
    const meter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        seen += chunk.length;
        if (seen > size) return done((failure = badInput(`the body is longer than its Content-Length of ${size}`)));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    body.on('error', (err) => meter.destroy(err));
    body.pipe(meter);
    let etag: string | undefined;
    try {
      etag = (await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: staging, Body: meter, ContentLength: size, ContentType: contentType }))).ETag;
      const actual = hash.digest('hex');
      if (seen !== size) throw badInput(`received ${seen} bytes of the declared ${size}`);
      if (actual !== expected) throw badInput(`content hash ${actual} does not match the URL's ${expected}`);
      const created = await this.promote(staging, expected, etag);
      await this.record(expected, size, contentType);
      return { sha256: expected, size, created };
    } catch (err) {
      throw failure ?? err;
    } finally {
      body.unpipe(meter);
      meter.destroy(); // a failed PUT leaves it paused with buffered bytes (the request's unread rest: sendFailure closes the connection)
      await this.remove(staging);
    }
  }

  /** Copies a verified staged object to the content key unless the blob is there already. True when copied. */
  private async promote(staging: string, hash: string, etag: string | undefined): Promise<boolean> {
    if (await this.has(hash)) return false;
    await this.client.send(new CopyObjectCommand({
      Bucket: this.bucket,
      Key: this.keyOf(hash),
      CopySource: `${this.bucket}/${staging.split('/').map(encodeURIComponent).join('/')}`,
      // what was hashed is what is copied: a PUT to the staging key in between makes S3 refuse the copy
      ...(etag ? { CopySourceIfMatch: etag } : {}),
    }));
    return true;
  }

  private async remove(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isMissing(err)) console.error(`[blobs] could not delete the staged object ${key}:`, (err as Error).message);
    }
  }

  protected async stageUpload(hash: string, size: number, contentType: string, owner: string): Promise<Omit<BlobUpload, 'sha256' | 'alreadyExists'>> {
    const expiresAt = new Date(Date.now() + UPLOAD_TTL_S * 1000);
    const url = await getSignedUrl(this.client, new PutObjectCommand({
      Bucket: this.bucket,
      Key: this.stagingKey(owner, hash),
      ContentLength: size,
      ContentType: contentType,
      Metadata: { 'ril-sha256': hash, 'ril-size': String(size) },
    }), { expiresIn: UPLOAD_TTL_S, signableHeaders: new Set(['content-type', 'content-length']) });
    return { url, method: 'PUT', headers: { 'content-type': contentType }, expiresAt };
  }

  protected async finishUpload(hash: string, owner: string): Promise<BlobRow> {
    const staging = this.stagingKey(owner, hash);
    let obj: GetObjectCommandOutput & { Body: Readable };
    try {
      obj = await this.get(staging, 'staged upload');
    } catch (err) {
      if ((err as AppError).extensions?.code !== 'NOT_FOUND') throw err;
      const row = await this.existing(hash);
      if (row) return row;
      throw badInput(`nothing has been uploaded for blob ${hash} with this key: PUT its bytes to the URL from createBlobUpload (valid for ${UPLOAD_TTL_S / 60} minutes) first`);
    }
    const refuse = async (message: string): Promise<never> => {
      obj.Body.destroy();
      await this.remove(staging);
      throw badInput(`upload of blob ${hash} refused: ${message}; nothing was stored`);
    };
    const declared = Number(obj.Metadata?.['ril-size']);
    if (obj.Metadata?.['ril-sha256'] !== hash || !Number.isSafeInteger(declared)) return refuse('the staged object was not made by createBlobUpload for this hash');
    if (declared > this.maxBytes) return refuse(`${declared} bytes exceed the limit of ${this.maxBytes}`);
    if (obj.ContentLength !== undefined && obj.ContentLength !== declared) return refuse(`${obj.ContentLength} bytes were sent; createBlobUpload declared ${declared}`);
    const digest = crypto.createHash('sha256');
    let seen = 0;
    for await (const chunk of obj.Body) {
      seen += (chunk as Buffer).length;
      if (seen > declared) return refuse(`more than the declared ${declared} bytes were sent`);
      digest.update(chunk as Buffer);
    }
    if (seen !== declared) return refuse(`${seen} bytes were sent; createBlobUpload declared ${declared}`);
    const actual = digest.digest('hex');
    if (actual !== hash) return refuse(`the bytes sent hash to ${actual}`);
    try {
      await this.promote(staging, hash, obj.ETag);
    } catch (err) {
      // 412: the staged object was replaced after it was hashed; what is there now has not been checked
      if (status(err) === 412) throw badInput(`the upload of blob ${hash} changed while it was being verified: call completeBlobUpload again`);
      throw err;
    }
    await this.remove(staging);
    return this.record(hash, declared, obj.ContentType ?? 'application/octet-stream');
  }

  close(): void {
    this.client.destroy();
  }

  async downloadUrl(hash: string, contentType?: string): Promise<BlobDownload> {
    // signed as of the start of the current window, so the URL (and what a browser cached from it) is stable
    const { start, exp } = downloadWindow();
    const url = await getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: this.keyOf(hash), ResponseContentType: contentType }),
      { expiresIn: exp - start, signingDate: new Date(start * 1000) });
    return { url, expiresAt: new Date(exp * 1000) };
  }
}
