// functions/graphql.ts is the same API packaged as a Vercel-style (req, res) function: serve it from a
// bare node:http server, as @vercel/node does, and query it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createTestDatabaseUrl } from './helpers/db.js';

test('functions/graphql.ts answers GraphQL and health checks', async () => {
  const { home, databaseUrl } = await createTestDatabaseUrl();
  process.env.RIL_HOME = home;
  if (databaseUrl) process.env.DATABASE_URL = databaseUrl; else delete process.env.DATABASE_URL;
  const fn = await import('../api/graphql.js');
  const server = http.createServer((req, res) => void fn.default(req as never, res as never));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
  try {
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const r = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ teachers { name } }' }) });
    const body = await r.json() as any;
    assert.equal(body.errors[0].extensions.code, 'UNAUTHENTICATED');
  } finally {
    server.close();
    await fn.shutdown();
  }
});
