// Security part S4 (inputs and keys): server-path imports (#5), limits for callers without a key (#10), and key
// bookkeeping (#16). Every test is an exploit attempt or a check of the fixed behaviour over real HTTP against the
// real platform (or the real `ril` CLI), on SQLite or PostgreSQL (RIL_TEST_DB).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBootstrapAdmin } from '../api/_lib/auth/keys.js';
import { createTestDatabaseUrl } from './helpers/db.js';
import { cacheLines, writeDataset, writeJsonl } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { errorCode, startTestServer, type TestServer } from './helpers/server.js';

const IMPORT = `mutation($name: String!, $path: String!) { importDataset(input: { name: $name, path: $path }) { id exampleCount } }`;
const IMPORT_CACHE = `mutation($d: ID!, $p: String!) { importTeacherResponses(input: { datasetId: $d, path: $p }) { imported } }`;
/** What a file outside the import root holds: it must never come back in an answer. */
const SECRET = 'SECRET-db-password-hunter2';

function secretFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-secret-'));
  const file = path.join(dir, 'secrets.txt');
  fs.writeFileSync(file, `${SECRET}\nroot:x:0:0:root:/root:/bin/bash\n`, { mode: 0o600 });
  return file;
}

describe('#5 server-path imports', () => {
  test('#5 without RIL_IMPORT_ROOT, path imports are refused over the API and no file contents come back', async () => {
    const t = await startTestServer({ RIL_IMPORT_ROOT: '' });
    try {
      const file = secretFile();
      const r = await t.gql(IMPORT, { name: 'leak', path: file });
      assert.equal(errorCode(r), 'BAD_USER_INPUT');
      assert.match(r.errors![0].message, /RIL_IMPORT_ROOT/);
      assert.equal(JSON.stringify(r).includes('SECRET'), false, 'no contents of the file in the answer');
      assert.equal(JSON.stringify(r).includes('root:x'), false);
      const c = await t.gql(IMPORT_CACHE, { d: 'no-such-dataset', p: file });
      assert.equal(errorCode(c), 'BAD_USER_INPUT', 'refused before anything is read (not NOT_FOUND after reading it)');
      assert.match(c.errors![0].message, /RIL_IMPORT_ROOT/);
      assert.equal(await t.platform.db.prisma.dataset.count(), 0);
    } finally { await t.close(); }
  });

  describe('#5 with an import root', () => {
    let t: TestServer;
    let root: string;
    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-import-root-'));
      t = await startTestServer({ RIL_IMPORT_ROOT: root, RIL_MAX_IMPORT_BYTES: '4096' });
    });
    after(() => t.close());

    test('#5 a file outside the root, by absolute or relative path, is refused unread', async () => {
      const file = secretFile();
      for (const p of [file, path.relative(root, file), '../../etc/passwd', '/etc/passwd']) {
        const r = await t.gql(IMPORT, { name: 'outside', path: p });
        assert.equal(errorCode(r), 'BAD_USER_INPUT', p);
        assert.match(r.errors![0].message, /inside the import root/, p);
        assert.equal(/SECRET|root:x/.test(JSON.stringify(r)), false, p);
      }
    });

    test('#5 a symlink inside the root that leads out of it is refused (files and devices)', async () => {
      const file = secretFile();
      fs.symlinkSync(file, path.join(root, 'link.jsonl'));
      fs.symlinkSync('/dev/zero', path.join(root, 'zero.jsonl'));
      for (const p of ['link.jsonl', path.join(root, 'zero.jsonl')]) {
        const r = await t.gql(IMPORT, { name: 'symlink', path: p });
        assert.equal(errorCode(r), 'BAD_USER_INPUT', p);
        assert.match(r.errors![0].message, /outside the import root/, p);
        assert.equal(/SECRET|root:x/.test(JSON.stringify(r)), false, p);
      }
      const c = await t.gql(IMPORT_CACHE, { d: 'x', p: 'link.jsonl' });
      assert.match(c.errors![0].message, /outside the import root/);
    });

    test('#5 a FIFO inside the root is refused at once (not read, so it cannot hang the server)', { timeout: 15_000 }, async () => {
      const fifo = path.join(root, 'pipe.jsonl');
      execFileSync('mkfifo', [fifo]);
      const started = Date.now();
      const r = await t.gql(IMPORT, { name: 'fifo', path: 'pipe.jsonl' });
      assert.equal(errorCode(r), 'BAD_USER_INPUT');
      assert.match(r.errors![0].message, /not a regular file/);
      const c = await t.gql(IMPORT_CACHE, { d: 'x', p: fifo });
      assert.match(c.errors![0].message, /not a regular file/);
      assert.ok(Date.now() - started < 5000, 'answered without waiting for a writer');
      // and the server still answers other requests
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    });

    test('#5 a file above RIL_MAX_IMPORT_BYTES is refused', async () => {
      fs.writeFileSync(path.join(root, 'big.jsonl'), 'x'.repeat(5000));
      const r = await t.gql(IMPORT, { name: 'big', path: 'big.jsonl' });
      assert.equal(errorCode(r), 'BAD_USER_INPUT');
      assert.match(r.errors![0].message, /5000 bytes; the limit is 4096/);
    });

    test('#5 a JSON parse error names the line, never its contents; a valid file inside the root imports', async () => {
      const { file, lines } = await writeDataset(4, { dir: path.join(root, 'ds') });
      const good = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      const bad = path.join(root, 'ds', 'bad.jsonl');
      fs.writeFileSync(bad, [good[0], SECRET, good[1], `{"id": "${SECRET}`].join('\n') + '\n');
      const r = await t.gql(IMPORT, { name: 'bad', path: 'ds/bad.jsonl' });
      assert.equal(errorCode(r), 'BAD_USER_INPUT');
      assert.deepEqual(r.errors![0].extensions!.errors.map((e: { line: number }) => e.line), [2, 4]);
      assert.equal(JSON.stringify(r).includes('SECRET'), false, JSON.stringify(r));
      assert.equal(await t.platform.db.prisma.dataset.count(), 0, 'nothing imported');

      const ok = await t.gql(IMPORT, { name: 'inside', path: path.join('ds', path.basename(file)) });
      assert.equal(ok.errors, undefined, JSON.stringify(ok.errors));
      assert.equal(ok.data.importDataset.exampleCount, lines.length);

      // the teacher cache import: the same line-only errors, and a good file inside the root imports
      const cacheBad = path.join(root, 'cache-bad.jsonl');
      fs.writeFileSync(cacheBad, `${SECRET}\n`);
      const cb = await t.gql(IMPORT_CACHE, { d: ok.data.importDataset.id, p: 'cache-bad.jsonl' });
      assert.equal(errorCode(cb), 'BAD_USER_INPUT');
      assert.match(cb.errors![0].message, /line 1: invalid JSON/);
      assert.equal(JSON.stringify(cb).includes('SECRET'), false);
      writeJsonl(path.join(root, 'cache.jsonl'), cacheLines(lines.map((l) => l.id), ['g'], 1));
      const cg = await t.gql(IMPORT_CACHE, { d: ok.data.importDataset.id, p: 'cache.jsonl' });
      assert.equal(cg.errors, undefined, JSON.stringify(cg.errors));
      assert.equal(cg.data.importTeacherResponses.imported, lines.length);
    });

    test('#5 an image symlinked out of the dataset folder is refused', async () => {
      const dir = path.join(root, 'ds-img');
      const { file } = await writeDataset(2, { dir, images: 1 });
      fs.rmSync(path.join(dir, 'img', '0.png'));
      fs.symlinkSync('/dev/zero', path.join(dir, 'img', '0.png'));
      const r = await t.gql(IMPORT, { name: 'img', path: path.relative(root, file) });
      assert.equal(errorCode(r), 'BAD_USER_INPUT');
      assert.match(r.errors![0].message, /escapes the dataset folder/);
    });
  });

  test('#5 the local CLI reads what its user points at, with the same regular-file check', { timeout: 60_000 }, async () => {
    const { home, databaseUrl } = await createTestDatabaseUrl();
    const env = { RIL_HOME: home, DATABASE_URL: databaseUrl, RIL_IMPORT_ROOT: undefined };
    const { file, lines } = await writeDataset(3);
    const ok = await runCli(['datasets', 'import', file, '--name', 'local', '--json'], env);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).exampleCount, lines.length);
    const fifo = path.join(path.dirname(file), 'pipe.jsonl');
    execFileSync('mkfifo', [fifo]);
    const bad = await runCli(['teachers', 'import', fifo, '--dataset', JSON.parse(ok.stdout).id], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /not a regular file/);
  });
});

describe('#10 callers without a key', () => {
  let t: TestServer;
  before(async () => { t = await startTestServer({ RIL_ANON_MAX_BODY_BYTES: String(16 * 1024), RIL_ANON_MAX_TOKENS: '2000' }); });
  after(() => t.close());

  const post = (body: string, key?: string) => fetch(`${t.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body,
  });

  test('#10 an anonymous body above RIL_ANON_MAX_BODY_BYTES is refused (413) unparsed; a keyed caller may send it', async () => {
    const body = JSON.stringify({ query: '{ __typename }', variables: { pad: 'x'.repeat(100 * 1024) } });
    const anon = await post(body);
    assert.equal(anon.status, 413);
    assert.equal(((await anon.json()) as any).errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
    const keyed = await post(body, t.adminKey);
    assert.equal(keyed.status, 200);
    assert.equal(((await keyed.json()) as any).data.__typename, 'Query');
  });

  test('#10 an anonymous document above RIL_ANON_MAX_TOKENS is refused before it is parsed', async () => {
    const query = `{ ${'a '.repeat(3000)}}`; // 3002 tokens in ~6 KB: under the body limit
    const anon = await post(JSON.stringify({ query }));
    assert.equal(anon.status, 400);
    const body = (await anon.json()) as any;
    assert.match(body.errors[0].message, /more than 2000 tokens/);
    // a keyed caller's document is not held to the anonymous limit (it fails validation instead)
    const keyed = (await (await post(JSON.stringify({ query }), t.adminKey)).json()) as any;
    assert.doesNotMatch(keyed.errors[0].message, /tokens/);
    assert.equal(keyed.errors[0].extensions.code, 'GRAPHQL_VALIDATION_FAILED');
    // a small anonymous document still gets its real answer (UNAUTHENTICATED for a protected field)
    const small = (await (await post(JSON.stringify({ query: '{ teachers { name } }' }))).json()) as any;
    assert.equal(small.errors[0].extensions.code, 'UNAUTHENTICATED');
  });
});

describe('#16 key bookkeeping', () => {
  test('#16 lastUsedAt is written when a key is used, at most once a minute', async () => {
    const t = await startTestServer();
    try {
      const { createApiKey } = await import('../api/_lib/auth/keys.js');
      const { key, secret } = await createApiKey(t.platform.db.prisma, 'used', 'VIEWER');
      assert.equal(key.lastUsedAt, null);
      const before = Date.now();
      assert.equal((await t.gql('{ me { name } }', {}, secret)).data.me.name, 'used');
      const first = (await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt;
      assert.ok(first && first.getTime() >= before - 1000, `lastUsedAt written (${first})`);
      await t.gql('{ me { name } }', {}, secret);
      const second = (await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt;
      assert.equal(second!.getTime(), first.getTime(), 'not rewritten within the minute');
      // an older stamp is refreshed
      await t.platform.db.prisma.apiKey.update({ where: { id: key.id }, data: { lastUsedAt: new Date(Date.now() - 120_000) } });
      await t.gql('{ me { name } }', {}, secret);
      const third = (await t.platform.db.prisma.apiKey.findUniqueOrThrow({ where: { id: key.id } })).lastUsedAt;
      assert.ok(third!.getTime() >= before - 1000);
    } finally { await t.close(); }
  });

  test('#16 the platform makes a bootstrap admin key only on an empty key table', async () => {
    const { openTestDatabase } = await import('./helpers/db.js');
    const db = await openTestDatabase();
    try {
      const first = await ensureBootstrapAdmin(db.prisma);
      assert.match(first!, /^ril_/, 'a fresh installation gets one');
      await db.prisma.apiKey.updateMany({ data: { revokedAt: new Date() } });
      assert.equal(await ensureBootstrapAdmin(db.prisma), null, 'no new admin secret once keys exist, even with every admin revoked');
      assert.equal(await db.prisma.apiKey.count(), 1);
    } finally { await db.close(); }
  });

  test('#16 `ril keys bootstrap` makes an admin key explicitly; refused while one is active unless --force', { timeout: 90_000 }, async () => {
    const { home, databaseUrl } = await createTestDatabaseUrl();
    const env = { RIL_HOME: home, DATABASE_URL: databaseUrl };
    const made = await runCli(['keys', 'bootstrap', '--json'], env);
    assert.equal(made.code, 0, made.stderr);
    const key = JSON.parse(made.stdout);
    assert.equal(key.role, 'ADMIN');
    assert.match(key.secret, /^ril_/);
    const refused = await runCli(['keys', 'bootstrap'], env);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /active ADMIN key exists/);
    const forced = await runCli(['keys', 'bootstrap', '--force', '--json'], env);
    assert.equal(forced.code, 0, forced.stderr);
    assert.notEqual(JSON.parse(forced.stdout).secret, key.secret);
  });

  test('#16 `ril worker` refuses a key file others can read, and warns when the key is on the command line', { timeout: 60_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-keyfile-'));
    const file = path.join(dir, 'worker.key');
    fs.writeFileSync(file, 'ril_not-a-real-key\n', { mode: 0o644 });
    fs.chmodSync(file, 0o644);
    const open = await runCli(['worker', '--key-file', file, '--api', 'http://127.0.0.1:9', '--once'], { RIL_API_KEY: undefined });
    assert.notEqual(open.code, 0);
    assert.match(open.stderr, /accessible to other users \(mode 644\)/);
    assert.doesNotMatch(open.stderr + open.stdout, /ril_not-a-real-key/, 'the key is not printed');
    const none = await runCli(['worker', '--api', 'http://127.0.0.1:9', '--once'], { RIL_API_KEY: undefined });
    assert.notEqual(none.code, 0);
    assert.match(none.stderr, /RIL_API_KEY or --key-file/);

    // What the Python worker is handed: RIL_PYTHON names the interpreter; this one reports its argv and whether the
    // key reached it through the environment.
    const py = path.join(dir, 'report.sh');
    fs.writeFileSync(py, '#!/bin/sh\necho "argv: $*"\necho "env-key: $RIL_API_KEY"\n', { mode: 0o755 });
    fs.chmodSync(file, 0o600);
    const viaFile = await runCli(['worker', '--key-file', file, '--api', 'http://127.0.0.1:9', '--once'], { RIL_API_KEY: undefined, RIL_PYTHON: py });
    assert.equal(viaFile.code, 0, viaFile.stderr);
    assert.match(viaFile.stdout, /env-key: ril_not-a-real-key$/m);
    assert.doesNotMatch(viaFile.stdout.split('\n').find((l) => l.startsWith('argv:'))!, /ril_not-a-real-key/, 'never on the child\'s command line');
    assert.doesNotMatch(viaFile.stderr, /deprecated/);
    const onArgv = await runCli(['worker', '--key', 'ril_argv-key', '--api', 'http://127.0.0.1:9', '--once'], { RIL_API_KEY: undefined, RIL_PYTHON: py });
    assert.equal(onArgv.code, 0, onArgv.stderr);
    assert.match(onArgv.stderr, /--key is deprecated/);
    assert.match(onArgv.stdout, /env-key: ril_argv-key$/m);
  });
});
