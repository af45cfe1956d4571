// POST /graphql: Apollo Server 5 over node:http, with the depth and cost limits, one error policy
// (formatError) and a fresh context (caller, DataLoaders) per request.
import type http from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Lexer, Source, TokenKind } from 'graphql';
import { authenticate } from '../auth/keys.js';
import { formatError } from '../errors.js';
import { createLoaders } from '../graphql/loaders.js';
import { buildSchema } from '../graphql/schema.js';
import { depthLimitRule } from '../graphql/depth.js';
import { queryCost, repeatedOnceField } from '../graphql/cost.js';
import type { Context } from '../graphql/context.js';
import type { Services } from '../services.js';
import type { DeploymentService } from '../deployments/service.js';
import type { InferencePort } from '../inference/port.js';
import { abortOnClose, keyOf, readBody, sendJson, type Route } from './respond.js';
import { refuseUnstorableText } from './storableText.js';

const MAX_GRAPHQL_BODY = 16 * 1024 * 1024;

/** Whether `source` lexes to more than `max` tokens; stops at max + 1, so the cost is bounded by the limit. */
function tooManyTokens(source: string, max: number): boolean {
  const lexer = new Lexer(new Source(source));
  try {
    for (let n = 0; n <= max; n += 1) if (lexer.advance().kind === TokenKind.EOF) return false;
  } catch {
    return false; // a syntax error: Apollo reports it (the document is within the limit so far)
  }
  return true;
}

function costLimit(maxCost: number): ApolloServerPlugin<Context> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operationName, request, schema, operation }) {
          const repeated = repeatedOnceField(document, operationName, operation?.operation ?? 'query');
          if (repeated) {
            throw new GraphQLError(`an operation may select ${repeated.field} once (this one selects it ${repeated.count} times); send one request per ${repeated.field}`, {
              extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
            });
          }
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

export interface GraphqlRoute { route: Route; stop(): Promise<void> }

export interface GraphqlOptions {
  /** The per-key inference rate limit of this process's /v1/* routes, for Query.infer (see Context). */
  limitInference?: Context['limitInference'];
  /** More Apollo plugins (the platform's root-field timings, observability/metrics.ts). */
  plugins?: ApolloServerPlugin<Context>[];
}

export async function createGraphqlRoute(services: Services, inference: InferencePort, deployments: DeploymentService, options: GraphqlOptions = {}): Promise<GraphqlRoute> {
  const { db, env } = services;
  const apollo = new ApolloServer<Context>({
    schema: buildSchema(),
    formatError,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimitRule(env.RIL_MAX_QUERY_DEPTH)],
    plugins: [costLimit(env.RIL_MAX_QUERY_COST), refuseUnstorableText(), ...(options.plugins ?? [])],
  });
  await apollo.start();

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    let principal;
    try {
      principal = await authenticate(db.prisma, keyOf(req));
    } catch (err) {
      const code = (err as { extensions?: { code?: string } }).extensions?.code;
      // only a bad key is 401; a database fault is 503 with a generic message (authenticate logged the cause)
      if (code === 'UNAUTHENTICATED') return sendJson(res, 401, { errors: [{ message: (err as Error).message, extensions: { code } }] });
      return sendJson(res, 503, { errors: [{ message: 'the service is temporarily unavailable; retry shortly', extensions: { code: 'SERVICE_UNAVAILABLE' } }] }, { 'retry-after': '1' });
    }
    // A caller without a key can only be refused, so it gets a small body and a small document (RIL_ANON_*).
    const anonymous = principal === null;
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    let body: unknown;
    if (req.method === 'POST') {
      let raw: Buffer;
      try {
        raw = await readBody(req, anonymous ? env.RIL_ANON_MAX_BODY_BYTES : MAX_GRAPHQL_BODY);
      } catch (err) {
        if ((err as { code?: string }).code !== 'PAYLOAD_TOO_LARGE') throw err;
        res.setHeader('connection', 'close'); // the rest of the body is not read
        return sendJson(res, 413, { errors: [{ message: anonymous ? `${(err as Error).message} (callers without an API key)` : (err as Error).message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      }
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : {};
      } catch {
        return sendJson(res, 400, { errors: [{ message: 'request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
      }
    }
    if (anonymous) {
      const query = req.method === 'POST' ? (body as { query?: unknown } | null)?.query : url.searchParams.get('query');
      if (typeof query === 'string' && tooManyTokens(query, env.RIL_ANON_MAX_TOKENS)) {
        return sendJson(res, 400, { errors: [{ message: `the document has more than ${env.RIL_ANON_MAX_TOKENS} tokens, the limit for callers without an API key`, extensions: { code: 'BAD_REQUEST' } }] });
      }
    }
    const signal = abortOnClose(res); // Query.infer stops when its caller leaves
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? 'GET', headers, search: url.search, body },
      context: async () => ({
        ...services, inference, deployments, principal, loaders: createLoaders(db), authorization: req.headers.authorization,
        limitInference: options.limitInference, signal,
      }),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') return void res.end(result.body.string);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  return { route, stop: () => apollo.stop() };
}
