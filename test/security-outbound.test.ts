// Security item #2: teacher endpoints cannot exfiltrate secrets or reach internal hosts. Exploit attempts over real
// HTTP against the real platform (GraphQL), whose fills are drained by the one drain (functions/teacher-fill/drain.ts)
// against real local HTTP servers. The operator settings under test are the server's: RIL_SECRET_ENV_ALLOWLIST names
// the one key variable, RIL_OUTBOUND_ALLOW_HOSTS exempts exactly the two local servers' host:port (as an operator
// would for a local model server), and every other local port stays refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { startOpenAIMock, type MockStep, type OpenAIMock } from './helpers/openaiMock.js';
import { writeDataset } from './helpers/fixtures.js';
import { drainTeacherFills } from '../functions/teacher-fill/drain.js';

const KEY_VAR = 'S2_TEACHER_KEY';
const KEY = 'sk-s2-allowlisted-key-0123456789';
const PLANTED_VAR = 'S2_PLANTED_SECRET';
const PLANTED = 'planted-secret-must-never-leave-9876';
const MAX_BYTES = 64 * 1024;

let t: TestServer;
let mock: OpenAIMock; // allowlisted (host:port)
let other: OpenAIMock; // same host, another port: NOT allowlisted
let endless: { url: string; bytesSent: () => number; closed: Promise<void>; close(): Promise<void> };
let datasetId: string;
let editor: string;
let seq = 0;
/** Per-teacher behaviour of the allowlisted mock, keyed by the model name each test registers. */
const behaviour = new Map<string, MockStep>();
const savedEnv = { ...process.env };

/** A chat endpoint that answers 200 and then streams without end (records what it sent and when the client hung up). */
async function startEndless() {
  let sent = 0;
  let onClosed!: () => void;
  const closed = new Promise<void>((res) => { onClosed = res; });
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"choices":[{"message":{"content":"');
    const chunk = 'x'.repeat(16 * 1024);
    const timer = setInterval(() => { if (res.write(chunk)) sent += chunk.length; else sent += chunk.length; }, 1);
    res.on('close', () => { clearInterval(timer); onClosed(); });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`, bytesSent: () => sent, closed,
    close: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}

before(async () => {
  mock = await startOpenAIMock({ script: (req) => behaviour.get(req.model ?? '') ?? 'ok' });
  other = await startOpenAIMock({});
  endless = await startEndless();
  const port = (u: string) => new URL(u).port;
  // the fill runs in this process (the drain), so the key variables live in this process's environment
  process.env[KEY_VAR] = KEY;
  process.env[PLANTED_VAR] = PLANTED;
  t = await startTestServer({
    RIL_SECRET_ENV_ALLOWLIST: KEY_VAR,
    RIL_OUTBOUND_ALLOW_HOSTS: `127.0.0.1:${port(mock.url)}, 127.0.0.1:${port(endless.url)}`,
    RIL_OUTBOUND_MAX_BYTES: String(MAX_BYTES),
    RIL_JOB_BACKOFF_MS: '0', RIL_JOB_BACKOFF_MAX_MS: '0',
  });
  editor = await t.keyFor('EDITOR');
  const { file } = await writeDataset(1);
  datasetId = (await t.gql(`mutation($p: String!) { importDataset(input: { name: "s2", path: $p }) { id } }`, { p: file })).data.importDataset.id;
});
after(async () => {
  await t.close();
  await mock.close();
  await other.close();
  await endless.close();
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
});

const REGISTER = `mutation($i: RegisterTeacherInput!) { registerTeacher(input: $i) { name kind model baseUrl apiKeyEnv } }`;
const UPDATE = `mutation($i: UpdateTeacherEndpointInput!) { updateTeacherEndpoint(input: $i) { name kind baseUrl apiKeyEnv } }`;
const FILL = `mutation($i: FillTeacherCacheInput!) { fillTeacherCache(input: $i) { id } }`;
const JOB = `query($j: ID!) { job(id: $j) { status error result } }`;

/** Queues a fill of `teacher` over GraphQL (as an EDITOR), drains it here, and returns the job as GraphQL shows it. */
async function fillAndDrain(teacher: string) {
  const queued = await t.gql(FILL, { i: { datasetId, teacher, concurrency: 1 } }, editor);
  assert.equal(queued.errors, undefined, JSON.stringify(queued.errors));
  const id = queued.data.fillTeacherCache.id as string;
  await drainTeacherFills({ services: t.platform, budgetMs: 60_000, workerName: `s2-${++seq}`, queue: { backoffBaseMs: 0, backoffMaxMs: 0 } });
  return (await t.gql(JOB, { j: id })).data.job as { status: string; error: string | null; result: any };
}

/** A teacher row written directly, as one registered before the operator's settings changed would be. */
const plant = (name: string, baseUrl: string, apiKeyEnv: string | null = null) =>
  t.platform.db.prisma.teacher.create({ data: { name, kind: 'ENDPOINT', model: name, baseUrl, apiKeyEnv } });

describe('#2 endpoint keys: only variables the operator allows', () => {
  test('#2 an EDITOR cannot register a teacher whose key is DATABASE_URL (or any variable not in RIL_SECRET_ENV_ALLOWLIST)', async () => {
    for (const apiKeyEnv of ['DATABASE_URL', 'RIL_API_KEY', PLANTED_VAR]) {
      const r = await t.gql(REGISTER, { i: { name: `steal-${apiKeyEnv}`, model: 'm', kind: 'ENDPOINT', baseUrl: 'https://attacker.example/v1', apiKeyEnv } }, editor);
      assert.equal(errorCode(r), 'BAD_USER_INPUT', apiKeyEnv);
      assert.match(r.errors![0].message, /RIL_SECRET_ENV_ALLOWLIST/);
      assert.equal(await t.platform.db.prisma.teacher.count({ where: { name: `steal-${apiKeyEnv}` } }), 0, 'nothing registered');
    }
    const ok = await t.gql(REGISTER, { i: { name: 'allowed-key', model: 'm', kind: 'ENDPOINT', baseUrl: 'https://teacher.example/v1', apiKeyEnv: KEY_VAR } }, editor);
    assert.equal(ok.errors, undefined, 'the allowlisted variable is accepted');
  });

  test('#2 a teacher row naming a variable outside the allowlist is refused by the fill: the secret is never sent', async () => {
    await plant('planted-key', mock.url, PLANTED_VAR);
    mock.reset();
    const job = await fillAndDrain('planted-key');
    assert.equal(job.status, 'FAILED');
    assert.match(job.error!, /RIL_SECRET_ENV_ALLOWLIST/);
    assert.ok(!JSON.stringify(job).includes(PLANTED));
    assert.equal(mock.requests.length, 0, 'no request was made');
  });

  test('#2 an experiment config cannot name a judge key outside the allowlist, nor a non-public judge endpoint', async () => {
    const create = (config: Record<string, unknown>, name: string) => t.gql(
      `mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }`,
      { i: { name, datasetId, studentSize: 'nano', algorithm: 'SFT', config } }, editor);
    const leak = await create({ judge: 'llm', judge_endpoint: 'https://attacker.example/v1', judge_api_key_env: 'DATABASE_URL' }, 'judge-leak');
    assert.equal(errorCode(leak), 'BAD_USER_INPUT');
    assert.match(leak.errors![0].message, /RIL_SECRET_ENV_ALLOWLIST/);
    const metadata = await create({ judge: 'llm', judge_endpoint: 'http://169.254.169.254/latest' }, 'judge-metadata');
    assert.equal(errorCode(metadata), 'BAD_USER_INPUT');
    assert.match(metadata.errors![0].message, /link-local/);
    assert.equal(await t.platform.db.prisma.experiment.count({ where: { name: { startsWith: 'judge-' } } }), 0);
    const ok = await create({ judge: 'llm', judge_endpoint: 'https://judge.example/v1', judge_api_key_env: KEY_VAR }, 'judge-ok');
    assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
  });
});

describe('#2 re-pointing a teacher is an ADMIN operation', () => {
  test('#2 an EDITOR cannot re-point an existing teacher to capture its key; an ADMIN can', async () => {
    const original = { name: 'prod-teacher', model: 'prod-teacher', kind: 'ENDPOINT', baseUrl: mock.url, apiKeyEnv: KEY_VAR };
    assert.equal((await t.gql(REGISTER, { i: original })).errors, undefined);
    // the attack: the same name, the attacker's URL (the real key would follow the teacher there)
    const repoint = await t.gql(REGISTER, { i: { ...original, baseUrl: 'https://attacker.example/v1' } }, editor);
    assert.equal(errorCode(repoint), 'CONFLICT');
    assert.match(repoint.errors![0].message, /updateTeacherEndpoint/);
    assert.equal(errorCode(await t.gql(REGISTER, { i: { ...original, apiKeyEnv: null } }, editor)), 'CONFLICT', 'dropping the key is a change too');
    assert.equal(errorCode(await t.gql(UPDATE, { i: { name: original.name, baseUrl: 'https://attacker.example/v1', apiKeyEnv: KEY_VAR } }, editor)), 'FORBIDDEN');
    const row = await t.platform.db.prisma.teacher.findUniqueOrThrow({ where: { name: original.name } });
    assert.deepEqual([row.baseUrl, row.apiKeyEnv], [mock.url, KEY_VAR], 'unchanged');

    // the same settings again is an idempotent no-op (a rerun script), and the teacher works with its key
    assert.equal((await t.gql(REGISTER, { i: original }, editor)).errors, undefined);
    mock.reset();
    const job = await fillAndDrain(original.name);
    assert.equal(job.status, 'SUCCEEDED', job.error ?? '');
    assert.equal(mock.requests.length, 1);
    assert.equal(mock.requests[0].headers.authorization, `Bearer ${KEY}`, 'the allowlisted key is sent to the allowlisted host');

    // an ADMIN may re-point it, under the same checks
    const moved = await t.gql(UPDATE, { i: { name: original.name, baseUrl: 'https://teacher2.example/v1', apiKeyEnv: null } });
    assert.deepEqual(moved.data.updateTeacherEndpoint, { name: original.name, kind: 'ENDPOINT', baseUrl: 'https://teacher2.example/v1', apiKeyEnv: null });
    assert.equal(errorCode(await t.gql(UPDATE, { i: { name: original.name, baseUrl: mock.url, apiKeyEnv: 'DATABASE_URL' } })), 'BAD_USER_INPUT');
    assert.equal(errorCode(await t.gql(UPDATE, { i: { name: original.name, baseUrl: 'http://10.0.0.1/v1' } })), 'BAD_USER_INPUT');
    assert.equal(errorCode(await t.gql(UPDATE, { i: { name: 'nobody', baseUrl: 'https://x.example/v1' } })), 'NOT_FOUND');
  });
});

describe('#2 a fill never reaches a non-public address', () => {
  const otherPort = () => new URL(other.url).port;
  const targets = () => [
    ['loopback-port', `http://127.0.0.1:${otherPort()}/v1`, /loopback/],
    ['metadata', 'http://169.254.169.254/v1', /link-local/],
    ['private', 'http://10.0.0.1/v1', /private/],
    ['ipv6-loopback', `http://[::1]:${otherPort()}/v1`, /loopback/],
    ['mapped', `http://[::ffff:127.0.0.1]:${otherPort()}/v1`, /IPv4-in-IPv6|loopback/],
  ] as const;

  test('#2 IP literals in refused ranges are refused at registration (BAD_USER_INPUT), even for allowlisted ports elsewhere', async () => {
    for (const [name, baseUrl, why] of targets()) {
      const r = await t.gql(REGISTER, { i: { name: `reg-${name}`, model: 'm', kind: 'ENDPOINT', baseUrl } }, editor);
      assert.equal(errorCode(r), 'BAD_USER_INPUT', baseUrl);
      assert.match(r.errors![0].message, why, baseUrl);
      assert.match(r.errors![0].message, /RIL_OUTBOUND_ALLOW_HOSTS/);
    }
  });

  test('#2 teachers already pointing there fail the fill before any request (no request reaches the local server)', async () => {
    other.reset();
    for (const [name, baseUrl, why] of targets()) {
      await plant(`old-${name}`, baseUrl);
      const job = await fillAndDrain(`old-${name}`);
      assert.equal(job.status, 'FAILED', baseUrl);
      assert.match(job.error!, why, baseUrl);
    }
    assert.equal(other.requests.length, 0);
  });

  test('#2 a host name that resolves to 127.0.0.1 (localhost) is refused where the request is made', async () => {
    other.reset();
    const baseUrl = `http://localhost:${otherPort()}/v1`;
    assert.equal((await t.gql(REGISTER, { i: { name: 'by-name', model: 'm', kind: 'ENDPOINT', baseUrl } }, editor)).errors, undefined,
      'a name is not resolved at registration (its answer could change); it is checked at each request');
    const job = await fillAndDrain('by-name');
    assert.equal(job.status, 'FAILED');
    assert.match(job.error!, /localhost:\d+ resolves to a loopback address/);
    assert.doesNotMatch(job.error!, /127\.0\.0\.1/, 'the resolved address is not disclosed');
    assert.equal(other.requests.length, 0);
  });
});

describe('#2 what comes back from an allowlisted endpoint is bounded', () => {
  /** An ADMIN-registered teacher on the allowlisted mock whose answers follow `step`. */
  const teacherPlaying = async (name: string, step: MockStep) => {
    behaviour.set(name, step);
    assert.equal((await t.gql(REGISTER, { i: { name, model: name, kind: 'ENDPOINT', baseUrl: mock.url } })).errors, undefined);
    return name;
  };

  test('#2 a redirect to another host is not followed', async () => {
    other.reset();
    const name = await teacherPlaying('redirector', { status: 307, headers: { location: `${other.url}/chat/completions` } });
    const job = await fillAndDrain(name);
    assert.equal(job.status, 'FAILED');
    assert.match(job.error!, /HTTP 307: the endpoint answered with a redirect, which is not followed \(not retried\)/);
    assert.equal(other.requests.length, 0, 'the redirect target got nothing');
  });

  test('#2 a huge response is cut at RIL_OUTBOUND_MAX_BYTES, endless ones included', async () => {
    const huge = JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'y'.repeat(1024 * 1024) } }] });
    const name = await teacherPlaying('huge', { status: 200, body: huge, headers: { 'content-type': 'application/json' } });
    const job = await fillAndDrain(name);
    assert.equal(job.status, 'FAILED');
    assert.match(job.error!, new RegExp(`larger than ${MAX_BYTES} bytes`));
    assert.equal(await t.platform.db.prisma.teacherResponse.count({ where: { teacher: { name } } }), 0, 'nothing of it was cached');

    assert.equal((await t.gql(REGISTER, { i: { name: 'endless', model: 'endless', kind: 'ENDPOINT', baseUrl: endless.url } })).errors, undefined);
    const started = Date.now();
    const cut = await fillAndDrain('endless');
    assert.equal(cut.status, 'FAILED');
    assert.match(cut.error!, /larger than/);
    await endless.closed; // we hung up on it
    assert.ok(Date.now() - started < 30_000);
    // we stop reading at the cap; what the server could push before noticing is bounded by socket buffers
    assert.ok(endless.bytesSent() < 16 * 1024 * 1024, `the client hung up early (${endless.bytesSent()} bytes sent)`);
  });

  test('#2 a remote error body (which may carry secrets) is never echoed to the caller', async () => {
    const leak = 'upstream-internal-SECRET-token-4242 at db.internal:5432';
    const name = await teacherPlaying('leaky', { status: 400, body: JSON.stringify({ error: { message: leak } }), headers: { 'x-internal': leak } });
    const job = await fillAndDrain(name);
    assert.equal(job.status, 'FAILED');
    assert.match(job.error!, /HTTP 400 Bad Request \(not retried\)/);
    assert.ok(!JSON.stringify(job).includes('SECRET-token'), `echoed: ${job.error}`);
  });
});
