// Per-request DataLoaders: every relation field goes through one of these, so a nested query costs a fixed
// number of SQL statements however many rows it touches (test/query-count.test.ts holds us to it).
import DataLoader from 'dataloader';
import type { ExperimentModel, JobModel, RunModel, WorkerModel } from './mappers.js';
import type { Database } from '../db/index.js';
import { liveCapacity, type LiveCapacity } from '../jobs/requirements.js';
import { exampleCounts, examplePages, type ExamplePageKey, type SplitName } from '../datasets/service.js';
import type { ArtifactModel, DeploymentModel, DeploymentRevisionModel, DatasetModel, ExampleModel, TeacherModel, TeacherResponseModel } from './mappers.js';
import type { EvalResultModel, EvalSubjectModel, EvalSuiteDatasetModel, EvalSuiteModel, EvalSuiteVersionModel } from './mappers.js';

function byKey<K, V>(keys: readonly K[], rows: V[], keyOf: (v: V) => K): (V | null)[] {
  const map = new Map(rows.map((r) => [keyOf(r), r]));
  return keys.map((k) => map.get(k) ?? null);
}

const keyString = (k: object) => JSON.stringify(k);

export function createLoaders(db: Database) {
  const { prisma } = db;
  return {
    datasetById: new DataLoader<string, DatasetModel | null>(async (ids) =>
      byKey(ids, await prisma.dataset.findMany({ where: { id: { in: [...ids] } } }), (d) => d.id)),
    exampleById: new DataLoader<string, ExampleModel | null>(async (ids) =>
      byKey(ids, await prisma.example.findMany({ where: { id: { in: [...ids] } } }), (e) => e.id)),
    teacherById: new DataLoader<string, TeacherModel | null>(async (ids) =>
      byKey(ids, await prisma.teacher.findMany({ where: { id: { in: [...ids] } } }), (t) => t.id)),
    teacherByName: new DataLoader<string, TeacherModel | null>(async (names) =>
      byKey(names, await prisma.teacher.findMany({ where: { name: { in: [...names] } } }), (t) => t.name)),
    /** Key: example id + optional teacher name filter. */
    responsesByExample: new DataLoader<{ exampleId: string; teacher: string | null }, TeacherResponseModel[], string>(async (keys) => {
      const names = [...new Set(keys.map((k) => k.teacher).filter((n): n is string => n !== null))];
      const teacherIds = new Map(names.length
        ? (await prisma.teacher.findMany({ where: { name: { in: names } }, select: { id: true, name: true } })).map((t) => [t.name, t.id])
        : []);
      const rows = await prisma.teacherResponse.findMany({
        where: { exampleId: { in: [...new Set(keys.map((k) => k.exampleId))] } },
        orderBy: [{ teacherId: 'asc' }, { sample: 'asc' }],
      });
      return keys.map((k) => rows.filter((r) => r.exampleId === k.exampleId && (k.teacher === null || r.teacherId === teacherIds.get(k.teacher))));
    }, { cacheKeyFn: keyString }),
    artifactById: new DataLoader<string, ArtifactModel | null>(async (ids) =>
      byKey(ids, await prisma.artifact.findMany({ where: { id: { in: [...ids] } } }), (a) => a.id)),
    deploymentById: new DataLoader<string, DeploymentModel | null>(async (ids) =>
      byKey(ids, await prisma.deployment.findMany({ where: { id: { in: [...ids] } } }), (d) => d.id)),
    revisionById: new DataLoader<string, DeploymentRevisionModel | null>(async (ids) =>
      byKey(ids, await prisma.deploymentRevision.findMany({ where: { id: { in: [...ids] } } }), (r) => r.id)),
    /** A deployment's revisions, newest first. */
    revisionsByDeployment: new DataLoader<string, DeploymentRevisionModel[]>(async (ids) => {
      const rows = await prisma.deploymentRevision.findMany({ where: { deploymentId: { in: [...ids] } }, orderBy: { revision: 'desc' } });
      return ids.map((id) => rows.filter((r) => r.deploymentId === id));
    }),
    examplePage: new DataLoader<ExamplePageKey, ExampleModel[], string>((keys) => examplePages(db, keys), { cacheKeyFn: keyString }),
    exampleCount: new DataLoader<{ datasetId: string; split: SplitName | null }, number, string>((keys) => exampleCounts(db, keys), { cacheKeyFn: keyString }),
    experimentById: new DataLoader<string, ExperimentModel | null>(async (ids) =>
      byKey(ids, await prisma.experiment.findMany({ where: { id: { in: [...ids] } } }), (e) => e.id)),
    runById: new DataLoader<string, RunModel | null>(async (ids) =>
      byKey(ids, await prisma.run.findMany({ where: { id: { in: [...ids] } } }), (r) => r.id)),
    runsByExperiment: new DataLoader<string, RunModel[]>(async (ids) => {
      const rows = await prisma.run.findMany({ where: { experimentId: { in: [...ids] } }, orderBy: { createdAt: 'asc' } });
      return ids.map((id) => rows.filter((r) => r.experimentId === id));
    }),
    jobById: new DataLoader<string, JobModel | null>(async (ids) =>
      byKey(ids, await prisma.job.findMany({ where: { id: { in: [...ids] } } }), (j) => j.id)),
    workerById: new DataLoader<string, WorkerModel | null>(async (ids) =>
      byKey(ids, await prisma.worker.findMany({ where: { id: { in: [...ids] } } }), (w) => w.id)),
    evalSuiteById: new DataLoader<string, EvalSuiteModel | null>(async (ids) =>
      byKey(ids, await prisma.evalSuite.findMany({ where: { id: { in: [...ids] } } }), (s) => s.id)),
    evalVersionById: new DataLoader<string, EvalSuiteVersionModel | null>(async (ids) =>
      byKey(ids, await prisma.evalSuiteVersion.findMany({ where: { id: { in: [...ids] } } }), (v) => v.id)),
    /** A suite's versions, oldest first. */
    evalVersionsBySuite: new DataLoader<string, EvalSuiteVersionModel[]>(async (ids) => {
      const rows = await prisma.evalSuiteVersion.findMany({ where: { suiteId: { in: [...ids] } }, orderBy: { version: 'asc' } });
      return ids.map((id) => rows.filter((r) => r.suiteId === id));
    }),
    evalEntryById: new DataLoader<string, EvalSuiteDatasetModel | null>(async (ids) =>
      byKey(ids, await prisma.evalSuiteDataset.findMany({ where: { id: { in: [...ids] } } }), (e) => e.id)),
    /** A version's dataset entries in column order. */
    evalEntriesByVersion: new DataLoader<string, EvalSuiteDatasetModel[]>(async (ids) => {
      const rows = await prisma.evalSuiteDataset.findMany({ where: { versionId: { in: [...ids] } }, orderBy: { position: 'asc' } });
      return ids.map((id) => rows.filter((r) => r.versionId === id));
    }),
    evalSubjectById: new DataLoader<string, EvalSubjectModel | null>(async (ids) =>
      byKey(ids, await prisma.evalSubject.findMany({ where: { id: { in: [...ids] } } }), (s) => s.id)),
    /** Key: version id + optional subject filter; results in subject, then column order. */
    evalResultsByVersion: new DataLoader<{ versionId: string; subjectId: string | null }, EvalResultModel[], string>(async (keys) => {
      const rows = await prisma.evalResult.findMany({
        where: { versionId: { in: [...new Set(keys.map((k) => k.versionId))] } },
        include: { entry: { select: { position: true } } },
        orderBy: [{ subjectId: 'asc' }, { createdAt: 'asc' }],
      });
      rows.sort((a, b) => (a.subjectId < b.subjectId ? -1 : a.subjectId > b.subjectId ? 1 : a.entry.position - b.entry.position));
      return keys.map((k) => rows.filter((r) => r.versionId === k.versionId && (k.subjectId === null || r.subjectId === k.subjectId)).map(({ entry: _e, ...r }) => r));
    }, { cacheKeyFn: keyString }),
    /** What the live workers offer (the most GPUs, transformers or not), read once per request (Job.waitingFor of a
     * whole job list); one key: 'live'. */
    liveCapacity: new DataLoader<'live', LiveCapacity>(async (keys) => {
      const capacity = await liveCapacity(db);
      return keys.map(() => capacity);
    }),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
