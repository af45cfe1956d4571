// POST /graphql: Apollo Server 5 over node:http, with the depth and cost limits, one error policy
// (formatError) and a fresh context (caller, DataLoaders) per request.
import type http from 'node:http';
import { ApolloServer, HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { GraphQLError } from 'graphql';
import { authenticate } from '../auth/keys.js';
import { formatError } from '../errors.js';
import { createLoaders } from '../graphql/loaders.js';
import { buildSchema } from '../graphql/schema.js';
import { depthLimitRule } from '../graphql/depth.js';
import { queryCost } from '../graphql/cost.js';
import type { Context } from '../graphql/context.js';
import type { Services } from '../services.js';
import type { DeploymentService } from '../deployments/service.js';
import type { InferencePort } from '../inference/port.js';
import { keyOf, readBody, sendJson, type Route } from './respond.js';
import { refuseUnstorableText } from './storableText.js';

const MAX_GRAPHQL_BODY = 16 * 1024 * 1024;

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

export interface GraphqlRoute { route: Route; stop(): Promise<void> }

export async function createGraphqlRoute(services: Services, inference: InferencePort, deployments: DeploymentService): Promise<GraphqlRoute> {
  const { db, env } = services;
  const apollo = new ApolloServer<Context>({
    schema: buildSchema(),
    formatError,
    includeStacktraceInErrorResponses: false,
    validationRules: [depthLimitRule(env.RIL_MAX_QUERY_DEPTH)],
    plugins: [costLimit(env.RIL_MAX_QUERY_COST), refuseUnstorableText()],
  });
  await apollo.start();

  async function route(req: http.IncomingMessage, res: http.ServerResponse, url: URL) {
    let principal;
    try {
      principal = await authenticate(db.prisma, keyOf(req));
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
      context: async () => ({ ...services, inference, deployments, principal, loaders: createLoaders(db), authorization: req.headers.authorization }),
    });
    for (const [k, v] of result.headers) res.setHeader(k, v);
    res.statusCode = result.status ?? 200;
    if (result.body.kind === 'complete') return void res.end(result.body.string);
    for await (const chunk of result.body.asyncIterator) res.write(chunk);
    res.end();
  }

  return { route, stop: () => apollo.stop() };
}
