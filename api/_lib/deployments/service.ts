// Artifacts and deployments: what is recorded in the database. Running a deployment's student is the
// inference service's job (api/_lib/inference/service.ts), which may live in another process (a serverless
// inference function) than the one that deploys.
//
// A deploy checks the bundle first (through `BundleCheck`) and only then commits the new revision, so a bad
// bundle is refused and never goes live. In `ril serve` the check loads and warms the sessions in this process;
// in the GraphQL function it verifies the archive (manifest, sha256 of every file) without loading onnxruntime,
// and each inference instance loads the revision on its first request. Switching the live revision (deploy or
// rollback) changes one pointer; inference instances pick it up within RIL_DEPLOYMENT_REFRESH_MS.
import { badInput, notFound } from '../errors.js';
import { inspectArchive, isHfManifest, manifestSummary, type BundleManifest } from '../inference/bundle.js';
import { missingVariant } from '../inference/hfGenerate.js';
import { lockLease } from '../jobs/queue.js';
import type { ArtifactLease } from '../jobs/workers.js';
import type { Services } from '../services.js';

export const ARTIFACT_KINDS = ['CHECKPOINT', 'BUNDLE', 'DISCRIMINATOR', 'OTHER'] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/** What the deployment service needs: the platform's services (api/_lib/services.ts). */
export type Deps = Services;

const NAME_RE = /^[a-z0-9][a-z0-9._-]{0,62}$/;

// ----------------------------------------------------------------------------------------------------------
// Artifacts
// ----------------------------------------------------------------------------------------------------------

/**
 * Records an artifact. With `lease` (a run's CHECKPOINT or BUNDLE, or anything a worker attaches to its run:
 * see artifactLease in jobs/workers.ts) the row is written in the same transaction that re-checks and locks
 * the lease, so a worker that lost its lease a moment ago cannot commit one, and its createdAt is made later
 * than every earlier artifact of the run: the server's order, not client metadata, says which is newest.
 */
export async function registerArtifact(deps: Deps, input: { blobSha256: string; kind: string; name: string; runId?: string | null; metadata?: unknown }, lease?: ArtifactLease | null) {
  if (!(ARTIFACT_KINDS as readonly string[]).includes(input.kind)) throw badInput(`unknown artifact kind ${input.kind}`);
  if (!input.name.trim()) throw badInput('an artifact needs a name');
  const blob = await deps.db.prisma.blob.findUnique({ where: { sha256: input.blobSha256 } });
  if (!blob || !(await deps.blobs.has(input.blobSha256))) throw badInput(`blob ${input.blobSha256} is not uploaded; upload it first (createBlobUpload + completeBlobUpload, or PUT /blobs/<sha256>)`);
  let metadata: Record<string, unknown> = input.metadata && typeof input.metadata === 'object' ? { ...(input.metadata as object) } : {};
  if (input.kind === 'BUNDLE') {
    const manifest = await inspectArchive(await deps.blobs.openRead(input.blobSha256), input.blobSha256.slice(0, 12), deps.env.RIL_MAX_BUNDLE_BYTES);
    metadata = { ...metadata, bundle: manifestSummary(manifest) };
  }
  const data = { kind: input.kind, name: input.name.trim(), blobSha256: input.blobSha256, size: blob.size, runId: input.runId ?? null, metadata: JSON.stringify(metadata) };
  if (!lease) return deps.db.prisma.artifact.create({ data });
  return deps.db.prisma.$transaction(async (tx) => {
    const now = new Date();
    await lockLease(tx, lease.jobId, lease.workerId, lease.attempt, now);
    const last = await tx.artifact.findFirst({ where: { runId: lease.runId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: { createdAt: true } });
    // strictly increasing per run (the lease lock serialises its writers), so "newest" never ties on a millisecond
    const createdAt = last && last.createdAt >= now ? new Date(last.createdAt.getTime() + 1) : now;
    return tx.artifact.create({ data: { ...data, runId: lease.runId, createdAt } });
  });
}

/** The checkpoint a run resumes from: the one registered last under a lease of the run (server order). */
export function latestCheckpoint(deps: Pick<Deps, 'db'>, runId: string) {
  return deps.db.prisma.artifact.findFirst({ where: { runId, kind: 'CHECKPOINT' }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] });
}

// ----------------------------------------------------------------------------------------------------------
// Deployments
// ----------------------------------------------------------------------------------------------------------

/** How a deploy checks a bundle before it goes live, and hears that a deployment switched. `variant`: which of a
 * Hugging Face bundle's variants the revision serves (null: the bundle's default). */
export interface BundleCheck {
  /** Throws BAD_USER_INPUT when the bundle blob (that variant of it) cannot be served. */
  check(sha256: string, variant: string | null): Promise<void>;
  /** Called after a deployment's live revision changed in the database. */
  switched?(name: string, live: { revisionId: string; revision: number; sha256: string; variant: string | null }): void;
  /** Called when a checked bundle did not go live after all (the switch failed): what `check` loaded for it may
   * be released. */
  abandoned?(sha256: string, variant: string | null): void;
}

/** BAD_USER_INPUT unless the manifest has that variant (built-in bundles have none). */
export function checkVariant(manifest: BundleManifest, variant: string | null): void {
  if (variant == null) return;
  if (!isHfManifest(manifest)) throw badInput(`variant ${JSON.stringify(variant)}: only Hugging Face bundles have variants; deploy this bundle without one`);
  const missing = missingVariant(manifest, variant);
  if (missing) throw badInput(missing);
}

/** The check of a process that does not run students itself: the archive's manifest and every file's sha256. */
export const archiveCheck = (deps: Deps): BundleCheck => ({
  async check(sha256, variant) {
    checkVariant(await inspectArchive(await deps.blobs.openRead(sha256), sha256.slice(0, 12), deps.env.RIL_MAX_BUNDLE_BYTES), variant);
  },
});

export class DeploymentService {
  constructor(private readonly deps: Deps, private readonly bundles: BundleCheck) {}

  /** Deploys a BUNDLE artifact as a new revision of `name` and makes it live. */
  async deploy(input: { name: string; artifactId: string; note?: string | null; variant?: string | null }) {
    const { prisma } = this.deps.db;
    if (!NAME_RE.test(input.name)) throw badInput('a deployment name is 1-63 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit');
    const artifact = await prisma.artifact.findUnique({ where: { id: input.artifactId } });
    if (!artifact) throw notFound(`artifact ${input.artifactId}`);
    if (artifact.kind !== 'BUNDLE') throw badInput(`artifact ${artifact.id} is a ${artifact.kind}; only BUNDLE artifacts can be deployed`);
    const variant = input.variant ?? null;
    if (variant != null && !/^[a-z0-9_]{1,32}$/.test(variant)) throw badInput('a variant is 1-32 characters of a-z, 0-9 and _');
    await this.bundles.check(artifact.blobSha256, variant); // refuses a bad bundle (or variant) before anything is written
    const rev = await this.orAbandon(artifact.blobSha256, variant, () => prisma.$transaction(async (tx) => {
      const dep = await tx.deployment.upsert({ where: { name: input.name }, create: { name: input.name, status: 'LIVE' }, update: {} });
      const last = await tx.deploymentRevision.findFirst({ where: { deploymentId: dep.id }, orderBy: { revision: 'desc' } });
      const created = await tx.deploymentRevision.create({
        data: { deploymentId: dep.id, revision: (last?.revision ?? 0) + 1, artifactId: artifact.id, note: input.note ?? null, variant },
      });
      await tx.deployment.update({ where: { id: dep.id }, data: { liveRevisionId: created.id, status: 'LIVE' } });
      return created;
    }));
    this.bundles.switched?.(input.name, { revisionId: rev.id, revision: rev.revision, sha256: artifact.blobSha256, variant });
    return prisma.deployment.findUniqueOrThrow({ where: { name: input.name } });
  }

  /** Runs the switch; when it fails, tells the check that the bundle it loaded is not going live. */
  private async orAbandon<T>(sha256: string, variant: string | null, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (err) {
      this.bundles.abandoned?.(sha256, variant);
      throw err;
    }
  }

  /** Makes `revision` (default: the newest revision older than the live one) live again. */
  async rollback(name: string, revision?: number | null) {
    const { prisma } = this.deps.db;
    const dep = await prisma.deployment.findUnique({ where: { name } });
    if (!dep) throw notFound(`deployment ${name}`);
    const current = dep.liveRevisionId ? await prisma.deploymentRevision.findUnique({ where: { id: dep.liveRevisionId } }) : null;
    const target = revision != null
      ? await prisma.deploymentRevision.findUnique({ where: { deploymentId_revision: { deploymentId: dep.id, revision } }, include: { artifact: true } })
      : await prisma.deploymentRevision.findFirst({
        where: { deploymentId: dep.id, revision: { lt: current?.revision ?? Number.MAX_SAFE_INTEGER } }, orderBy: { revision: 'desc' }, include: { artifact: true },
      });
    if (!target) throw revision != null ? notFound(`revision ${revision} of deployment ${name}`) : badInput(`deployment ${name} has no revision before the live one to roll back to`);
    await this.bundles.check(target.artifact.blobSha256, target.variant);
    const updated = await this.orAbandon(target.artifact.blobSha256, target.variant,
      () => prisma.deployment.update({ where: { id: dep.id }, data: { liveRevisionId: target.id, status: 'LIVE' } }));
    this.bundles.switched?.(name, { revisionId: target.id, revision: target.revision, sha256: target.artifact.blobSha256, variant: target.variant });
    return updated;
  }
}
