// The platform's HTTP surface on plain node:http: POST /graphql (Apollo Server 5), GET /healthz,
// GET|PUT /blobs/<sha256>, POST /v1/infer and POST /v1/chat/completions (api/http/infer.ts), and the dashboard at /
// (clients/web, bundled in memory by esbuild on the first request). `ril serve` listens
// with it; functions/graphql.ts and functions/infer.ts export the same handler.
import http from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import depthLimit from 'graphql-depth-limit';
import { openDatabase } from '../db/index.js';
import { loadEnv, type Env } from '../env.js';
import { formatError, httpStatus } from '../errors.js';
import { createLoaders } from '../graphql/loaders.js';
import { buildSchema } from '../graphql/schema.js';
import { queryCost } from '../graphql/cost.js';
import { authenticate, requireRole, type Principal } from '../auth/keys.js';
import { BlobStore, SHA256_RE } from '../blobs/store.js';
import type { Context, Services } from '../graphql/context.js';
import { InferenceService } from '../deployments/service.js';
import { createInferRoutes } from './infer.js';
import { dashboardAssets } from '../../../clients/web/build.js';

const MAX_GRAPHQL_BODY = 16 * 1024 * 1024;

export interface Platform extends Services {
  inference: InferenceService;
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;
  close(): Promise<void>;
}

function costLimit(maxCost: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema }) {
          const cost = queryCost(schema, document, operationName, (request.variables ?? {}) as Record<string, unknown>);
          if (cost > maxCost) {
            throw new GraphQLError(`query cost ${cost} exceeds the limit of ${maxCost}; ask for smaller pages`, {
              extensions: { code: 'BAD_USER_INPUT', cost, maxCost, http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: http.ServerResponse, code: string, message: string) {
  sendJson(res, httpStatus(code), { error: { code, message } });
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw Object.assign(new Error(`request body exceeds ${limit} bytes`), { code: 'PAYLOAD_TOO_LARGE' });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The key from `Authorization: Bearer ...`, or `?key=` (for <img src> in the dashboard). */
function keyOf(req: http.IncomingMessage, url: URL): string | undefined {
  return req.headers.authorization ?? url.searchParams.get('key') ?? undefined;
}

export async function createPlatform(env: Env = loadEnv()): Promise<Platform> {
  const db = await openDatabase({ databaseUrl: env.DATABASE_URL, home: env.home, logSql: env.RIL_LOG_SQL === '1' });
  const blobs = new BlobStore(env.blobDir, db.prisma, env.RIL_MAX_BLOB_BYTES);
  const services: Services = { db, env, blobs };
  const inference = new InferenceService(services);
  const inferRoutes = createInferRoutes(inference, env);
  const apollo = new ApolloServer<Context>({
    schema: buildSchema(),
    formatError,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimit(env.RIL_MAX_QUERY_DEPTH)],
    plugins: [costLimit(env.RIL_MAX_QUERY_COST)],
  });
  await apollo.start();

  const principalOf = async (req: http.IncomingMessage, url: URL): Promise<Principal | null> => authenticate(db.prisma, keyOf(req, url));

  async function graphql(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    let principal: Principal | null;
    try {
      principal = await principalOf(req, url);
    } catch (err) {
      return sendJson(res, 401, { errors: [{ message: (err as Error).message, extensions: { code: 'UNAUTHENTICATED' } }] });
    }
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown;
    if (req.method === 'POST') {
      const raw = await readBody(req, MAX_GRAPHQL_BODY);
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      }
    }
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => ({ ...services, inference, principal, loaders: createLoaders(db) }),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') return void res.end(result.body.string);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  async function blob(req: http.IncomingMessage, res: http.ServerResponse, url: URL, hash: string) {
    const principal = await principalOf(req, url);
    if (req.method === 'GET' || req.method === 'HEAD') {
      requireRole(principal, ['EDITOR', 'VIEWER', 'WORKER']);
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256');
      const row = await db.prisma.blob.findUnique({ where: { sha256: hash } });
      if (!row || !blobs.has(hash)) return sendError(res, 'NOT_FOUND', `blob ${hash} not found`);
      res.writeHead(200, { 'content-type': row.contentType, 'content-length': row.size, 'cache-control': 'private, max-age=31536000, immutable', etag: `"${hash}"` });
      if (req.method === 'HEAD') return void res.end();
      const { createReadStream } = await import('node:fs');
      createReadStream(blobs.pathOf(hash)).pipe(res);
      return;
    }
    if (req.method === 'PUT') {
      requireRole(principal, ['EDITOR', 'WORKER']);
      if (!SHA256_RE.test(hash)) return sendError(res, 'BAD_USER_INPUT', 'not a sha256');
      const declared = Number(req.headers['content-length'] ?? NaN);
      if (Number.isFinite(declared) && declared > blobs.maxBytes) return sendError(res, 'PAYLOAD_TOO_LARGE', `blob exceeds the limit of ${blobs.maxBytes} bytes`);
      const stored = await blobs.putStream(hash, req, String(req.headers['content-type'] ?? 'application/octet-stream'));
      return sendJson(res, stored.created ? 201 : 200, stored);
    }
    return sendError(res, 'BAD_USER_INPUT', `method ${req.method} not allowed on /blobs`);
  }

  async function handler(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    try {
      if (url.pathname === '/graphql') return await graphql(req, res, url);
      if (url.pathname.startsWith('/v1/') && await inferRoutes.handle(req, res, url, () => principalOf(req, url))) return;
      if (url.pathname === '/healthz') {
        await db.prisma.$queryRawUnsafe('SELECT 1');
        return sendJson(res, 200, { ok: true, database: db.provider });
      }
      const blobMatch = /^\/blobs\/([^/]+)$/.exec(url.pathname);
      if (blobMatch) return await blob(req, res, url, blobMatch[1]);
      if ((req.method === 'GET' || req.method === 'HEAD') && (url.pathname === '/' || url.pathname === '/app.js' || url.pathname === '/app.css')) {
        // The dashboard (clients/web): public static files; every datum it shows comes through /graphql with the user's key.
        const asset = (await dashboardAssets()).files.get(url.pathname);
        if (!asset) return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
        res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
        return void res.end(req.method === 'HEAD' ? undefined : asset.body);
      }
      return sendError(res, 'NOT_FOUND', `no route for ${req.method} ${url.pathname}`);
    } catch (err) {
      const code = (err as { extensions?: { code?: string }; code?: string }).extensions?.code ?? (err as { code?: string }).code;
      if (code && httpStatus(code) < 500) {
        if (!res.headersSent) return sendError(res, code, (err as Error).message);
        return void res.destroy();
      }
      console.error('[http] internal error:', err);
      if (!res.headersSent) return sendError(res, 'INTERNAL_SERVER_ERROR', 'internal server error');
      res.destroy();
    }
  }

  return {
    ...services,
    inference,
    handler,
    async close() {
      await apollo.stop();
      await inference.close();
      await db.close();
    },
  };
}

/** Starts the platform on a port (0 = any free port). */
export async function listen(platform: Platform, port: number, host = '127.0.0.1') {
  const server = http.createServer((req, res) => void platform.handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    server,
    port: actualPort,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
