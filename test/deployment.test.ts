// The platform as a Vercel deployment would run it: every function under api/ served through the (req, res)
// contract from TWO separate processes ("instances", test/helpers/vercel-instance.ts) with the checkout mounted
// read-only (only /tmp writable), sharing PostgreSQL and an S3-protocol server (s3rver), migrated by the release
// step (`ril migrate`). The main flow walks across both instances:
//   create a key -> upload and import a dataset through presigned URLs (the CLI against instance A) -> queue a
//   teacher fill on A and let B's cron function drain it -> register and deploy a bundle through A, infer through B
//   -> deploy again -> roll back through B -> both instances switch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFashionMnistVqa } from '../clients/cli/src/data/fashionMnist/index.js';
import { RilClient } from '../clients/sdk/src/index.js';
import { studentBundle } from './helpers/bundle.js';
import { runCli } from './helpers/cli.js';
import { createTestDatabaseUrl, TEST_PROVIDER } from './helpers/db.js';
import { functionEntries } from './helpers/functionEntries.js';
import { freePorts, startInstance, type Instance } from './helpers/instances.js';
import { startOpenAIMock } from './helpers/openaiMock.js';
import picomatch from 'picomatch';
import { findPython } from './helpers/bundle.js';
import { REPO } from './helpers/python.js';
import { startS3 } from './helpers/s3.js';

const skip = TEST_PROVIDER !== 'postgres' ? 'functions require PostgreSQL (runs in the PostgreSQL pass)' : findPython().reason ?? false;

test('two instances of the Vercel deployment on PostgreSQL + S3 walk the main flow', { skip, timeout: 900_000 }, async () => {
  const s3 = await startS3();
  const mock = await startOpenAIMock({ apiKey: 'sk-teacher-secret' });
  const { databaseUrl } = await createTestDatabaseUrl();
  const instances: Instance[] = [];
  try {
    // ---- release step and an operator's first key (management commands on the database) ----
    const ops = { DATABASE_URL: databaseUrl, RIL_HOME: fs.mkdtempSync(path.join(os.tmpdir(), 'ril-ops-')) };
    const migrate = await runCli(['migrate', '--json'], ops);
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.ok(JSON.parse(migrate.stdout).applied.length > 0);
    assert.deepEqual(JSON.parse((await runCli(['migrate', '--json'], ops)).stdout).applied, [], 'the release step is idempotent');
    const created = await runCli(['keys', 'create', '--role', 'ADMIN', '--name', 'ops', '--json'], ops);
    assert.equal(created.code, 0, created.stderr);
    const admin = JSON.parse(created.stdout).secret as string;

    // ---- two instances, each its own process with a read-only checkout ----
    const [portA, portB] = await freePorts(2);
    const common: Record<string, string> = {
      PATH: process.env.PATH ?? '', RIL_DEPLOYMENT: 'functions', DATABASE_URL: databaseUrl!, ...s3.env,
      RIL_URL_SIGNING_SECRET: crypto.randomBytes(32).toString('hex'), CRON_SECRET: 'cron-secret-for-the-test',
      TEACHER_KEY: 'sk-teacher-secret', RIL_SECRET_ENV_ALLOWLIST: 'TEACHER_KEY', RIL_OUTBOUND_ALLOW_HOSTS: new URL(mock.url).host,
      RIL_DEPLOYMENT_REFRESH_MS: '0', RIL_INFER_RATE_LIMIT: '0',
    };
    const A = await startInstance({ ...common, RIL_PUBLIC_URL: `http://127.0.0.1:${portA}` }, { port: portA });
    instances.push(A);
    const B = await startInstance({ ...common, RIL_PUBLIC_URL: `http://127.0.0.1:${portB}` }, { port: portB });
    instances.push(B);
    if (process.getuid?.() === 0) assert.ok(A.readOnly && B.readOnly, 'as root the instances see the checkout read-only');
    const gql = async (inst: Instance, query: string, variables: Record<string, unknown> = {}, key = admin) => {
      const r = await fetch(`${inst.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify({ query, variables }) });
      const body = await r.json() as { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };
      if (body.errors?.length) throw new Error(`${query.slice(0, 60)}...: ${body.errors.map((e) => `${e.extensions?.code}: ${e.message}`).join('; ')}\n--- A ---\n${A.log()}\n--- B ---\n${B.log()}`);
      return body.data;
    };

    // ---- a key made through one instance works on the other ----
    const editor = (await gql(A, 'mutation { createApiKey(input: { name: "editor", role: EDITOR }) { secret } }')).createApiKey.secret as string;
    assert.equal((await gql(B, '{ me { role } }', {}, editor)).me.role, 'EDITOR');

    // ---- dataset: the CLI uploads images and the JSONL through presigned URLs to S3, then imports by blob ----
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-fm-'));
    fs.rmSync(data, { recursive: true });
    await buildFashionMnistVqa({ out: data, limit: 24, samplesPerTeacher: 1 });
    const imported = await runCli(['datasets', 'import', data, '--name', 'fm-remote', '--api-url', A.url, '--json'], { RIL_API_KEY: editor });
    assert.equal(imported.code, 0, imported.stderr + A.log());
    const ds = JSON.parse(imported.stdout) as { id: string; exampleCount: number };
    assert.equal(ds.exampleCount, 24);
    const onB = (await gql(B, 'query($id: ID!) { dataset(id: $id) { exampleCount examples(first: 1) { edges { node { imageSha256 imageUrl } } } } }', { id: ds.id })).dataset;
    assert.equal(onB.exampleCount, 24);
    const ex0 = onB.examples.edges[0].node;
    const img = await fetch(new URL(ex0.imageUrl, B.url));
    assert.equal(img.status, 200, 'the image URL handed out by B serves the bytes');
    assert.equal(crypto.createHash('sha256').update(Buffer.from(await img.arrayBuffer())).digest('hex'), ex0.imageSha256);
    assert.ok(fs.readdirSync(s3.dir, { recursive: true }).length > 24, 'the bytes live in the S3 server, not on an instance');

    // ---- teacher fill: queued on A, drained by B's cron function ----
    await gql(A, `mutation { registerTeacher(input: { name: "vlm", model: "teacher-vlm", kind: ENDPOINT, baseUrl: "${mock.url}", apiKeyEnv: "TEACHER_KEY" }) { name } }`, {}, editor);
    const job = (await gql(A, 'mutation($d: ID!) { fillTeacherCache(input: { datasetId: $d, teacher: "vlm", samplesPerExample: 1 }) { id status kind } }', { d: ds.id }, editor)).fillTeacherCache;
    assert.deepEqual([job.kind, job.status], ['TEACHER_FILL', 'QUEUED']);
    assert.equal(mock.requests.length, 0, 'the mutation only queues');
    assert.equal((await fetch(`${B.url}/api/cron/teacher-fill`)).status, 401, 'the cron function needs CRON_SECRET');
    const cron = await fetch(`${B.url}/api/cron/teacher-fill`, { headers: { authorization: `Bearer ${common.CRON_SECRET}` } });
    assert.equal(cron.status, 200, await cron.clone().text());
    const done = (await gql(A, 'query($id: ID!) { job(id: $id) { status } }', { id: job.id })).job;
    assert.equal(done.status, 'SUCCEEDED');
    assert.equal(mock.requests.length, 24, 'one request per example, none twice');
    assert.ok(mock.requests.every((r) => r.headers.authorization === 'Bearer sk-teacher-secret'));
    const cov = (await gql(B, 'query($id: ID!) { dataset(id: $id) { teacherCoverage { teacher { name } covered total } } }', { id: ds.id })).dataset.teacherCoverage;
    assert.deepEqual(cov.find((c: any) => c.teacher.name === 'vlm'), { teacher: { name: 'vlm' }, covered: 24, total: 24 });

    // ---- a bundle: uploaded through A (presigned), deployed through A, answered by B ----
    const fx = await studentBundle();
    const sdkA = new RilClient({ url: A.url, apiKey: editor });
    const sha = await sdkA.putBlob(new Uint8Array(fx.archive), 'application/gzip');
    const art = (await gql(A, 'mutation($s: String!) { registerArtifact(input: { blobSha256: $s, kind: BUNDLE, name: "student" }) { id } }', { s: sha }, editor)).registerArtifact;
    const deploy = async (inst: Instance) => (await gql(inst, 'mutation($a: ID!) { deploy(input: { name: "fm", artifactId: $a }) { liveRevision { revision } } }', { a: art.id }, editor)).deploy.liveRevision.revision;
    assert.equal(await deploy(A), 1);
    const ex = fx.torch[0];
    const image = fs.readFileSync(path.join(fx.data, ex.image)).toString('base64');
    const infer = async (inst: Instance) => {
      const r = await fetch(`${inst.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${editor}` },
        body: JSON.stringify({ deployment: 'fm', image, question: ex.question, max_tokens: 32 }) });
      const body = await r.json() as any;
      assert.equal(r.status, 200, JSON.stringify(body));
      return body as { revision: number; token_ids: number[] };
    };
    const b1 = await infer(B);
    assert.equal(b1.revision, 1);
    assert.deepEqual(b1.token_ids, ex.tokens, 'the same greedy tokens as PyTorch');
    // Query.infer on the GraphQL function is forwarded to the inference function (this function loads no onnxruntime)
    const viaGraphql = (await gql(B, 'query($i: InferInput!) { infer(input: $i) { revision tokenIds } }', { i: { deployment: 'fm', image, question: ex.question, maxTokens: 32 } }, editor)).infer;
    assert.deepEqual(viaGraphql, { revision: 1, tokenIds: ex.tokens });

    // ---- a new revision through A, then a rollback through B: both instances switch ----
    assert.equal(await deploy(A), 2);
    assert.deepEqual([(await infer(A)).revision, (await infer(B)).revision], [2, 2]);
    const rolled = (await gql(B, 'mutation { rollbackDeployment(name: "fm") { liveRevision { revision } } }', {}, editor)).rollbackDeployment;
    assert.equal(rolled.liveRevision.revision, 1);
    assert.deepEqual([(await infer(A)).revision, (await infer(B)).revision], [1, 1]);

    // ---- the dashboard is static output, served by the deployment without a function ----
    const home = await fetch(`${A.url}/`);
    assert.equal(home.status, fs.existsSync(path.join(REPO, 'public', 'index.html')) ? 200 : 404);
  } finally {
    for (const i of instances) await i.stop();
    await mock.close();
    await s3.close();
  }
});

test('the function entry points are exactly the non-underscore files under api/, and vercel.json configures each', () => {
  // (their traced sizes and forbidden packages are checked by `npm run check:functions`, which scripts/test.sh runs)
  const vercel = JSON.parse(fs.readFileSync(path.join(REPO, 'vercel.json'), 'utf8'));
  const entries = functionEntries(REPO);
  assert.deepEqual(entries, [
    'api/blobs/[sha256].ts', 'api/cron/sweep-leases.ts', 'api/cron/teacher-fill.ts', 'api/graphql.ts', 'api/healthz.ts',
    'api/metrics.ts', 'api/v1/chat/completions.ts', 'api/v1/deployments/[name]/bundle/[...file].ts', 'api/v1/infer.ts', 'api/v1/models.ts',
  ]);
  for (const f of entries) {
    assert.match(fs.readFileSync(path.join(REPO, f), 'utf8'), /export default (defineFunction|inferFunction)\(/, `${f} is a route handler`);
    const globs = Object.keys(vercel.functions).filter((glob) => picomatch(glob)(f));
    assert.equal(globs.length, 1, `${f} has ${globs.length} vercel.json functions entries (${globs.join(', ')}), not one`);
  }
  for (const cron of vercel.crons) assert.ok(entries.some((f) => `/${f.replace(/\.ts$/, '')}` === cron.path), `cron ${cron.path} has a function`);
  // a function file's path as a rewrite destination: [x] is :x, [...x] is :x*
  const destination = (f: string) => `/${f.replace(/\.ts$/, '').replace(/\[\.\.\.([^\]]+)\]/g, ':$1*').replace(/\[([^\]]+)\]/g, ':$1')}`;
  for (const r of vercel.rewrites) assert.ok(entries.some((f) => r.destination === destination(f)), `rewrite ${r.source} reaches a function`);
});
