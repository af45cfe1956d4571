// The role matrix (issue 11, "keep them closed"): every root Query and Mutation field of schema.graphql and every
// HTTP route, called over real HTTP with no key, a revoked key, each role, and a WORKER key that does not hold the
// lease of what it touches, compared with the expected table api/_lib/auth/access-matrix.json (which must agree with
// ACCESS in access.ts). Every field is called with VALID argument shapes (the worker protocol with the lease's
// workerId and fencing token), so the gate decides, never argument validation. Prints the calls tried, unexpected
// successes and unexpected denials; both must be 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, getNamedType, isObjectType, isNonNullType, type GraphQLField } from 'graphql';
import { ACCESS } from '../api/_lib/auth/access.js';
import { createApiKey, ROLES } from '../api/_lib/auth/keys.js';
import { startTestServer, type GqlResult, type TestServer } from './helpers/server.js';
import { png, writeDataset } from './helpers/fixtures.js';
import { uploadBlob } from './helpers/deploy.js';
import { TEST_PROVIDER } from './helpers/db.js';
import { queueSuiteEvaluation } from '../api/_lib/evals/service.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MATRIX = JSON.parse(fs.readFileSync(path.join(ROOT, 'api/_lib/auth/access-matrix.json'), 'utf8')) as {
  graphql: Record<string, Row>; variants: Record<string, Row>; http: Record<string, Row>; cron: Record<string, Row | string>;
};
interface Row { allow: string[]; lease?: boolean }
const SCHEMA = buildSchema(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));

const CALLERS = ['anonymous', 'revoked', ...ROLES, 'WORKER_NO_LEASE'] as const;
type Caller = (typeof CALLERS)[number];

interface Call { query: string; variables?: Record<string, unknown>; pick?: (data: any) => unknown }
interface World {
  t: TestServer; keys: Record<Caller, string | null>; workerA: string; workerB: string;
  datasetId: string; datasetFile: string; exampleId: string; externalId: string; experimentId: string;
  runId: string; jobId: string; artifactId: string; blobSha: string; imageB64: string;
  /** A fresh TRAIN job leased to worker A (key WORKER), with its run and the lease's fencing token. */
  leased(): Promise<{ jobId: string; runId: string; attempt: number }>;
  /** A fresh EVALUATE job over suite matrix-scored leased to worker A, with the entry it may score. */
  leasedEval(): Promise<{ jobId: string; attempt: number; entryId: string }>;
}

let world: World;
const results: { section: string; cell: string; expected: boolean; got: boolean; detail: string }[] = [];

async function gqlOk(t: TestServer, query: string, variables?: Record<string, unknown>, key = t.adminKey) {
  const r = await t.gql(query, variables, key);
  if (r.errors?.length) throw new Error(`seed failed: ${query}: ${JSON.stringify(r.errors)}`);
  return r.data;
}

before(async () => {
  const t = await startTestServer({ RIL_INFER_RATE_LIMIT: '0' });
  const keys = { anonymous: null } as Record<Caller, string | null>;
  for (const role of ROLES) keys[role] = await t.keyFor(role);
  keys.WORKER_NO_LEASE = await t.keyFor('WORKER');
  const revoked = await createApiKey(t.platform.db.prisma, 'matrix-revoked', 'EDITOR');
  await t.platform.db.prisma.apiKey.update({ where: { id: revoked.key.id }, data: { revokedAt: new Date() } });
  keys.revoked = revoked.secret;

  const ds = await writeDataset(8, { dir: fs.mkdtempSync(path.join(t.home, 'matrix-ds-')) });
  const dataset = (await gqlOk(t, `mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id examples(first: 1) { edges { node { id externalId } } } } }`,
    { i: { name: 'matrix', path: ds.file } })).importDataset;
  await gqlOk(t, `mutation { registerTeacher(input: { name: "matrix-teacher", model: "m", kind: IMPORTED }) { id } }`);
  // the teacher updateTeacherEndpoint re-points (its own, so the fill rows keep an IMPORTED teacher)
  await gqlOk(t, `mutation { registerTeacher(input: { name: "matrix-repointed", model: "m", kind: IMPORTED }) { id } }`);
  const experimentId = (await gqlOk(t, `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }`,
    { i: { name: 'matrix-exp', datasetId: dataset.id, studentSize: 'nano', algorithm: 'SFT' } })).createExperiment.id;
  const workerA = (await gqlOk(t, `mutation { registerWorker(input: { name: "A" }) { id } }`, undefined, keys.WORKER!)).registerWorker.id;
  const workerB = (await gqlOk(t, `mutation { registerWorker(input: { name: "B" }) { id } }`, undefined, keys.WORKER_NO_LEASE!)).registerWorker.id;
  const image = await png(1);
  const blobSha = await uploadBlob(t, image);
  const artifactId = (await gqlOk(t, `mutation($s: String!) { registerArtifact(input: { blobSha256: $s, kind: OTHER, name: "matrix" }) { id } }`, { s: blobSha })).registerArtifact.id;

  const leased = async () => {
    await gqlOk(t, `mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e: experimentId });
    const job = (await gqlOk(t, `mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id attempts run { id } } }`, { w: workerA }, keys.WORKER!)).claimJob;
    assert.ok(job?.run?.id, 'worker A leased a TRAIN job');
    return { jobId: job.id as string, runId: job.run.id as string, attempt: job.attempts as number };
  };
  // suites: matrix-suite stays unscored (its version 1 is edited by every allowed caller); matrix-scored takes results
  const suiteInput = (name: string) => ({ i: { name, datasets: [{ datasetId: dataset.id, split: 'test' }] } });
  await gqlOk(t, `mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { id } }`, suiteInput('matrix-suite'));
  const scored = (await gqlOk(t, `mutation($i: CreateEvalSuiteInput!) { createEvalSuite(input: $i) { latest { datasets { id } } } }`, suiteInput('matrix-scored'))).createEvalSuite;
  const leasedEval = async () => {
    // the highest priority, so worker A claims this one and not an EVALUATE job queueEvaluation's row left behind
    const queued = await queueSuiteEvaluation(t.platform.db, { suite: 'matrix-scored', subject: { kind: 'EXTERNAL', endpoint: 'https://model.example/v1', model: 'm' }, priority: 1000 }, t.platform.env);
    const job = (await gqlOk(t, `mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [EVALUATE] }) { id attempts } }`, { w: workerA }, keys.WORKER!)).claimJob;
    assert.equal(job?.id, queued.id, 'worker A leased the suite EVALUATE job');
    return { jobId: job.id as string, attempt: job.attempts as number, entryId: scored.latest.datasets[0].id as string };
  };
  const first = await leased();
  world = {
    t, keys, workerA, workerB, datasetId: dataset.id, datasetFile: ds.file,
    exampleId: dataset.examples.edges[0].node.id, externalId: dataset.examples.edges[0].node.externalId,
    experimentId, runId: first.runId, jobId: first.jobId, artifactId, blobSha, imageB64: image.toString('base64'), leased, leasedEval,
  };
});

after(async () => { await world?.t.close(); });

/** Arguments per root field: valid shapes over the seeded objects (fields without required arguments get none). */
const ARGS: Record<string, (w: World, c: Caller) => Promise<Record<string, unknown>> | Record<string, unknown>> = {
  'Query.dataset': (w) => ({ id: w.datasetId }),
  'Query.example': (w) => ({ id: w.exampleId }),
  'Query.teacher': () => ({ name: 'matrix-teacher' }),
  'Query.artifact': (w) => ({ id: w.artifactId }),
  'Query.deployment': () => ({ name: 'matrix' }),
  'Query.infer': (w) => ({ input: { deployment: 'matrix', image: w.imageB64, question: 'what?' } }),
  'Query.experiment': (w) => ({ id: w.experimentId }),
  'Query.run': (w) => ({ id: w.runId }),
  'Query.compareRuns': (w) => ({ ids: [w.runId] }),
  'Query.job': (w) => ({ id: w.jobId }),
  'Query.teacherResponses': (w) => ({ datasetId: w.datasetId }),
  'Mutation.importDataset': (w, c) => ({ input: { name: `matrix-${c}`, path: w.datasetFile } }),
  'Mutation.registerTeacher': (_w, c) => ({ input: { name: `teacher-${c}`, model: 'm', kind: 'IMPORTED' } }),
  'Mutation.importTeacherResponses': (w) => ({ input: { datasetId: w.datasetId, jsonl: JSON.stringify({ example: w.externalId, teacher: 'matrix-teacher', sample: 0, text: 'hi' }) } }),
  'Mutation.fillTeacherCache': (w) => ({ input: { datasetId: w.datasetId, teacher: 'matrix-teacher', limit: 1 } }),
  'Mutation.createApiKey': (_w, c) => ({ input: { name: `made-by-${c}`, role: 'VIEWER' } }),
  'Mutation.revokeApiKey': async (w, c) => ({ id: (await createApiKey(w.t.platform.db.prisma, `victim-of-${c}`, 'VIEWER')).key.id }),
  // a WORKER key registers artifacts only of a run its worker holds, naming the worker and the lease's fencing token;
  // every caller names a run freshly leased to worker A (people register an OTHER artifact of a run without a worker)
  'Mutation.registerArtifact': async (w, c) => {
    const lease = await w.leased();
    const worker = c === 'WORKER' || c === 'WORKER_NO_LEASE' ? { workerId: workerOf(w, c), attempt: lease.attempt } : {};
    return { input: { blobSha256: w.blobSha, kind: 'OTHER', name: `art-${c}`, runId: lease.runId, ...worker } };
  },
  'Mutation.deploy': (w) => ({ input: { name: 'matrix', artifactId: w.artifactId } }),
  'Mutation.rollbackDeployment': () => ({ name: 'matrix' }),
  'Mutation.createExperiment': (w, c) => ({ input: { name: `exp-${c}`, datasetId: w.datasetId, studentSize: 'nano', algorithm: 'SFT' } }),
  'Mutation.startRun': (w) => ({ input: { experimentId: w.experimentId } }),
  'Mutation.cancelRun': async (w) => ({ id: (await gqlOk(w.t, `mutation($e: ID!) { startRun(input: { experimentId: $e }) { id } }`, { e: w.experimentId })).startRun.id }),
  'Mutation.retryRun': (w) => ({ id: w.runId }),
  'Mutation.queueTeacherFill': (w) => ({ input: { datasetId: w.datasetId, teacher: 'matrix-teacher', limit: 1 } }),
  'Mutation.queueEvaluation': (w) => ({ input: { artifactId: w.artifactId, datasetId: w.datasetId } }),
  'Mutation.updateTeacherEndpoint': () => ({ input: { name: 'matrix-repointed', baseUrl: 'https://teacher.example/v1', apiKeyEnv: null } }),
  'Mutation.createBlobUpload': () => ({ input: { sha256: crypto.randomBytes(32).toString('hex'), size: 16, contentType: 'image/png' } }),
  'Mutation.completeBlobUpload': (w) => ({ sha256: w.blobSha }),
  'Query.blobDownloadUrl': (w) => ({ sha256: w.blobSha }),
  'Mutation.registerWorker': (_w, c) => ({ input: { name: `worker-${c}` } }),
  // the worker protocol: the caller's own worker (A for the WORKER and ADMIN keys, B for WORKER_NO_LEASE) on a job
  // freshly leased to worker A, with that lease's fencing token, so no call depends on what an earlier caller did
  'Mutation.claimJob': (w) => ({ input: { workerId: w.workerA, kinds: ['EVALUATE'] } }),
  'Mutation.heartbeat': async (w, c) => { const l = await w.leased(); return { input: { jobId: l.jobId, workerId: workerOf(w, c), attempt: l.attempt, step: 1 } }; },
  'Mutation.reportMetrics': async (w, c) => { const l = await w.leased(); return { input: { runId: l.runId, workerId: workerOf(w, c), attempt: l.attempt, points: [{ name: 'loss', step: 1, value: 0.5 }] } }; },
  'Mutation.completeJob': async (w, c) => { const l = await w.leased(); return { input: { jobId: l.jobId, workerId: workerOf(w, c), attempt: l.attempt, result: {} } }; },
  'Mutation.failJob': async (w, c) => { const l = await w.leased(); return { input: { jobId: l.jobId, workerId: workerOf(w, c), attempt: l.attempt, error: 'x', retryable: false } }; },
  'Query.evalSuite': () => ({ name: 'matrix-suite' }),
  'Query.evaluationTable': () => ({ suite: 'matrix-scored' }),
  'Mutation.createEvalSuite': (w, c) => ({ input: { name: `suite-${c}`, datasets: [{ datasetId: w.datasetId }] } }),
  'Mutation.addEvalSuiteVersion': (w) => ({ input: { suite: 'matrix-suite', datasets: [{ datasetId: w.datasetId, sampleLimit: 1 }] } }),
  'Mutation.updateEvalSuiteVersion': (w) => ({ input: { suite: 'matrix-suite', version: 1, datasets: [{ datasetId: w.datasetId }] } }),
  // the worker protocol again: a suite EVALUATE job freshly leased to worker A, scored by the caller's own worker
  'Mutation.recordEvalResult': async (w, c) => {
    const l = await w.leasedEval();
    // agrees with the one example recordEvalExamples may have stored for this subject (ex-3, correct)
    return { input: { jobId: l.jobId, workerId: workerOf(w, c), attempt: l.attempt, entryId: l.entryId, accuracy: 1, n: 1 } };
  },
  'Mutation.recordEvalExamples': async (w, c) => {
    const l = await w.leasedEval();
    // ex-3 is a test example of the matrix dataset (writeDataset: split = i % 4 == 3)
    return { input: { jobId: l.jobId, workerId: workerOf(w, c), attempt: l.attempt, entryId: l.entryId, examples: [{ externalId: 'ex-3', response: 'answer 0', correct: true }] } };
  },
  'Mutation.queueSuiteEvaluation': () => ({ input: { suite: 'matrix-scored', subject: { kind: 'TEACHER', teacher: 'matrix-teacher' } } }),
  'Query.evalExamples': () => ({ versionId: 'none', subjectId: 'none', entryId: 'none' }),
};
const workerOf = (w: World, c: Caller) => (c === 'WORKER_NO_LEASE' ? w.workerB : w.workerA);

/** A query of one root field with its arguments as variables of their declared types. */
function operationFor(key: string, args: Record<string, unknown>): Call {
  const [root, name] = key.split('.');
  const type = root === 'Query' ? SCHEMA.getQueryType()! : SCHEMA.getMutationType()!;
  const field = type.getFields()[name] as GraphQLField<unknown, unknown>;
  const used = field.args.filter((a) => a.name in args);
  const decl = used.length ? `(${used.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ')})` : '';
  const call = used.length ? `(${used.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
  const selection = isObjectType(getNamedType(field.type)) ? ' { __typename }' : '';
  return { query: `${root === 'Query' ? 'query' : 'mutation'}${decl} { ${name}${call}${selection} }`, variables: args, pick: (d) => d?.[name] };
}

const VARIANTS: Record<string, (w: World, c: Caller) => Promise<Call>> = {
  'Mutation.registerArtifact(kind: CHECKPOINT, runId)': async (w, c) => ({
    query: `mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }`,
    // everyone names a worker and the fencing token of the run's current lease: the worker's own (WORKER), its own
    // worker that does not hold the lease (WORKER_NO_LEASE), or the lease holder's (everyone else, who may not)
    variables: await (async () => {
      const lease = await w.leased();
      return { i: { blobSha256: w.blobSha, kind: 'CHECKPOINT', name: `ckpt-${c}`, runId: lease.runId, workerId: workerOf(w, c), attempt: lease.attempt, metadata: { step: 1_000_000_000 } } };
    })(),
    pick: (d) => d?.registerArtifact,
  }),
  'Query.job(id of a job another worker holds)': async (w) => ({
    query: `query($id: ID!) { job(id: $id) { id payload } }`, variables: { id: (await w.leased()).jobId }, pick: (d) => d?.job,
  }),
  'Query.run(id).job of a run another worker trains': async (w) => ({
    query: `query($id: ID!) { run(id: $id) { id job { id payload } } }`, variables: { id: (await w.leased()).runId }, pick: (d) => d?.run?.job,
  }),
};

const DENIED = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);
function gqlAllowed(r: GqlResult, call: Call, row: Row, caller: Caller): { allowed: boolean; detail: string } {
  const codes = (r.errors ?? []).map((e) => e.extensions?.code as string);
  const detail = `${r.status} ${codes.join(',') || 'ok'}`;
  if (r.status === 401 || r.status === 403 || codes.some((c) => DENIED.has(c))) return { allowed: false, detail };
  // a worker that does not hold the lease is refused when it gets nothing (CONFLICT/NOT_FOUND on a job that is not its own)
  if (row.lease && caller === 'WORKER_NO_LEASE') return { allowed: call.pick?.(r.data) != null && !codes.length, detail };
  return { allowed: true, detail };
}

function record(section: string, cell: string, expected: boolean, got: boolean, detail: string) {
  results.push({ section, cell, expected, got, detail });
}

test('the matrix table agrees with ACCESS and names every root field of schema.graphql', () => {
  const fields = [SCHEMA.getQueryType()!, SCHEMA.getMutationType()!].flatMap((t) => Object.keys(t.getFields()).map((f) => `${t.name}.${f}`));
  assert.deepEqual(Object.keys(MATRIX.graphql).sort(), [...fields].sort(), 'one row per root field (a new field needs a row)');
  assert.deepEqual(Object.keys(ACCESS).sort(), [...fields].sort(), 'ACCESS names every root field');
  for (const f of fields) {
    const roles = [...new Set(MATRIX.graphql[f].allow.filter((c) => (ROLES as readonly string[]).includes(c)))].sort();
    assert.deepEqual(roles, [...new Set(['ADMIN', ...ACCESS[f]])].sort(), `${f}: the table and ACCESS disagree`);
    assert.ok(!MATRIX.graphql[f].allow.includes('anonymous') && !MATRIX.graphql[f].allow.includes('revoked'), `${f}: no field is open without a key`);
    const required = (f.startsWith('Query') ? SCHEMA.getQueryType()! : SCHEMA.getMutationType()!).getFields()[f.split('.')[1]].args.some((a) => isNonNullType(a.type) && a.defaultValue === undefined);
    assert.ok(!required || ARGS[f], `${f} has required arguments: add a builder to ARGS in this test`);
  }
  for (const row of [...Object.values(MATRIX.graphql), ...Object.values(MATRIX.variants), ...Object.values(MATRIX.http)]) {
    for (const c of row.allow) assert.ok((CALLERS as readonly string[]).includes(c), `unknown caller ${c}`);
  }
});

test('every root field x every caller over /graphql matches the table', async () => {
  for (const [key, row] of Object.entries(MATRIX.graphql)) {
    for (const caller of CALLERS) {
      const call = operationFor(key, await (ARGS[key]?.(world, caller) ?? {}));
      const r = await world.t.gql(call.query, call.variables, world.keys[caller]);
      const { allowed, detail } = gqlAllowed(r, call, row, caller);
      assert.notEqual(r.status, 500, `${key} | ${caller}: 500`);
      // 400 = the document or its variables did not validate (e.g. a missing required argument): that refusal comes
      // before the gate and would prove nothing about it, so every call must have valid shapes
      assert.notEqual(r.status, 400, `${key} | ${caller}: the call itself is invalid: ${JSON.stringify(r.errors)}`);
      record('graphql', `${key} | ${caller}`, row.allow.includes(caller), allowed, detail);
    }
  }
  for (const [key, row] of Object.entries(MATRIX.variants)) {
    for (const caller of CALLERS) {
      const call = await VARIANTS[key](world, caller);
      const r = await world.t.gql(call.query, call.variables, world.keys[caller]);
      assert.ok(r.status !== 400 && r.status !== 500, `${key} | ${caller}: ${r.status} ${JSON.stringify(r.errors)}`);
      // a variant asks about one object: "through" means the caller saw or changed it
      const codes = (r.errors ?? []).map((e) => e.extensions?.code as string);
      const allowed = call.pick?.(r.data) != null && !codes.some((c) => DENIED.has(c)) && r.status < 400;
      record('graphql', `${key} | ${caller}`, row.allow.includes(caller), allowed, `${r.status} ${codes.join(',') || 'ok'}`);
    }
  }
  assertNoSurprises('graphql');
});

/** An HTTP request as `caller` (the key in the Authorization header, or in ?key= for the URL-key row). */
async function httpCall(route: string, caller: Caller): Promise<{ status: number; text: string }> {
  const key = world.keys[caller];
  const auth: Record<string, string> = key && !route.includes('?key=') ? { authorization: `Bearer ${key}` } : {};
  const [method, pattern] = route.split(' ');
  const json = { 'content-type': 'application/json' };
  let target = pattern.replace(':sha256', world.blobSha).replace(':name', 'matrix');
  let body: string | Buffer | undefined;
  let headers: Record<string, string> = { ...auth };
  if (pattern === '/graphql') { target = '/graphql'; body = JSON.stringify({ query: '{ __typename }' }); headers = { ...headers, ...json }; }
  if (route.includes('?key=')) target = `/blobs/${world.blobSha}?key=${encodeURIComponent(key ?? '')}`;
  if (route.includes('?exp&sig')) {
    // a signed URL as blobDownloadUrl hands it out (the API's own, on the local store), or one with a forged signature
    const { url } = (await gqlOk(world.t, `query($s: String!) { blobDownloadUrl(sha256: $s) { url } }`, { s: world.blobSha })).blobDownloadUrl;
    const signed = new URL(url, world.t.url);
    if (route.includes('forged')) signed.searchParams.set('sig', signed.searchParams.get('sig')!.replace(/^./, (ch) => (ch === 'A' ? 'B' : 'A')));
    target = `${signed.pathname}${signed.search}`;
  }
  if (method === 'PUT') {
    const bytes = crypto.randomBytes(64);
    target = `/blobs/${crypto.createHash('sha256').update(bytes).digest('hex')}`;
    body = bytes;
    headers['content-type'] = 'application/octet-stream';
  }
  if (pattern === '/v1/infer') { body = JSON.stringify({ deployment: 'matrix', image: world.imageB64, question: 'q' }); headers = { ...headers, ...json }; }
  if (pattern === '/v1/chat/completions') {
    body = JSON.stringify({ model: 'matrix', messages: [{ role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${world.imageB64}` } }] }] });
    headers = { ...headers, ...json };
  }
  const r = await fetch(`${world.t.url}${target}`, { method, headers, body: body as BodyInit | undefined });
  return { status: r.status, text: method === 'HEAD' ? '' : await r.text() };
}

test('every HTTP route x every caller matches the table', async () => {
  for (const [route, row] of Object.entries(MATRIX.http)) {
    for (const caller of CALLERS) {
      const r = await httpCall(route, caller);
      assert.ok(r.status < 500, `${route} | ${caller}: ${r.status} ${r.text.slice(0, 200)}`);
      const allowed = r.status !== 401 && r.status !== 403 && !/"code":"(UNAUTHENTICATED|FORBIDDEN)"/.test(r.text);
      record('http', `${route} | ${caller}`, row.allow.includes(caller), allowed, String(r.status));
    }
  }
  assertNoSurprises('http');
});

const cronFiles = Object.keys(MATRIX.cron).filter((k) => !k.startsWith('$')).map((k) => ({ route: k, file: path.join(ROOT, `${k.split(' ')[1].slice(1)}.ts`) }));
test('cron functions (api/cron/*) answer only Authorization: Bearer $CRON_SECRET', async () => {
  assert.deepEqual(cronFiles.filter((c) => !fs.existsSync(c.file)).map((c) => c.file), [], 'every cron row names a function file');
  const secret = `cron-${crypto.randomBytes(16).toString('hex')}`;
  const saved = { ...process.env };
  Object.assign(process.env, { RIL_HOME: world.t.home, CRON_SECRET: secret, RIL_TS_WORKER_POLL_MS: '0' });
  if (world.t.platform.env.DATABASE_URL) process.env.DATABASE_URL = world.t.platform.env.DATABASE_URL;
  try {
    for (const { route, file } of cronFiles) {
      const fn = (await import(file)).default as ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) & { shutdown(): Promise<void> };
      const server = http.createServer((req, res) => void fn(req, res));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}${route.split(' ')[1]}`;
      try {
        const row = MATRIX.cron[route] as Row;
        for (const caller of [...CALLERS, 'CRON_SECRET', 'WRONG_SECRET'] as const) {
          const key = caller === 'CRON_SECRET' ? secret : caller === 'WRONG_SECRET' ? `${secret}x` : world.keys[caller as Caller];
          const r = await fetch(url, { headers: key ? { authorization: `Bearer ${key}` } : {} });
          assert.ok(r.status < 500, `${route} | ${caller}: ${r.status}`);
          record('cron', `${route} | ${caller}`, row.allow.includes(caller), r.status !== 401 && r.status !== 403, String(r.status));
        }
      } finally {
        server.close();
        await fn.shutdown();
      }
    }
  } finally {
    process.env = saved;
  }
  assertNoSurprises('cron');
});

function summarise(section?: string) {
  const mine = results.filter((r) => !section || r.section === section);
  const surprises = mine.filter((r) => r.expected !== r.got);
  return { tried: mine.length, successes: surprises.filter((r) => r.got && !r.expected), denials: surprises.filter((r) => !r.got && r.expected) };
}

function assertNoSurprises(what: string) {
  const { successes, denials } = summarise(what);
  assert.deepEqual([...successes, ...denials].map((r) => `${r.cell}: expected ${r.expected ? 'allow' : 'deny'}, got ${r.detail}`), [], `${what}: cells that disagree with access-matrix.json`);
}

test('role matrix totals (printed; unexpected successes and unexpected denials must be 0)', () => {
  const { tried, successes, denials } = summarise();
  console.log(`role matrix (${TEST_PROVIDER}): ${tried} calls tried, ${successes.length} unexpected successes, ${denials.length} unexpected denials`);
  const cells = Object.keys(MATRIX.graphql).length + Object.keys(MATRIX.variants).length + Object.keys(MATRIX.http).length;
  const cronCells = cronFiles.length * (CALLERS.length + 2);
  assert.equal(tried, cells * CALLERS.length + cronCells, 'every cell was tried');
  assert.equal(successes.length, 0);
  assert.equal(denials.length, 0);
});
