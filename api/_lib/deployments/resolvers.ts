import type { Resolvers } from '../graphql/generated/resolvers-types.js';
import { notFound } from '../errors.js';
import { checkInferTextSize, loadImageInput } from '../inference/input.js';
import { registerArtifact } from './service.js';
import { artifactLease } from '../jobs/workers.js';

export const deploymentResolvers: Resolvers = {
  Query: {
    artifacts: (_p, { kind, runId }, { db }) =>
      db.prisma.artifact.findMany({ where: { ...(kind ? { kind } : {}), ...(runId ? { runId } : {}) }, orderBy: { createdAt: 'desc' } }),
    artifact: (_p, { id }, { loaders }) => loaders.artifactById.load(id),
    deployments: (_p, _a, { db }) => db.prisma.deployment.findMany({ orderBy: { name: 'asc' } }),
    deployment: (_p, { name }, { db }) => db.prisma.deployment.findUnique({ where: { name } }),
    infer: async (_p, { input }, { inference, authorization, principal, limitInference, env, signal }) => {
      // the same rate limit and size cap as POST /v1/infer (one infer per operation: api/_lib/graphql/cost.ts)
      if (limitInference && principal) await limitInference(principal);
      checkInferTextSize(input.image, input.question, env.RIL_INFER_MAX_BODY_BYTES);
      const image = await loadImageInput(input.image, 'image', env, signal);
      return inference.infer({ ...input, image, signal }, { authorization });
    },
  },
  Mutation: {
    registerArtifact: async (_p, { input }, deps) => {
      const { workerId, attempt, ...artifact } = input;
      const lease = await artifactLease(deps.db, deps.principal!, { ...artifact, workerId, attempt });
      return registerArtifact(deps, artifact, lease);
    },
    deploy: (_p, { input }, { deployments }) => deployments.deploy(input),
    rollbackDeployment: (_p, { name, revision }, { deployments }) => deployments.rollback(name, revision),
  },
  Artifact: {
    kind: (a) => a.kind as 'CHECKPOINT' | 'BUNDLE' | 'DISCRIMINATOR' | 'OTHER',
    metadata: (a) => JSON.parse(a.metadata) as unknown,
  },
  Deployment: {
    status: (d, _a, { inference }) => inference.observed(d).status,
    error: (d, _a, { inference }) => inference.observed(d).error,
    liveRevision: (d, _a, { loaders }) => (d.liveRevisionId ? loaders.revisionById.load(d.liveRevisionId) : null),
    revisions: (d, _a, { loaders }) => loaders.revisionsByDeployment.load(d.id),
    latency: (d, _a, { inference }) => inference.latency(d.name),
  },
  DeploymentRevision: {
    artifact: async (r, _a, { loaders }) => (await loaders.artifactById.load(r.artifactId)) ?? Promise.reject(notFound('artifact')),
    live: async (r, _a, { loaders }) => (await loaders.deploymentById.load(r.deploymentId))?.liveRevisionId === r.id,
  },
};
