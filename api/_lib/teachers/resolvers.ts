import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { badInput, notFound } from '../errors.js';
import { getDatasetOrThrow } from '../datasets/service.js';
import { apiPathPolicy } from '../datasets/serverFiles.js';
import { queueTeacherFill } from './fillJob.js';
import { coverage, getTeacherByName, importTeacherResponses, readCacheFile, registerTeacher, updateTeacherEndpoint } from './service.js';

export const teacherResolvers: Resolvers = {
  Query: {
    teachers: (_p, _a, { db }) => db.prisma.teacher.findMany({ orderBy: { name: 'asc' } }),
    teacher: (_p, { name }, { loaders }) => loaders.teacherByName.load(name),
  },
  Mutation: {
    registerTeacher: (_p, { input }, { db, env }) => registerTeacher(db, input, env),
    updateTeacherEndpoint: (_p, { input }, { db, env }) => updateTeacherEndpoint(db, input, env),
    importTeacherResponses: async (_p, { input }, { db, env }) => {
      if ((input.path == null) === (input.jsonl == null)) throw badInput('give exactly one of path or jsonl');
      const text = input.jsonl ?? await readCacheFile(input.path!, apiPathPolicy(env));
      const result = await importTeacherResponses(db, input.datasetId, text);
      const teachers = await db.prisma.teacher.findMany({ where: { id: { in: result.teacherIds } }, orderBy: { name: 'asc' } });
      return { imported: result.imported, teachers };
    },
    fillTeacherCache: (_p, { input }, { db }) => queueTeacherFill(db, input),
    queueTeacherFill: (_p, { input }, { db }) => queueTeacherFill(db, input),
  },
  Teacher: {
    kind: (t) => t.kind as 'IMPORTED' | 'ENDPOINT',
    coverage: async (t, { datasetId, minSamples }, { db }) => {
      await getDatasetOrThrow(db, datasetId);
      const rows = await coverage(db, datasetId, minSamples ?? 1);
      const total = await db.prisma.example.count({ where: { datasetId } });
      return rows.find((r) => r.teacherId === t.id) ?? { teacherId: t.id, datasetId, covered: 0, total, responses: 0 };
    },
  },
  TeacherCoverage: {
    teacher: async (c, _a, { loaders }) => (await loaders.teacherById.load(c.teacherId)) ?? Promise.reject(notFound('teacher')),
  },
  TeacherResponse: {
    teacher: async (r, _a, { loaders }) => (await loaders.teacherById.load(r.teacherId)) ?? Promise.reject(notFound('teacher')),
    example: async (r, _a, { loaders }) => (await loaders.exampleById.load(r.exampleId)) ?? Promise.reject(notFound('example')),
  },
};

export { getTeacherByName };
