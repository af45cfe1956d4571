// Structured request logs (issue 11, "keep them closed"): one JSON line per request with route, method, role,
// status, duration and request id, from `ril serve` and from a Vercel function, read from the real process's
// stdout. Neither a key (in the Authorization header, or one a client wrongly puts in ?key=, which is refused) nor
// the query string nor the body ever reaches the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openDatabase } from '../api/_lib/db/index.js';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { createTestDatabaseUrl } from './helpers/db.js';
import { startInstance } from './helpers/instances.js';
import { jsonLines, startServe } from './helpers/serve-process.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function waitFor<T>(what: string, get: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('request logs: one JSON line per request with the role, never the key, query string or body (ril serve)', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const serve = await startServe({ home, databaseUrl });
  const db = await openDatabase({ home, databaseUrl, migrate: 'skip' });
  try {
    const editor = (await createApiKey(db.prisma, 'log-editor', 'EDITOR')).secret;
    const inference = (await createApiKey(db.prisma, 'log-inference', 'INFERENCE')).secret;
    const revoked = await createApiKey(db.prisma, 'log-revoked', 'VIEWER');
    await db.prisma.apiKey.update({ where: { id: revoked.key.id }, data: { revokedAt: new Date() } });
    const marker = 'body-marker-7f3a9c';

    const me = await fetch(`${serve.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${editor}` },
      body: JSON.stringify({ query: `query ${marker.replace(/-/g, '_')} { me { role } }` }),
    });
    assert.equal(me.status, 200);
    const requestId = me.headers.get('x-request-id');
    assert.match(requestId ?? '', UUID, 'the response names its request id');
    const bad = await fetch(`${serve.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${revoked.secret}` }, body: '{"query":"{ me { role } }"}' });
    assert.equal(bad.status, 401);
    const sha = 'a'.repeat(64);
    const viaQuery = await fetch(`${serve.url}/blobs/${sha}?key=${encodeURIComponent(editor)}&sig=${marker}`);
    // a key in the URL authorises nothing (issue 11 #4): with `sig` there, it is read as a signed URL, wrongly signed
    assert.equal(viaQuery.status, 403, 'a key in the URL is not accepted');
    const infer = await fetch(`${serve.url}/v1/infer`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${inference}` }, body: `{"deployment":"${marker}"` });
    assert.equal(infer.status, 400, 'a truncated JSON body');
    assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);

    const lines = await waitFor('five request lines', () => {
      const l = jsonLines(serve.stdout()).filter((x) => x.msg === 'request');
      return l.length >= 5 ? l : undefined;
    });
    const byId = lines.find((l) => l.requestId === requestId);
    assert.ok(byId, 'the line carries the request id the client saw');
    assert.equal(byId.method, 'POST');
    assert.equal(byId.route, '/graphql');
    assert.equal(byId.role, 'EDITOR');
    assert.equal(byId.status, 200);
    assert.equal(typeof byId.durationMs, 'number');
    assert.ok((byId.durationMs as number) >= 0);
    assert.ok(lines.some((l) => l.route === '/graphql' && l.role === 'invalid' && l.status === 401), 'a revoked key logs as invalid, 401');
    const blobLine = lines.find((l) => l.route === '/blobs/:sha256');
    assert.ok(blobLine);
    assert.equal(blobLine.path, `/blobs/${sha}`, 'the path without its query string');
    assert.ok(lines.some((l) => l.route === '/v1/infer' && l.role === 'INFERENCE' && l.status === 400));
    assert.ok(lines.some((l) => l.route === '/healthz' && l.role === 'anonymous' && l.status === 200));

    const output = serve.stdout() + serve.stderr();
    for (const secret of [editor, inference, revoked.secret]) {
      assert.ok(!output.includes(secret), 'no key in the output');
      assert.ok(!output.includes(secret.slice(4, 20)), 'not even part of a key');
    }
    assert.ok(!output.includes(marker) && !output.includes(marker.replace(/-/g, '_')), 'no body and no query string in the output');
    assert.ok(!/bearer/i.test(jsonLines(serve.stdout()).map((l) => JSON.stringify(l)).join('\n')), 'no Authorization header');
  } finally {
    await db.close();
    await serve.stop();
  }
});

test('request logs: RIL_LOG_REQUESTS=0 turns them off', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const serve = await startServe({ home, databaseUrl, extra: { RIL_LOG_REQUESTS: '0' } });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await fetch(`${serve.url}/healthz`)).status, 200);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(jsonLines(serve.stdout()).filter((l) => l.msg === 'request'), []);
  } finally {
    await serve.stop();
  }
});

test('request logs: a Vercel function (api/graphql.ts) logs the same line', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const db = await openDatabase({ home, databaseUrl });
  const viewer = (await createApiKey(db.prisma, 'fn-viewer', 'VIEWER')).secret;
  await db.close();
  const instance = await startInstance({
    PATH: process.env.PATH ?? '', RIL_HOME: home, NODE_OPTIONS: '--no-warnings', RIL_DEPLOYMENT: databaseUrl ? 'functions' : 'embedded',
    // functions mode needs the secret every instance signs blob URLs with
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, RIL_URL_SIGNING_SECRET: crypto.randomBytes(32).toString('hex') } : {}),
  });
  let out = '';
  instance.child.stdout!.on('data', (d) => { out += d; });
  try {
    const r = await fetch(`${instance.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${viewer}` }, body: '{"query":"{ me { role } }"}' });
    assert.equal(r.status, 200, instance.log());
    const id = r.headers.get('x-request-id');
    const line = await waitFor('the function\'s request line', () => jsonLines(out).find((l) => l.requestId === id));
    assert.equal(line.role, 'VIEWER');
    assert.equal(line.status, 200);
    assert.equal(line.route, '/graphql');
    assert.ok(!(out + instance.log()).includes(viewer), 'no key in the output');
  } finally {
    await instance.stop();
  }
});
