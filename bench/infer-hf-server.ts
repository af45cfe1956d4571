// bench/infer-hf.ts's server process: the real platform on a fresh SQLite home, each bundle archive registered once
// and deployed once per variant under its own name (deploy(input: {variant}), as a user would); a deploy loads and
// warms the variant here (the deploy-time check), and RIL_INFER_MAX_RUNTIMES defaults to their number so none is
// evicted. Prints one JSON line {url, key, home, deployments, failed: {name: why}} when ready; SIGTERM stops it and
// removes its home (the bench removes it too, after the exit). Configuration from the environment (RIL_INFER_THREADS,
// RIL_INFER_MAX_RUNTIMES...).
// Usage: node --import tsx bench/infer-hf-server.ts '[{"name": "smolvlm-fp32", "archive": "/tmp/.../bundle.tar.gz", "variant": "fp32"}, ...]'
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnv } from '../api/_lib/env.js';
import { createPlatform, listen } from '../api/_lib/http/server.js';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { registerArtifact } from '../api/_lib/deployments/service.js';

const wanted = JSON.parse(process.argv[2] ?? '[]') as { name: string; archive: string; variant: string }[];
if (!wanted.length) throw new Error('usage: bench/infer-hf-server.ts \'[{"name", "archive", "variant"}, ...]\'');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bench-hf-'));
const platform = await createPlatform(loadEnv({
  ...process.env, RIL_HOME: home, DATABASE_URL: undefined, RIL_INFER_RATE_LIMIT: '0',
  RIL_INFER_MAX_RUNTIMES: process.env.RIL_INFER_MAX_RUNTIMES ?? String(wanted.length), // every variant stays loaded
}));
const artifacts = new Map<string, string>();
const failed: Record<string, string> = {};
for (const w of wanted) {
  if (!artifacts.has(w.archive)) {
    const sha = await platform.blobs.put(fs.readFileSync(w.archive), 'application/gzip');
    artifacts.set(w.archive, (await registerArtifact(platform, { blobSha256: sha, kind: 'BUNDLE', name: path.basename(path.dirname(w.archive)) })).id);
  }
  // a deploy loads and warms the variant in this process; one this server cannot run is refused, and reported
  try { await platform.deployments.deploy({ name: w.name, artifactId: artifacts.get(w.archive)!, variant: w.variant }); } catch (err) {
    failed[w.name] = (err as Error).message.split('\n')[0];
  }
}
const key = (await createApiKey(platform.db.prisma, 'bench', 'INFERENCE')).secret;
const server = await listen(platform, 0);
server.server.keepAliveTimeout = 120_000; // the load process pauses while it starts PyTorch; keep its sockets
process.stdout.write(JSON.stringify({ url: server.url, key, home, deployments: wanted.map((w) => w.name).filter((n) => !failed[n]), failed }) + '\n');
process.on('SIGTERM', async () => { await server.close(); await platform.close(); fs.rmSync(home, { recursive: true, force: true }); process.exit(0); });
