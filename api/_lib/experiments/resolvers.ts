// Experiments, runs, metrics, jobs and the worker protocol: resolvers validate, authorise (api/_lib/auth/access.ts plus
// the worker scoping in services/workers.ts) and call services.
import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import type { Context } from '../graphql/context.js';
import { badInput, notFound } from '../errors.js';
import { decodeCursor, idPage, isId, pageSize, toConnection } from '../graphql/pagination.js';
import { cancelRun, createExperiment, getRun, retryRun, startRun } from './service.js';
import { claim, complete, enqueue, fail, heartbeat, heldJob, queueOptionsOf, type JobKind, type QueueOptions, type Tx } from '../jobs/queue.js';
import { queueTrainedRunEvaluation } from '../evals/service.js';
import type { Job } from '../../../generated/sqlite/index.js';
import { differingKeys, finals, metricNames, reportMetrics, series } from './metrics.js';
import { trainerSchema } from './trainerConfig.js';
import { gpusOfConfig, runStudentFamily, studentOf } from './student.js';
import { waitingFor, workerGpus, workerTransformers } from '../jobs/requirements.js';
import { assertHoldsRun, heldJobIds, ownWorker, registerWorker, visibleWorkers } from '../jobs/workers.js';
import { latestCheckpoint } from '../deployments/service.js';
import type { Principal } from '../auth/keys.js';

export const queueOptions = (ctx: Pick<Context, 'env'>): QueueOptions => queueOptionsOf(ctx.env);
const json = (text: string | null) => (text == null ? null : JSON.parse(text));

// An experiment's parsed config, once per row object (student and gpus both read it).
const configs = new WeakMap<object, Record<string, unknown>>();
function configOf(e: { config: string }): Record<string, unknown> {
  let config = configs.get(e);
  if (!config) { config = JSON.parse(e.config) as Record<string, unknown>; configs.set(e, config); }
  return config;
}

// The jobs a WORKER key holds, read once per request (Run.job asks for every run of a list).
const heldByRequest = new WeakMap<object, Promise<Set<string>>>();
function heldJobsOf(ctx: Pick<Context, 'db' | 'principal'>): Promise<Set<string>> {
  let held = heldByRequest.get(ctx);
  if (!held) { held = heldJobIds(ctx.db, ctx.principal as Principal).then((ids) => new Set(ids)); heldByRequest.set(ctx, held); }
  return held;
}

export const experimentResolvers: Resolvers = {
  Query: {
    experiments: async (_p, { first, after, datasetId }, { db }) => {
      const take = pageSize(first, 100);
      const cursor = decodeCursor(after, isId);
      const where = datasetId ? { datasetId } : {};
      const [rows, totalCount] = await Promise.all([
        db.prisma.experiment.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], ...idPage(take, cursor) }),
        db.prisma.experiment.count({ where }),
      ]);
      return toConnection(rows, take, (e) => e.id, totalCount);
    },
    experiment: (_p, { id }, { loaders }) => loaders.experimentById.load(id),
    run: (_p, { id }, { loaders }) => loaders.runById.load(id),
    runs: (_p, { experimentId, status, first }, { db }) =>
      db.prisma.run.findMany({ where: { ...(experimentId ? { experimentId } : {}), ...(status ? { status } : {}) }, orderBy: { createdAt: 'desc' }, take: pageSize(first, 500) }),
    compareRuns: async (_p, { ids, names, points }, { db }) => {
      if (ids.length < 1 || ids.length > 20) throw badInput('compare 1 to 20 runs');
      const runs = await db.prisma.run.findMany({ where: { id: { in: ids } }, include: { experiment: true } });
      const missing = ids.filter((id) => !runs.some((r) => r.id === id));
      if (missing.length) throw notFound(`run ${missing[0]}`);
      const ordered = ids.map((id) => runs.find((r) => r.id === id)!);
      const bySeries = await series(db, ids, { names, points: points ?? 200 });
      const allNames = [...new Set([...bySeries.values()].flatMap((m) => [...m.keys()]))].sort();
      const configs = ordered.map((r) => ({
        algorithm: r.experiment.algorithm, studentSize: r.experiment.studentSize || null, teachers: JSON.parse(r.experiment.teachers),
        datasetId: r.experiment.datasetId, seed: r.seed, config: JSON.parse(r.experiment.config),
      }));
      return {
        runs: ordered.map(({ experiment: _e, ...r }) => r),
        series: allNames.map((name) => ({ name, runs: ids.map((runId) => ({ runId, points: bySeries.get(runId)?.get(name) ?? [] })) })),
        finals: await finals(db, ids),
        differingConfig: differingKeys(configs),
      };
    },
    jobs: async (_p, { status, kind, first }, { db, principal }) => {
      const scope = principal!.role === 'WORKER' ? { id: { in: await heldJobIds(db, principal!) } } : {};
      return db.prisma.job.findMany({ where: { ...scope, ...(status ? { status } : {}), ...(kind ? { kind } : {}) }, orderBy: { createdAt: 'desc' }, take: pageSize(first, 500) });
    },
    job: async (_p, { id }, { db, principal }) => {
      if (principal!.role === 'WORKER' && !(await heldJobIds(db, principal!)).includes(id)) throw notFound(`job ${id}`);
      return db.prisma.job.findUnique({ where: { id } });
    },
    workers: (_p, _a, { db, principal }) => db.prisma.worker.findMany({ where: visibleWorkers(principal!), orderBy: { lastSeenAt: 'desc' } }),
    trainerConfigSchema: () => trainerSchema(),
    teacherResponses: async (_p, { datasetId, teachers, first, after }, { db }) => {
      const take = pageSize(first, 5000);
      const cursor = decodeCursor(after, isId);
      const where = { example: { datasetId }, ...(teachers?.length ? { teacher: { name: { in: teachers } } } : {}) };
      const [rows, totalCount] = await Promise.all([
        db.prisma.teacherResponse.findMany({ where, orderBy: { id: 'asc' }, ...idPage(take, cursor) }),
        db.prisma.teacherResponse.count({ where }),
      ]);
      return toConnection(rows, take, (r) => r.id, totalCount);
    },
  },
  Mutation: {
    createExperiment: (_p, { input }, { db, env }) => createExperiment(db, input, env),
    startRun: (_p, { input }, { db }) => startRun(db, input),
    cancelRun: (_p, { id }, { db }) => cancelRun(db, id),
    retryRun: (_p, { id }, { db }) => retryRun(db, id),
    queueEvaluation: async (_p, { input }, { db }) => {
      if ((input.runId == null) === (input.artifactId == null)) throw badInput('give exactly one of runId or artifactId');
      if (input.runId) await getRun(db, input.runId);
      if (input.artifactId && !(await db.prisma.artifact.findUnique({ where: { id: input.artifactId } }))) throw notFound(`artifact ${input.artifactId}`);
      if (!(await db.prisma.dataset.findUnique({ where: { id: input.datasetId } }))) throw notFound(`dataset ${input.datasetId}`);
      // a run's checkpoint is scored in PyTorch: an hf one needs a worker with transformers (payload.studentFamily)
      const family = input.runId ? { studentFamily: await runStudentFamily(db.prisma, input.runId) } : {};
      return enqueue(db, { kind: 'EVALUATE', payload: { ...input, split: input.split ?? 'test', ...family } });
    },
    registerWorker: (_p, { input }, { db, principal }) => registerWorker(db, principal!, input),
    claimJob: async (_p, { input }, ctx) => {
      await ownWorker(ctx.db, ctx.principal!, input.workerId);
      await ctx.db.prisma.worker.update({ where: { id: input.workerId }, data: { lastSeenAt: new Date() } });
      return claim(ctx.db, input.workerId, input.kinds as JobKind[], input.leaseSeconds ?? 60, queueOptions(ctx));
    },
    heartbeat: async (_p, { input }, ctx) => {
      await ownWorker(ctx.db, ctx.principal!, input.workerId);
      return heartbeat(ctx.db, input.jobId, input.workerId, { step: input.step, totalSteps: input.totalSteps, leaseSeconds: input.leaseSeconds ?? 60, attempt: input.attempt }, queueOptions(ctx));
    },
    reportMetrics: async (_p, { input }, { db, principal }) => {
      await assertHoldsRun(db, principal!, input.workerId, input.runId, input.attempt);
      return reportMetrics(db, input.runId, input.points);
    },
    completeJob: async (_p, { input }, ctx) => {
      await ownWorker(ctx.db, ctx.principal!, input.workerId);
      // a TRAIN job that scored a suite queues the suite evaluation of its run as it commits
      const then = (tx: Tx, job: Job) => (job.kind === 'TRAIN' ? queueTrainedRunEvaluation(ctx.db, tx, JSON.parse(job.payload)) : Promise.resolve());
      return complete(ctx.db, input.jobId, input.workerId, input.result, queueOptions(ctx), input.attempt, then);
    },
    failJob: async (_p, { input }, ctx) => {
      await ownWorker(ctx.db, ctx.principal!, input.workerId);
      await heldJob(ctx.db, input.jobId, input.workerId, input.attempt);
      return fail(ctx.db, input.jobId, input.workerId, input.error, input.retryable ?? true, queueOptions(ctx), input.attempt);
    },
  },
  Experiment: {
    algorithm: (e) => e.algorithm as 'RIL',
    studentSize: (e) => e.studentSize || null, // "" is stored for an hf student (student.ts)
    student: (e) => studentOf(e, configOf(e)),
    gpus: (e) => gpusOfConfig(configOf(e)),
    teachers: (e) => JSON.parse(e.teachers) as string[],
    config: (e) => JSON.parse(e.config) as unknown,
    dataset: async (e, _a, { loaders }) => (await loaders.datasetById.load(e.datasetId)) ?? Promise.reject(notFound('dataset')),
    runs: (e, _a, { loaders }) => loaders.runsByExperiment.load(e.id),
  },
  Run: {
    status: (r) => r.status as 'QUEUED',
    progress: (r) => (r.totalSteps > 0 ? Math.min(1, r.step / r.totalSteps) : 0),
    experiment: async (r, _a, { loaders }) => (await loaders.experimentById.load(r.experimentId)) ?? Promise.reject(notFound('experiment')),
    job: async (r, _a, ctx) => {
      if (!r.jobId) return null;
      // #11: a job's payload, result and error are other tenants' business to a WORKER key unless it holds it
      if (ctx.principal?.role === 'WORKER' && !(await heldJobsOf(ctx)).has(r.jobId)) return null;
      return ctx.loaders.jobById.load(r.jobId);
    },
    artifacts: (r, { kind }, { db }) => db.prisma.artifact.findMany({ where: { runId: r.id, ...(kind ? { kind } : {}) }, orderBy: { createdAt: 'desc' } }),
    latestCheckpoint: (r, _a, { db }) => latestCheckpoint({ db }, r.id),
    metricNames: (r, _a, { db }) => metricNames(db, r.id),
    metrics: async (r, { names, fromStep, toStep, points }, { db }) => {
      const byName = (await series(db, [r.id], { names, fromStep, toStep, points: points ?? 500 })).get(r.id)!;
      return [...byName].map(([name, pts]) => ({ name, points: pts }));
    },
  },
  Job: {
    kind: (j) => j.kind as 'TRAIN',
    status: (j) => j.status as 'QUEUED',
    payload: (j) => json(j.payload),
    result: (j) => json(j.result),
    leaseOwner: (j, _a, { loaders }) => (j.leaseOwner ? loaders.workerById.load(j.leaseOwner) : null),
    run: (j, _a, { loaders }) => (j.runId ? loaders.runById.load(j.runId) : null),
    requirements: (j) => ({ gpus: j.gpus, transformers: j.needsTransformers }),
    waitingFor: async (j, _a, { loaders }) => (j.status === 'QUEUED' && (j.gpus > 0 || j.needsTransformers) ? waitingFor(j, await loaders.liveCapacity.load('live')) : null),
  },
  Worker: {
    capabilities: (w) => JSON.parse(w.capabilities) as unknown,
    gpus: (w) => workerGpus(w.capabilities),
    transformers: (w) => workerTransformers(w.capabilities),
  },
};
