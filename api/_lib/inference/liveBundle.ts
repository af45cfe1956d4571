// Where a deployment's live bundle lies on this instance: its live revision's artifact blob, unpacked once into
// $RIL_HOME/bundles/<sha256>/ (bundle.ts unpackBundle) but never loaded into onnxruntime. What the bundle file route
// (http/bundleFiles.ts) serves to browsers that run the student themselves; apart from the InferenceService so
// that route's Vercel function does not carry onnxruntime-node or sharp.
import { notFound } from '../errors.js';
import type { Services } from '../services.js';
import { unpackBundle } from './bundle.js';

export interface LiveBundle {
  revision: number;
  /** The bundle blob's sha256 (the live revision's artifact). */
  sha: string;
  /** The unpacked bundle directory. */
  dir: string;
  /** The variant the live revision serves (a Hugging Face bundle's; null: the manifest's default_variant). */
  variant: string | null;
}

/** NOT_FOUND for an unknown deployment or one without a live revision. Read from the database on every call: the
 * caller pins files to the manifest's sha256s, so a switch between calls is detected, not served mixed. */
export async function liveBundle(services: Pick<Services, 'db' | 'blobs' | 'env'>, name: string): Promise<LiveBundle> {
  const dep = await services.db.prisma.deployment.findUnique({ where: { name } });
  if (!dep) throw notFound(`deployment ${name}`);
  if (!dep.liveRevisionId) throw notFound(`a live revision of deployment ${name}`);
  const rev = await services.db.prisma.deploymentRevision.findUniqueOrThrow({ where: { id: dep.liveRevisionId }, include: { artifact: true } });
  const sha = rev.artifact.blobSha256;
  const { blobs, env } = services;
  const dir = await unpackBundle(() => blobs.openRead(sha), sha, env.bundleDir, env.RIL_MAX_BUNDLE_BYTES);
  return { revision: rev.revision, sha, dir, variant: rev.variant ?? null };
}
