// The benchmark's server process: the real platform on a fresh SQLite home, the bundle deployed as `small`.
// Prints one JSON line {url, key} when ready. Usage: node --import tsx bench/infer-server.ts <bundle.tar.gz>
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadEnv } from '../api/_lib/env.js';
import { createPlatform, listen } from '../api/_lib/http/server.js';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { registerArtifact } from '../api/_lib/deployments/service.js';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-bench-'));
const platform = await createPlatform(loadEnv({ ...process.env, RIL_HOME: home, DATABASE_URL: undefined, RIL_INFER_RATE_LIMIT: '0' }));
const sha = await platform.blobs.put(fs.readFileSync(process.argv[2]), 'application/gzip');
const art = await registerArtifact(platform, { blobSha256: sha, kind: 'BUNDLE', name: 'bench' });
await platform.deployments.deploy({ name: 'small', artifactId: art.id });
const key = (await createApiKey(platform.db.prisma, 'bench', 'INFERENCE')).secret;
const server = await listen(platform, 0);
server.server.keepAliveTimeout = 120_000; // the load process pauses while PyTorch runs; keep its sockets
process.stdout.write(JSON.stringify({ url: server.url, key, bundleSha: sha, id: crypto.randomUUID() }) + '\n');
process.on('SIGTERM', async () => { await server.close(); await platform.close(); fs.rmSync(home, { recursive: true, force: true }); process.exit(0); });
