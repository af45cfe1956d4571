// A real S3-protocol server for tests: s3rver (in-process, on 127.0.0.1, any free port, a temp directory).
//
//   const s3 = await startS3();                       // one bucket, created
//   const t = await startTestServer(s3.env);          // RIL_BLOB_STORE=s3 + RIL_S3_* for it
//   ...
//   await s3.close();
//
// What s3rver checks and what it does not (so tests know what they prove): it enforces presigned URLs'
// expiry, serves GET/HEAD/PUT/DELETE, CopyObject and user metadata (x-amz-meta-*, also hoisted into a
// presigned URL's query). It does NOT verify SigV4 signatures (header or query; a forged presigned URL is
// accepted), does not enforce a signed Content-Length or Content-Type, and ignores CopySourceIfMatch. Those
// are real S3's guarantees; the platform also checks hash and size itself in completeBlobUpload.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
  httpServer?: import('node:http').Server;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverServer;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** s3rver's storage (bucket/key/...). */
  dir: string;
  /** RIL_BLOB_STORE=s3 and the RIL_S3_* variables that point the platform at this server. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startS3(opts: { bucket?: string; prefix?: string } = {}): Promise<TestS3> {
  const bucket = opts.bucket ?? 'ril-test';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    dir,
    env: {
      RIL_BLOB_STORE: 's3',
      RIL_S3_BUCKET: bucket,
      RIL_S3_REGION: 'us-east-1',
      RIL_S3_ENDPOINT: endpoint,
      RIL_S3_FORCE_PATH_STYLE: '1',
      RIL_S3_PREFIX: opts.prefix ?? 'blobs/',
      RIL_S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      RIL_S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    async close() {
      server.httpServer?.closeAllConnections();
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
