// Datasets and examples: resolvers validate arguments and call services; relations go through loaders.
import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { badInput, notFound } from '../errors.js';
import { decodeCursor, idPage, isId, pageSize, toConnection } from '../graphql/pagination.js';
import { getDatasetOrThrow, importDataset, splitCounts, topAnswers } from './service.js';
import { coverage } from '../teachers/service.js';
import { apiPathPolicy } from './serverFiles.js';

const isOrdinal = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= -1;


export const datasetResolvers: Resolvers = {
  Query: {
    datasets: async (_p, { first, after, name }, { db }) => {
      const take = pageSize(first, 100);
      const cursor = decodeCursor(after, isId);
      const where = name ? { name } : {};
      const [rows, totalCount] = await Promise.all([
        db.prisma.dataset.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...idPage(take, cursor) }),
        db.prisma.dataset.count({ where }),
      ]);
      return toConnection(rows, take, (d) => d.id, totalCount);
    },
    dataset: (_p, { id }, { loaders }) => loaders.datasetById.load(id),
    example: (_p, { id }, { loaders }) => loaders.exampleById.load(id),
  },
  Mutation: {
    importDataset: (_p, { input }, { db, blobs, env }) => {
      if ((input.path == null) === (input.blobSha256 == null)) throw badInput('give exactly one of blobSha256 or path');
      // A function's disk is its own, read-only and gone after the call: a path names nothing the caller can put there.
      if (input.path != null && env.RIL_DEPLOYMENT === 'functions') {
        throw badInput('path imports read the server\'s disk and are only for the local CLI; upload the dataset (PUT /blobs/<sha256>) and pass blobSha256');
      }
      return importDataset(db, blobs, {
        name: input.name, path: input.path, blobSha256: input.blobSha256, description: input.description,
        maxImageBytes: env.RIL_MAX_IMAGE_BYTES, maxUnpackedBytes: env.RIL_MAX_UNPACKED_BYTES, pathPolicy: apiPathPolicy(env),
      });
    },
  },
  Dataset: {
    examples: async (dataset, { first, after, split }, { loaders }) => {
      const take = pageSize(first);
      const afterOrdinal = decodeCursor(after, isOrdinal) ?? -1;
      const [rows, totalCount] = await Promise.all([
        loaders.examplePage.load({ datasetId: dataset.id, split: split ?? null, first: take, afterOrdinal }),
        loaders.exampleCount.load({ datasetId: dataset.id, split: split ?? null }),
      ]);
      return toConnection(rows, take, (e) => e.ordinal, totalCount);
    },
    stats: (dataset) => ({ datasetId: dataset.id }),
    teacherCoverage: (dataset, { minSamples }, { db }) => coverage(db, dataset.id, minSamples ?? 1),
  },
  DatasetStats: {
    splits: ({ datasetId }, _a, { db }) => splitCounts(db, datasetId),
    topAnswers: ({ datasetId }, { limit }, { db }) => topAnswers(db, datasetId, limit ?? 10),
  },
  Example: {
    split: (e) => e.split as 'train' | 'val' | 'test',
    // signed, short-lived: an <img src> sends no key (no row lookup: the import recorded the image's blob)
    imageUrl: async (e, _a, { blobs }) => (await blobs.downloadUrl(e.imageSha256)).url,
    dataset: async (e, _a, { loaders }) => (await loaders.datasetById.load(e.datasetId)) ?? Promise.reject(notFound('dataset')),
    teacherResponses: (e, { teacher }, { loaders }) => loaders.responsesByExample.load({ exampleId: e.id, teacher: teacher ?? null }),
  },
};

export { getDatasetOrThrow };
