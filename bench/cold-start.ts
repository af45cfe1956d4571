// Cold starts of the Vercel functions: each function alone in a fresh process ("instance", served by
// test/helpers/vercel-instance.ts with the checkout mounted read-only when run as root), on PostgreSQL, timed from
// process spawn to the first complete response of a representative request; then one warm request on the same
// instance. Prints each function's traced size too (scripts/check-functions.mjs). Three cold starts per function.
//   node --import tsx bench/cold-start.ts [--reps 3] [--json]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { openCore } from '../api/_lib/core.js';
import { applyMigrations } from '../api/_lib/db/migrate.js';
import { DeploymentService, archiveCheck, registerArtifact } from '../api/_lib/deployments/service.js';
import { loadEnv } from '../api/_lib/env.js';
import { studentBundle } from '../test/helpers/bundle.js';
import { createPostgresDatabase } from '../test/helpers/db.js';
import { startInstance } from '../test/helpers/instances.js';

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf('--reps') + 1] ?? 3) || 3;
const json = args.includes('--json');

// A fresh database on the throwaway PostgreSQL server of the tests (scripts/pg-start.sh).
const adminUrl = process.env.RIL_TEST_PG_URL ?? execFileSync('bash', ['scripts/pg-start.sh'], { encoding: 'utf8' }).trim();
const databaseUrl = await createPostgresDatabase(adminUrl, 'ril_cold');
await applyMigrations('postgres', databaseUrl);
// One RIL_HOME under /tmp shared by the instances stands in for a shared blob store.
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-cold-'));
const env: Record<string, string> = {
  PATH: process.env.PATH ?? '', RIL_DEPLOYMENT: 'functions', DATABASE_URL: databaseUrl, RIL_HOME: home,
  RIL_URL_SIGNING_SECRET: 'cold-start-bench-signing-secret-0123456789', CRON_SECRET: 'cold-start-bench-cron', RIL_INFER_RATE_LIMIT: '0',
};
const core = await openCore(loadEnv(env));
const admin = (await createApiKey(core.db.prisma, 'bench-admin', 'ADMIN')).secret;
const fx = await studentBundle();
const sha = await core.blobs.put(fx.archive, 'application/gzip');
const art = await registerArtifact(core, { blobSha256: sha, kind: 'BUNDLE', name: 'cold-start' });
await new DeploymentService(core, archiveCheck(core)).deploy({ name: 'fm', artifactId: art.id });
await core.close();

const ex = fx.torch[0];
const image = fs.readFileSync(path.join(fx.data, ex.image)).toString('base64');
const auth = { authorization: `Bearer ${admin}` };
const jsonPost = (body: unknown): RequestInit => ({ method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The request each function answers in the benchmark, and the status that counts as an answer. */
const REQUESTS: Record<string, { path: string; init: RequestInit; ok: number[] }> = {
  'api/graphql.ts': { path: '/graphql', init: jsonPost({ query: '{ me { role } deployments { name liveRevision { revision } } }' }), ok: [200] },
  'api/healthz.ts': { path: '/healthz', init: {}, ok: [200] },
  'api/metrics.ts': { path: '/metrics', init: { headers: auth }, ok: [200] },
  'api/blobs/[sha256].ts': { path: `/blobs/${sha}`, init: { method: 'HEAD', headers: auth }, ok: [200, 302] },
  'api/v1/infer.ts': { path: '/v1/infer', init: jsonPost({ deployment: 'fm', image, question: ex.question, max_tokens: 16 }), ok: [200] },
  'api/v1/chat/completions.ts': {
    path: '/v1/chat/completions', ok: [200],
    init: jsonPost({ model: 'fm', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: [{ type: 'text', text: ex.question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } }] }] }),
  },
  'api/v1/models.ts': { path: '/v1/models', init: { headers: auth }, ok: [200] },
  'api/cron/teacher-fill.ts': { path: '/api/cron/teacher-fill', init: { headers: { authorization: `Bearer ${env.CRON_SECRET}` } }, ok: [200] },
  'api/cron/sweep-leases.ts': { path: '/api/cron/sweep-leases', init: { headers: { authorization: `Bearer ${env.CRON_SECRET}` } }, ok: [200] },
};

const sizes = new Map<string, { mb: number; files: number }>(
  (JSON.parse(execFileSync(process.execPath, ['scripts/check-functions.mjs', '--json'], { encoding: 'utf8' })) as { function: string; mb: number; files: number }[])
    .map((r) => [r.function, r]),
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows: { function: string; tracedMb: number; files: number; listenMs: number; coldMs: number; warmMs: number; readOnly: boolean }[] = [];
for (const fn of [...sizes.keys()]) {
  const req = REQUESTS[fn];
  if (!req) { console.error(`no benchmark request for ${fn}; add one to bench/cold-start.ts`); process.exitCode = 1; continue; }
  const listen: number[] = []; const cold: number[] = []; const warm: number[] = [];
  let readOnly = false;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    const inst = await startInstance({ ...env, RIL_ONLY_FUNCTION: fn });
    readOnly = inst.readOnly;
    listen.push(performance.now() - t0);
    try {
      const r1 = await fetch(inst.url + req.path, { ...req.init, redirect: 'manual' });
      await r1.arrayBuffer();
      cold.push(performance.now() - t0);
      if (!req.ok.includes(r1.status)) throw new Error(`${fn}: ${req.path} answered ${r1.status}\n${inst.log()}`);
      const t1 = performance.now();
      await (await fetch(inst.url + req.path, { ...req.init, redirect: 'manual' })).arrayBuffer();
      warm.push(performance.now() - t1);
    } finally {
      await inst.stop();
    }
  }
  rows.push({ function: fn, tracedMb: sizes.get(fn)!.mb, files: sizes.get(fn)!.files, listenMs: median(listen), coldMs: median(cold), warmMs: median(warm), readOnly });
}
fs.rmSync(home, { recursive: true, force: true });

if (json) console.log(JSON.stringify(rows, null, 2));
else {
  console.log(`cold starts, median of ${reps} (process spawn -> first complete response), PostgreSQL, read-only checkout: ${rows.every((r) => r.readOnly)}`);
  console.log('function                        traced MB  files  process up ms  first response ms  warm request ms');
  for (const r of rows) {
    console.log(`${r.function.padEnd(31)} ${r.tracedMb.toFixed(1).padStart(9)} ${String(r.files).padStart(6)} ${r.listenMs.toFixed(0).padStart(14)} ${r.coldMs.toFixed(0).padStart(18)} ${r.warmMs.toFixed(1).padStart(16)}`);
  }
}
