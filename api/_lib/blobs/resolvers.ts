// Direct blob transfers: createBlobUpload -> send the bytes -> completeBlobUpload, and short-lived download URLs.
// Access (api/_lib/auth/access.ts): uploads EDITOR and WORKER, download URLs EDITOR, VIEWER and WORKER.
import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { notFound } from '../errors.js';
import { assertSha256 } from './store.js';

export const blobResolvers: Resolvers = {
  Query: {
    blobDownloadUrl: async (_p, { sha256 }, { db, blobs }) => {
      const row = await db.prisma.blob.findUnique({ where: { sha256: assertSha256(sha256) } });
      if (!row) throw notFound(`blob ${sha256}`);
      return blobs.downloadUrl(sha256, row.contentType);
    },
  },
  Mutation: {
    createBlobUpload: (_p, { input }, { blobs, principal }) =>
      blobs.createUpload({ sha256: input.sha256, size: input.size, contentType: input.contentType, owner: principal!.keyId }),
    completeBlobUpload: (_p, { sha256 }, { blobs, principal }) => blobs.completeUpload(sha256, principal!.keyId),
  },
};
