import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { notFound } from '../errors.js';
import { createApiKey, forgetKey } from './keys.js';

export const keyResolvers: Resolvers = {
  Query: {
    me: async (_p, _a, { principal, db }) => (await db.prisma.apiKey.findUnique({ where: { id: principal!.keyId } }))!,
    apiKeys: (_p, _a, { db }) => db.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } }),
  },
  Mutation: {
    createApiKey: (_p, { input }, { db }) => createApiKey(db.prisma, input.name, input.role),
    revokeApiKey: async (_p, { id }, { db }) => {
      const key = await db.prisma.apiKey.findUnique({ where: { id } });
      if (!key) throw notFound(`API key ${id}`);
      const revoked = await db.prisma.apiKey.update({ where: { id }, data: { revokedAt: key.revokedAt ?? new Date() } });
      forgetKey(db.prisma, id); // this process's key caches refuse it at once (other instances within RIL_KEY_CACHE_MS)
      return revoked;
    },
  },
  ApiKey: {
    role: (k) => k.role as 'ADMIN',
  },
};
