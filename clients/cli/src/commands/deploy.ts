// `ril deploy ...`: register a student bundle as an artifact, deploy it under a name, roll back, list; through
// the SDK against a running platform (RIL_API_URL / RIL_API_KEY).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import {
  DeployDocument, DeploymentDocument, DeploymentsDocument, RegisterArtifactDocument, RilError, RollbackDeploymentDocument,
  type DeploymentFieldsFragment,
} from '../../../sdk/src/index.js';
import { fail, intOption, print, table } from '../output.js';
import { remote, remoteOptions } from '../remote.js';

const ms = (v: number | null | undefined) => (v == null ? '-' : `${v.toFixed(1)} ms`);

function describe(d: DeploymentFieldsFragment): string {
  return [
    `deployment ${d.name}: ${d.status}, live revision ${d.liveRevision?.revision ?? '-'}${d.error ? ` (${d.error})` : ''}`,
    `latency: ${d.latency.requests} requests, p50 ${ms(d.latency.p50Ms)}, p95 ${ms(d.latency.p95Ms)}, TTFT p50 ${ms(d.latency.ttftP50Ms)}, ` +
      `decode ${d.latency.decodeTokensPerSecond == null ? '-' : `${d.latency.decodeTokensPerSecond.toFixed(0)} tok/s`}`,
    table(['revision', 'live', 'artifact', 'variant', 'run', 'note', 'created'],
      d.revisions.map((r) => [r.revision, r.live ? '*' : '', `${r.artifact.name} (${r.artifact.id})`, r.variant ?? 'default', r.artifact.runId, r.note, r.createdAt])),
  ].join('\n');
}

/** The bundle as a gzipped tar: an archive is read as is, a directory is packed with tar. */
function bundleBytes(file: string): Buffer {
  if (!fs.existsSync(file)) throw new RilError('BAD_USER_INPUT', `${file} does not exist`);
  if (!fs.statSync(file).isDirectory()) return fs.readFileSync(file);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bundle-')), 'bundle.tar.gz');
  try {
    execFileSync('tar', ['-C', file, '-czf', out, '.']);
    return fs.readFileSync(out);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
}

/** `ril deploy` (the group's description is in ../main.ts). */
export function deployCommand(deploy: Command) {

  remoteOptions(deploy.command('register <bundle>').description('upload a student bundle (directory or .tar.gz) and register it as a BUNDLE artifact'))
    .requiredOption('--name <name>', 'artifact name')
    .option('--json', 'JSON output')
    .action(async (file: string, opts) => {
      try {
        const ril = remote(opts);
        const sha = await ril.putBlob(bundleBytes(file), 'application/gzip');
        const { registerArtifact: a } = await ril.request(RegisterArtifactDocument, { input: { blobSha256: sha, kind: 'BUNDLE', name: opts.name } });
        print(opts, a, () => `registered bundle ${a.name} (artifact ${a.id}, ${a.size} bytes, sha256 ${a.blobSha256.slice(0, 12)}); deploy it with: ril deploy create <name> --artifact ${a.id}`);
      } catch (err) { fail(err); }
    });

  remoteOptions(deploy.command('create <name>').description('deploy a BUNDLE artifact under a name (a new live revision once it loads)'))
    .requiredOption('--artifact <id>', 'BUNDLE artifact id')
    .option('--note <text>', 'revision note')
    .option('--variant <name>', 'a Hugging Face bundle\'s variant: fp32, int8, q4 or fp16 (default: the bundle\'s default)')
    .option('--json', 'JSON output')
    .action(async (name: string, opts) => {
      try {
        const { deploy: d } = await remote(opts).request(DeployDocument, { input: { name, artifactId: opts.artifact, note: opts.note, variant: opts.variant } });
        print(opts, d, () => describe(d));
      } catch (err) { fail(err); }
    });

  remoteOptions(deploy.command('rollback <name>').description('make an earlier revision live again (default: the one before the live one)'))
    .option('--revision <n>', 'revision number', intOption)
    .option('--json', 'JSON output')
    .action(async (name: string, opts) => {
      try {
        const { rollbackDeployment: d } = await remote(opts).request(RollbackDeploymentDocument, { name, revision: opts.revision });
        print(opts, d, () => describe(d));
      } catch (err) { fail(err); }
    });

  remoteOptions(deploy.command('list').description('deployments with their live revision and latency'))
    .option('--json', 'JSON output')
    .action(async (opts) => {
      try {
        const { deployments } = await remote(opts).request(DeploymentsDocument, {});
        print(opts, deployments, () => table(['name', 'status', 'live', 'revisions', 'requests', 'p50', 'p95'],
          deployments.map((d) => [d.name, d.status, d.liveRevision?.revision, d.revisions.length, d.latency.requests, ms(d.latency.p50Ms), ms(d.latency.p95Ms)])));
      } catch (err) { fail(err); }
    });

  remoteOptions(deploy.command('show <name>').description('a deployment: revisions and live latency'))
    .option('--json', 'JSON output')
    .action(async (name: string, opts) => {
      try {
        const { deployment: d } = await remote(opts).request(DeploymentDocument, { name });
        if (!d) throw new RilError('NOT_FOUND', `deployment ${name} not found`);
        print(opts, d, () => describe(d));
      } catch (err) { fail(err); }
    });
}
