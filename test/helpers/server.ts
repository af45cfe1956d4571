// Starts the real platform over real HTTP on a fresh database (sqlite or postgres, see ./db.ts) and gives
// one-line helpers: `await t.gql(query, vars)` returns { status, data, errors }. With RIL_TEST_BLOB_STORE=s3
// (and no RIL_BLOB_STORE in extraEnv) the blobs go to an s3rver of its own (./s3.ts) instead of RIL_HOME.
import os from 'node:os';
import { loadEnv } from '../../api/_lib/env.js';
import { createPlatform, listen, type Platform } from '../../api/_lib/http/server.js';
import { createApiKey, type Role } from '../../api/_lib/auth/keys.js';
import { createTestDatabaseUrl } from './db.js';
import { startS3, type TestS3 } from './s3.js';

export interface GqlResult<T = any> {
  status: number;
  data: T;
  errors?: { message: string; extensions?: Record<string, any>; path?: string[] }[];
}

export interface TestServer {
  url: string;
  /** The unauthenticated metrics URL, when extraEnv sets RIL_METRICS_LISTEN. */
  metricsUrl?: string;
  platform: Platform;
  adminKey: string;
  home: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>, key?: string | null): Promise<GqlResult<T>>;
  keyFor(role: Role): Promise<string>;
  close(): Promise<void>;
}

export async function startTestServer(extraEnv: Record<string, string> = {}): Promise<TestServer> {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const s3: TestS3 | undefined = process.env.RIL_TEST_BLOB_STORE === 's3' && !extraEnv.RIL_BLOB_STORE ? await startS3() : undefined;
  // Request logs off unless a test asks for them (they would drown the reporter's output). Test fixtures are written
  // under the system temp folder: that is the import root for server-path imports (RIL_IMPORT_ROOT; #5's tests override it).
  const env = loadEnv({ RIL_HOME: home, RIL_LOG_REQUESTS: '0', RIL_IMPORT_ROOT: os.tmpdir(), ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...(s3?.env ?? {}), ...extraEnv });
  const platform = await createPlatform(env);
  const http = await listen(platform, 0);
  const adminKey = (await createApiKey(platform.db.prisma, 'test-admin', 'ADMIN')).secret;
  const gql = async (query: string, variables?: Record<string, unknown>, key: string | null = adminKey) => {
    const res = await fetch(`${http.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const body = await res.json() as { data: any; errors?: GqlResult['errors'] };
    return { status: res.status, data: body.data, errors: body.errors };
  };
  return {
    url: http.url,
    metricsUrl: http.metricsUrl,
    platform,
    adminKey,
    home,
    gql,
    keyFor: async (role: Role) => (await createApiKey(platform.db.prisma, `test-${role}`, role)).secret,
    async close() {
      await http.close();
      await platform.close();
      await s3?.close();
    },
  };
}

/** The first error's code (or undefined). */
export const errorCode = (r: GqlResult) => r.errors?.[0]?.extensions?.code as string | undefined;
