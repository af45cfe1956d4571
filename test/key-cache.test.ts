// The per-process cache of authenticated keys of the /v1/* inference routes (RIL_KEY_CACHE_MS, issue 15): a key
// revoked or deleted elsewhere is refused once its entry is older than the TTL; one revoked through this process
// is refused at once; only valid keys are cached; 0 turns it off. The clock is injected: no timing in these tests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authenticate, createApiKey, forgetKey, KeyCache } from '../api/_lib/auth/keys.js';
import { loadEnv } from '../api/_lib/env.js';
import { createPlatform, listen, type Platform } from '../api/_lib/http/server.js';
import { createTestDatabaseUrl, openTestDatabase, type TestDatabase } from './helpers/db.js';

const code = async (p: Promise<unknown>) => { try { await p; return 'ok'; } catch (err) { return (err as { extensions?: { code?: string } }).extensions?.code ?? String(err); } };

describe('KeyCache', () => {
  let db: TestDatabase;
  let now = 1_000_000;
  const clock = () => now;
  before(async () => { db = await openTestDatabase(); });
  after(async () => { await db.close(); });

  test('a key revoked in the database (by another instance) is refused once its entry is older than the TTL', async () => {
    const { key, secret } = await createApiKey(db.prisma, 'revoked-elsewhere', 'INFERENCE');
    const cache = new KeyCache(db.prisma, 1000, clock);
    assert.equal((await cache.authenticate(`Bearer ${secret}`))?.keyId, key.id);
    await db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    now += 999;
    assert.equal((await cache.authenticate(`Bearer ${secret}`))?.keyId, key.id, 'within the TTL: the documented window');
    now += 1;
    assert.equal(await code(cache.authenticate(`Bearer ${secret}`)), 'UNAUTHENTICATED', 'at the TTL: read again, refused');
    now += 10_000;
    assert.equal(await code(cache.authenticate(`Bearer ${secret}`)), 'UNAUTHENTICATED', 'and stays refused (a refusal is never cached as valid)');
  });

  test('a key deleted from the database is refused after the TTL too', async () => {
    const { key, secret } = await createApiKey(db.prisma, 'deleted', 'INFERENCE');
    const cache = new KeyCache(db.prisma, 500, clock);
    assert.ok(await cache.authenticate(secret));
    await db.prisma.apiKey.delete({ where: { id: key.id } });
    now += 500;
    assert.equal(await code(cache.authenticate(secret)), 'UNAUTHENTICATED');
  });

  test('a key revoked through this process (forgetKey) is refused at once', async () => {
    const { key, secret } = await createApiKey(db.prisma, 'revoked-here', 'INFERENCE');
    const cache = new KeyCache(db.prisma, 60_000, clock);
    assert.ok(await cache.authenticate(secret));
    await db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    forgetKey(db.prisma, key.id);
    assert.equal(await code(cache.authenticate(secret)), 'UNAUTHENTICATED');
    assert.equal(cache.size, 0);
  });

  test('the cache is per process and per database client: forgetKey on one client does not reach another\'s cache', async () => {
    const other = await openTestDatabase();
    try {
      const { key, secret } = await createApiKey(db.prisma, 'two-clients', 'INFERENCE');
      const mine = new KeyCache(db.prisma, 60_000, clock);
      assert.ok(await mine.authenticate(secret));
      forgetKey(other.prisma, key.id);
      assert.equal(mine.size, 1, 'another client\'s revocation is not this cache\'s business (its own TTL bounds it)');
    } finally { await other.close(); }
  });

  test('only valid keys are cached; RIL_KEY_CACHE_MS=0 reads the key on every request', async () => {
    const cache = new KeyCache(db.prisma, 60_000, clock);
    assert.equal(await code(cache.authenticate('Bearer ril_not-a-key')), 'UNAUTHENTICATED');
    assert.equal(cache.size, 0);
    assert.equal(await cache.authenticate(undefined), null);
    assert.equal(await cache.authenticate('Bearer  '), null);
    const valid = (await createApiKey(db.prisma, 'parsed-once', 'INFERENCE')).secret;
    assert.equal(await code(cache.authenticate(`Bearer Bearer ${valid}`)), await code(authenticate(db.prisma, `Bearer Bearer ${valid}`)), 'the header is read as authenticate reads it');
    assert.equal(cache.size, 0);
    const { key, secret } = await createApiKey(db.prisma, 'uncached', 'INFERENCE');
    const off = new KeyCache(db.prisma, 0, clock);
    assert.ok(await off.authenticate(secret));
    await db.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    assert.equal(await code(off.authenticate(secret)), 'UNAUTHENTICATED', 'off: refused at once');
    assert.equal(off.size, 0);
    assert.equal(await code(authenticate(db.prisma, secret)), 'UNAUTHENTICATED');
  });
});

describe('RIL_KEY_CACHE_MS over HTTP (/v1/models)', () => {
  let platform: Platform;
  let server: Awaited<ReturnType<typeof listen>>;
  before(async () => {
    const { home, databaseUrl } = await createTestDatabaseUrl();
    platform = await createPlatform(loadEnv({ RIL_HOME: home, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), RIL_KEY_CACHE_MS: '600000', RIL_TS_WORKER_POLL_MS: '0' }));
    server = await listen(platform, 0);
  });
  after(async () => { await server?.close(); await platform?.close(); });

  const models = (secret: string) => fetch(`${server.url}/v1/models`, { headers: { authorization: `Bearer ${secret}` } }).then((r) => r.status);

  test('a cached key revoked through this instance\'s GraphQL is refused on the next request, even with a long TTL', async () => {
    const { key, secret } = await createApiKey(platform.db.prisma, 'cached', 'INFERENCE');
    assert.equal(await models(secret), 200);
    assert.equal(await models(secret), 200, 'served from the cache');
    const admin = (await createApiKey(platform.db.prisma, 'admin', 'ADMIN')).secret;
    const revoke = await fetch(`${server.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({ query: 'mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', variables: { id: key.id } }),
    });
    assert.equal(revoke.status, 200);
    assert.equal(await models(secret), 401);
  });

  test('a role is still enforced for a cached key', async () => {
    const viewer = (await createApiKey(platform.db.prisma, 'viewer', 'VIEWER')).secret;
    assert.equal(await models(viewer), 403);
    assert.equal(await models(viewer), 403);
  });
});
