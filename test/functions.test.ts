// api/graphql.ts and api/healthz.ts are the same API packaged as Vercel-style (req, res) functions: serve
// them from a bare node:http server, as @vercel/node does, and query them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createTestDatabaseUrl } from './helpers/db.js';

type Fn = ((req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) & { shutdown(): Promise<void> };

async function serve(fn: Fn) {
  const server = http.createServer((req, res) => void fn(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, url: `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}` };
}

test('api/graphql.ts answers GraphQL and api/healthz.ts health checks', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  process.env.RIL_HOME = home;
  if (databaseUrl) process.env.DATABASE_URL = databaseUrl; else delete process.env.DATABASE_URL;
  const graphql = (await import('../api/graphql.js')).default as Fn;
  const healthz = (await import('../api/healthz.js')).default as Fn;
  const g = await serve(graphql);
  const h = await serve(healthz);
  try {
    assert.equal((await fetch(`${h.url}/healthz`)).status, 200);
    const r = await fetch(`${g.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ teachers { name } }' }) });
    const body = await r.json() as any;
    assert.equal(body.errors[0].extensions.code, 'UNAUTHENTICATED');
  } finally {
    g.server.close();
    h.server.close();
    await graphql.shutdown();
    await healthz.shutdown();
  }
});

test('a function whose start-up fails answers 503 with the reason (no PostgreSQL; pending migrations; no URL-signing secret), and starts once fixed', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  const saved = { ...process.env };
  process.env.RIL_HOME = home;
  process.env.RIL_DEPLOYMENT = 'functions';
  delete process.env.DATABASE_URL;
  const { defineFunction } = await import('../api/_lib/http/function.js');
  const { openCore } = await import('../api/_lib/core.js');
  const { createHealthRoute } = await import('../api/_lib/http/health.js');
  const fn = defineFunction('healthz', async (env) => { const core = await openCore(env); return { route: createHealthRoute(core), close: () => core.close() }; });
  const s = await serve(fn);
  try {
    const first = await fetch(`${s.url}/healthz`);
    assert.equal(first.status, 503);
    assert.match((await first.json() as any).error.message, /DATABASE_URL must be a postgresql:\/\/ URL/);
    if (databaseUrl) {
      process.env.DATABASE_URL = databaseUrl;
      const unmigrated = await fetch(`${s.url}/healthz`);
      assert.equal(unmigrated.status, 503, 'functions never migrate at start-up');
      assert.match((await unmigrated.json() as any).error.message, /pending migration.*ril migrate/);
      const { applyMigrations } = await import('../api/_lib/db/migrate.js');
      assert.ok((await applyMigrations('postgres', databaseUrl)).length > 0);
      assert.deepEqual(await applyMigrations('postgres', databaseUrl), [], 'migrating twice is a no-op');
      const unsigned = await fetch(`${s.url}/healthz`);
      assert.equal(unsigned.status, 503, 'functions need a shared URL-signing secret');
      assert.match((await unsigned.json() as any).error.message, /RIL_URL_SIGNING_SECRET is required/);
      process.env.RIL_URL_SIGNING_SECRET = 'a'.repeat(64);
      assert.equal((await fetch(`${s.url}/healthz`)).status, 200, 'the failed start-up is not cached');
    }
  } finally {
    s.server.close();
    await fn.shutdown();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});
