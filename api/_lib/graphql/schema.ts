// Builds the executable schema from schema.graphql and the resolver modules, wrapping every root field
// with its access policy (api/_lib/auth/access.ts). A root field without a policy stops start-up: authorisation
// fails closed.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeExecutableSchema } from '@graphql-tools/schema';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { ACCESS } from '../auth/access.js';
import type { Context } from './context.js';
import { requireRole } from '../auth/keys.js';
import { blobResolvers } from '../blobs/resolvers.js';
import { datasetResolvers } from '../datasets/resolvers.js';
import { deploymentResolvers } from '../deployments/resolvers.js';
import { evalResolvers } from '../evals/resolvers.js';
import { experimentResolvers } from '../experiments/resolvers.js';
import { keyResolvers } from '../auth/resolvers.js';
import { teacherResolvers } from '../teachers/resolvers.js';
import { DateTime, JSONScalar } from './scalars.js';

export const SCHEMA_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'schema.graphql');

type ResolverMap = Record<string, Record<string, unknown>>;
const MODULES: ResolverMap[] = [datasetResolvers, teacherResolvers, keyResolvers, deploymentResolvers, experimentResolvers, blobResolvers, evalResolvers] as unknown as ResolverMap[];

function mergeResolvers(modules: ResolverMap[]): ResolverMap {
  const merged: ResolverMap = {};
  for (const mod of modules) {
    for (const [type, fields] of Object.entries(mod)) {
      for (const [field, fn] of Object.entries(fields)) {
        if (merged[type]?.[field]) throw new Error(`resolver ${type}.${field} is defined twice`);
        merged[type] = { ...(merged[type] ?? {}), [field]: fn };
      }
    }
  }
  return merged;
}

export function buildSchema(): GraphQLSchema {
  const typeDefs = fs.readFileSync(SCHEMA_PATH, 'utf8');
  const resolvers = mergeResolvers(MODULES);
  for (const root of ['Query', 'Mutation']) {
    for (const [field, fn] of Object.entries(resolvers[root] ?? {})) {
      const roles = ACCESS[`${root}.${field}`];
      if (!roles) throw new Error(`no access policy for ${root}.${field}: add it to api/_lib/auth/access.ts`);
      const inner = fn as GraphQLFieldResolver<unknown, Context>;
      resolvers[root][field] = (parent: unknown, args: unknown, ctx: Context, info: never) => {
        requireRole(ctx.principal, roles);
        return inner(parent, args as Record<string, unknown>, ctx, info);
      };
    }
  }
  const schema = makeExecutableSchema({ typeDefs, resolvers: { ...resolvers, DateTime, JSON: JSONScalar } as never });
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const name of Object.keys(root?.getFields() ?? {})) {
      if (!resolvers[root!.name]?.[name]) throw new Error(`${root!.name}.${name} has no resolver`);
    }
  }
  return schema;
}
