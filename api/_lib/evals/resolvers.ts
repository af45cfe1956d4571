// Evaluation suites, their results and the comparison table: thin resolvers over evals/service.ts and evals/table.ts.
// Access is in auth/access.ts; recordEvalResult's scoping to the held job is in the service (the worker rule).
import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { notFound } from '../errors.js';
import { decodeCursor, idPage, isId, pageSize, toConnection } from '../graphql/pagination.js';
import { addSuiteVersion, columnLabel, createSuite, queueSuiteEvaluation, recordEvalExamples, recordEvalResult, updateSuiteVersion } from './service.js';
import { evaluationTable, subjectLabel } from './table.js';

const must = <T>(what: string) => (v: T | null) => v ?? Promise.reject(notFound(what));

export const evalResolvers: Resolvers = {
  Query: {
    evalSuites: (_p, _a, { db }) => db.prisma.evalSuite.findMany({ orderBy: { name: 'asc' } }),
    evalSuite: (_p, { name }, { db }) => db.prisma.evalSuite.findUnique({ where: { name } }),
    evaluationTable: (_p, args, { db, env }) => evaluationTable(db, args, env),
    evalExamples: async (_p, { versionId, subjectId, entryId, first, after }, { db }) => {
      const take = pageSize(first, 1000);
      const cursor = decodeCursor(after, isId);
      const where = { versionId, subjectId, entryId };
      const [rows, totalCount, correctCount] = await Promise.all([
        db.prisma.evalExampleResult.findMany({ where, orderBy: { id: 'asc' }, include: { example: { select: { externalId: true } } }, ...idPage(take, cursor) }),
        db.prisma.evalExampleResult.count({ where }),
        db.prisma.evalExampleResult.count({ where: { ...where, correct: true } }),
      ]);
      return { ...toConnection(rows.map((r) => ({ ...r, externalId: r.example.externalId })), take, (r) => r.id, totalCount), correctCount };
    },
  },
  Mutation: {
    createEvalSuite: (_p, { input }, { db, env }) => createSuite(db, input, env),
    addEvalSuiteVersion: (_p, { input }, { db, env }) => addSuiteVersion(db, input, env),
    updateEvalSuiteVersion: (_p, { input }, { db, env }) => updateSuiteVersion(db, input, env),
    recordEvalResult: (_p, { input }, { db, principal }) => recordEvalResult(db, principal!, input),
    recordEvalExamples: (_p, { input }, { db, principal }) => recordEvalExamples(db, principal!, input),
    queueSuiteEvaluation: (_p, { input }, { db, env }) => queueSuiteEvaluation(db, input, env),
  },
  EvalSuite: {
    versions: (s, _a, { loaders }) => loaders.evalVersionsBySuite.load(s.id),
    latest: async (s, _a, { loaders }) => (await loaders.evalVersionsBySuite.load(s.id)).at(-1) ?? Promise.reject(notFound(`a version of suite ${s.name}`)),
    version: async (s, { version }, { loaders }) => (await loaders.evalVersionsBySuite.load(s.id)).find((v) => v.version === version) ?? null,
  },
  EvalSuiteVersion: {
    suite: (v, _a, { loaders }) => loaders.evalSuiteById.load(v.suiteId).then(must('suite')),
    datasets: (v, _a, { loaders }) => loaders.evalEntriesByVersion.load(v.id),
    results: (v, { subjectId }, { loaders }) => loaders.evalResultsByVersion.load({ versionId: v.id, subjectId: subjectId ?? null }),
  },
  EvalSuiteDataset: {
    dataset: (e, _a, { loaders }) => loaders.datasetById.load(e.datasetId).then(must('dataset')),
    split: (e) => e.split as 'test',
    judge: (e) => e.judge as 'RULE',
    label: async (e, _a, { loaders }) => columnLabel(e, await loaders.datasetById.load(e.datasetId).then(must('dataset'))),
  },
  EvalSubject: {
    kind: (s) => s.kind as 'RUN',
    deployment: (s) => s.deploymentName,
    teacher: (s) => s.teacherName,
    run: (s, _a, { loaders }) => (s.runId ? loaders.runById.load(s.runId) : null),
    label: async (s, _a, { loaders }) => {
      if (s.kind !== 'RUN') return subjectLabel(s);
      const run = s.runId ? await loaders.runById.load(s.runId) : null;
      const exp = run ? await loaders.experimentById.load(run.experimentId) : null;
      return run && exp ? `${exp.name} (seed ${run.seed})` : `run ${s.runId}`;
    },
  },
  EvalExampleRecord: {
    example: (r, _a, { loaders }) => loaders.exampleById.load(r.exampleId).then(must('example')),
  },
  EvalResult: {
    subject: (r, _a, { loaders }) => loaders.evalSubjectById.load(r.subjectId).then(must('subject')),
    entry: (r, _a, { loaders }) => loaders.evalEntryById.load(r.entryId).then(must('suite dataset')),
  },
  EvaluationTable: {
    suite: (t, _a, { loaders }) => loaders.evalSuiteById.load(t.suiteId).then(must('suite')),
    version: (t, _a, { loaders }) => loaders.evalVersionById.load(t.versionId).then(must('suite version')),
  },
  EvaluationRow: {
    kind: (r) => r.kind as 'RUN',
    experiment: (r, _a, { loaders }) => (r.experimentId ? loaders.experimentById.load(r.experimentId) : null),
  },
};
