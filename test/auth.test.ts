import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';
import { ensureBootstrapAdmin, hashSecret } from '../api/_lib/auth/keys.js';
import { ACCESS } from '../api/_lib/auth/access.js';
import { buildSchema } from '../api/_lib/graphql/schema.js';
import { formatError } from '../api/_lib/errors.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(async () => { await t.close(); });

const REGISTER = `mutation { registerTeacher(input: { name: "t1", model: "m", kind: IMPORTED }) { name } }`;

describe('authentication and roles', () => {
  test('no key: UNAUTHENTICATED on queries and mutations', async () => {
    assert.equal(errorCode(await t.gql('{ teachers { name } }', {}, null)), 'UNAUTHENTICATED');
    assert.equal(errorCode(await t.gql(REGISTER, {}, null)), 'UNAUTHENTICATED');
  });

  test('an unknown key is refused with 401', async () => {
    const r = await t.gql('{ me { role } }', {}, 'ril_not-a-real-key');
    assert.equal(r.status, 401);
    assert.equal(errorCode(r), 'UNAUTHENTICATED');
  });

  test('roles: viewer reads but cannot write; inference cannot read datasets; editor writes; only admin manages keys', async () => {
    const viewer = await t.keyFor('VIEWER');
    const editor = await t.keyFor('EDITOR');
    const inference = await t.keyFor('INFERENCE');
    assert.deepEqual((await t.gql('{ me { role } }', {}, viewer)).data.me, { role: 'VIEWER' });
    assert.equal((await t.gql('{ teachers { name } }', {}, viewer)).errors, undefined);
    assert.equal(errorCode(await t.gql(REGISTER, {}, viewer)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql('{ datasets { totalCount } }', {}, inference)), 'FORBIDDEN');
    assert.equal((await t.gql(REGISTER, {}, editor)).data.registerTeacher.name, 't1');
    assert.equal(errorCode(await t.gql('mutation { createApiKey(input: { name: "x", role: ADMIN }) { secret } }', {}, editor)), 'FORBIDDEN');
    assert.equal(errorCode(await t.gql('{ apiKeys { id } }', {}, editor)), 'FORBIDDEN');
  });

  test('access is checked before revealing whether an id exists', async () => {
    const inference = await t.keyFor('INFERENCE');
    const missing = await t.gql('{ dataset(id: "does-not-exist") { id } }', {}, inference);
    assert.equal(errorCode(missing), 'FORBIDDEN');
  });

  test('secrets are stored hashed, shown once, and revocation takes effect', async () => {
    const r = await t.gql('mutation { createApiKey(input: { name: "ci", role: VIEWER }) { secret key { id prefix role } } }');
    const { secret, key } = r.data.createApiKey;
    assert.match(secret, /^ril_[A-Za-z0-9_-]{43}$/);
    assert.equal(secret.startsWith(key.prefix), true);
    const row = await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } });
    assert.equal(row.hash, hashSecret(secret));
    assert.equal(JSON.stringify(row).includes(secret), false, 'the secret itself is not stored');
    const listed = await t.gql('{ apiKeys { id prefix } }');
    assert.equal(JSON.stringify(listed).includes(secret), false, 'the secret is never returned again');
    assert.equal((await t.gql('{ me { name } }', {}, secret)).data.me.name, 'ci');
    await t.gql('mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }', { id: key.id });
    assert.equal((await t.gql('{ me { name } }', {}, secret)).status, 401);
  });

  test('a fresh database gets one bootstrap admin key, printed once', async () => {
    const { openTestDatabase } = await import('./helpers/db.js');
    const db = await openTestDatabase();
    try {
      const first = await ensureBootstrapAdmin(db.prisma);
      assert.match(first!, /^ril_/);
      assert.equal(await ensureBootstrapAdmin(db.prisma), null, 'not again while an admin key exists');
      assert.equal(await db.prisma.apiKey.count({ where: { role: 'ADMIN' } }), 1);
    } finally { await db.close(); }
  });

  test('every root field has an access policy (the schema refuses to build otherwise)', () => {
    const schema = buildSchema();
    for (const root of [schema.getQueryType()!, schema.getMutationType()!]) {
      for (const field of Object.keys(root.getFields())) assert.ok(ACCESS[`${root.name}.${field}`], `${root.name}.${field}`);
    }
    const saved = ACCESS['Query.teachers'];
    delete ACCESS['Query.teachers'];
    try {
      assert.throws(() => buildSchema(), /no access policy for Query.teachers/);
    } finally {
      ACCESS['Query.teachers'] = saved;
    }
  });
});

describe('query limits', () => {
  test('depth limit', async () => {
    const deep = '{ datasets { edges { node { examples { edges { node { dataset { examples { edges { node { dataset { id } } } } } } } } } } } }';
    const r = await t.gql(deep);
    assert.equal(r.status, 400);
    assert.match(r.errors![0].message, /exceeds maximum operation depth/);
  });

  test('cost limit rejects huge nested pages before touching the database', async () => {
    const before = t.platform.db.queryCount();
    const r = await t.gql('{ datasets(first: 100) { edges { node { examples(first: 200) { edges { node { teacherResponses { text } } } } } } } }');
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.match(r.errors![0].message, /query cost \d+ exceeds the limit/);
    assert.ok(t.platform.db.queryCount() - before <= 1, 'only the key lookup ran');
  });

  test('a bad cursor is BAD_USER_INPUT', async () => {
    const r = await t.gql('{ datasets(first: 5, after: "!!!") { totalCount } }');
    assert.equal(errorCode(r), 'BAD_USER_INPUT');
    assert.equal(r.errors![0].message, 'invalid cursor');
  });

  test('unexpected errors are masked; known Prisma errors are translated', () => {
    const orig = console.error;
    console.error = () => {};
    try {
      const masked = formatError({ message: 'ECONNRESET at 10.0.0.5', extensions: { code: 'INTERNAL_SERVER_ERROR' } }, new Error('ECONNRESET at 10.0.0.5'));
      assert.deepEqual(masked.extensions, { code: 'INTERNAL_SERVER_ERROR' });
      assert.equal(masked.message, 'internal server error');
    } finally { console.error = orig; }
    const unique = formatError({ message: 'Unique constraint failed' }, { originalError: Object.assign(new Error('x'), { code: 'P2002' }) });
    assert.equal(unique.extensions?.code, 'CONFLICT');
  });
});
