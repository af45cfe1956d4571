// Fuzzing (issue 11, "keep them closed"): GraphQL operations generated from schema.graphql (random root fields,
// arguments of the right and the wrong types, aliases, depths, fragments, variables declared with wrong types, huge
// strings and numbers, broken syntax) and malformed HTTP bodies and images against /graphql, /v1/* and /blobs.
// Seeded PRNG (RIL_FUZZ_SEED), bounded in count (RIL_FUZZ_COUNT, default 1500) and time (RIL_FUZZ_MS, default 60 s).
// The server never answers 500 and never dies (/healthz answers at the end), and a rejected mutation changes no row
// of any table (counted through Prisma before and after), and no operation meets a masked INTERNAL_SERVER_ERROR.
// Prints the inputs tried and the status histogram. The findings the fuzz made (F1: an undefined fragment crashed the
// depth limit -> 500; F2: NUL bytes and unpaired surrogates reached the database -> masked internal errors) have their
// regression tests at the end.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import {
  buildSchema, getNamedType, isEnumType, isInputObjectType, isListType, isNonNullType, isObjectType, isScalarType,
  isInterfaceType, isUnionType, type GraphQLInputType, type GraphQLNamedType, type GraphQLObjectType,
} from 'graphql';
import { TEST_PROVIDER } from './helpers/db.js';
import { png, writeDataset } from './helpers/fixtures.js';
import { findPython, studentBundle } from './helpers/bundle.js';
import { deploy, registerBundle } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCHEMA = buildSchema(fs.readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));
const SEED = Number(process.env.RIL_FUZZ_SEED ?? 1111);
const COUNT = Number(process.env.RIL_FUZZ_COUNT ?? 1500);
const BUDGET_MS = Number(process.env.RIL_FUZZ_MS ?? 50_000); // + the fixed oversized-body cases: under 60 s in all

/** mulberry32: small, seedable, good enough to pick shapes. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    chance: (p: number) => next() < p,
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof prng>;

let t: TestServer;
let ids: string[] = [];
const histogram: Record<string, number> = {};
let tried = 0;
/** Set when the fuzzing starts (not at load: building the student fixture in `before` may take minutes). */
let started = Date.now();
/** Operations answered with a masked INTERNAL_SERVER_ERROR (HTTP 200): unexpected faults behind a resolver. */
const internalErrors: string[] = [];
const outOfBudget = () => tried >= COUNT || Date.now() - started > BUDGET_MS;

before(async () => {
  // the student is built (minutes on a fresh machine) before the server starts: a connection left idle that long
  // is closed by the server and the upload would meet ECONNRESET on it. byte: the smaller bundle fits 1 MiB.
  const bundle = findPython().python ? await studentBundle({ tokenizer: 'byte' }) : undefined;
  t = await startTestServer({ RIL_INFER_RATE_LIMIT: '0', RIL_MAX_BLOB_BYTES: String(1 << 20) });
  const ds = await writeDataset(6, { dir: fs.mkdtempSync(path.join(t.home, 'fuzz-ds-')) });
  const r = await t.gql(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id examples(first: 2) { edges { node { id } } } } }`, { i: { name: 'fuzz', path: ds.file } });
  assert.ok(r.data?.importDataset, JSON.stringify(r.errors));
  ids = [r.data.importDataset.id, ...r.data.importDataset.examples.edges.map((e: any) => e.node.id)];
  // a live student named "fuzz", so malformed images reach the decoder instead of stopping at "no such deployment"
  if (bundle) {
    const art = await registerBundle(t, bundle.archive, 'fuzz');
    const d = await deploy(t, 'fuzz', art.data.registerArtifact.id);
    assert.equal(d.data?.deploy?.status, 'LIVE', JSON.stringify(d.errors));
    deployed = true;
  }
});
let deployed = false;
after(async () => { await t?.close(); });

/** The models of this checkout's prisma/schema.prisma (the tables its migrations create; the generated client may be
 * shared with a checkout whose schema has more). */
const MODELS = [...fs.readFileSync(path.join(ROOT, 'prisma/schema.prisma'), 'utf8').matchAll(/^model (\w+) \{/gm)].map((m) => m[1][0].toLowerCase() + m[1].slice(1));

/** Row counts of every model, through Prisma. */
async function rowCounts(): Promise<Record<string, number>> {
  const prisma = t.platform.db.prisma as unknown as Record<string, { count?: () => Promise<number> }>;
  const names = MODELS.filter((k) => typeof prisma[k]?.count === 'function').sort();
  assert.ok(names.length >= 10, `the models of schema.prisma are counted (${names.join(', ')})`);
  // one batch (one round trip) per snapshot: the fuzz takes a snapshot after every mutation
  const counts = await t.platform.db.prisma.$transaction(names.map((n) => prisma[n].count!()) as never) as unknown as number[];
  return Object.fromEntries(names.map((n, i) => [n, counts[i]]));
}

const HUGE_STRING = 'A'.repeat(64_000);
const NASTY_STRINGS = ['', ' ', '\u0000', '../../../../etc/passwd', '/dev/zero', '${DATABASE_URL}', '"; DROP TABLE "Dataset"; --', '\ud800', '🙂'.repeat(1000), HUGE_STRING, 'http://169.254.169.254/latest/meta-data/'];
const NASTY_NUMBERS = [0, -1, 2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, 1e308, -1e308, 0.5, Number.MAX_SAFE_INTEGER];

/** A value for an input type: usually of the right shape, sometimes of the wrong one. */
function valueFor(type: GraphQLInputType, rng: Rng, depth = 0): unknown {
  if (rng.chance(0.08)) return rng.pick([null, 42, 'str', true, [], {}, HUGE_STRING, 1e308]);
  if (isNonNullType(type)) return valueFor(type.ofType, rng, depth);
  if (isListType(type)) return depth > 3 ? [] : Array.from({ length: rng.pick([0, 1, 2, 50]) }, () => valueFor(type.ofType, rng, depth + 1));
  if (isEnumType(type)) return rng.chance(0.9) ? rng.pick(type.getValues()).value : 'NOT_A_VALUE';
  if (isInputObjectType(type)) {
    const o: Record<string, unknown> = {};
    for (const f of Object.values(type.getFields())) if (isNonNullType(f.type) || rng.chance(0.5)) o[f.name] = valueFor(f.type, rng, depth + 1);
    if (rng.chance(0.05)) o.unknownField = 1;
    return o;
  }
  switch ((type as GraphQLNamedType).name) {
    case 'ID': return rng.chance(0.6) ? rng.pick(ids) : rng.pick(NASTY_STRINGS);
    case 'Int': return rng.chance(0.6) ? rng.int(100) : rng.pick(NASTY_NUMBERS);
    case 'Float': return rng.chance(0.6) ? rng.next() : rng.pick(NASTY_NUMBERS);
    case 'Boolean': return rng.chance(0.5);
    case 'JSON': return rng.pick([{}, { step: 1e9 }, [1, 2], 'x', { a: { b: { c: HUGE_STRING.slice(0, 1000) } } }, null]);
    case 'DateTime': return rng.pick(['2020-01-01T00:00:00Z', 'not a date', 1e15]);
    default: return rng.pick(NASTY_STRINGS);
  }
}

/** A GraphQL literal of a JS value (for inline arguments). */
function literal(v: unknown, type: GraphQLInputType): string {
  const named = getNamedType(type);
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, isListType(type) ? type.ofType : isNonNullType(type) && isListType(type.ofType) ? type.ofType.ofType : type)).join(', ')}]`;
  if (typeof v === 'object') {
    const fields = isInputObjectType(named) ? named.getFields() : {};
    return `{${Object.entries(v).map(([k, x]) => `${k}: ${literal(x, (fields[k]?.type ?? named) as GraphQLInputType)}`).join(', ')}}`;
  }
  if (isEnumType(named) && typeof v === 'string' && /^[A-Za-z_]\w*$/.test(v)) return v;
  return JSON.stringify(v);
}

/** A random selection set of an output type (fields, aliases, fragments, __typename), `depth` levels deep. */
function selection(type: GraphQLNamedType, rng: Rng, depth: number, fragments: string[]): string {
  if (isScalarType(type) || isEnumType(type)) return '';
  if (isInterfaceType(type) || isUnionType(type)) return ' { __typename }';
  const obj = type as GraphQLObjectType;
  const fields = Object.values(obj.getFields());
  const picked = Array.from({ length: 1 + rng.int(4) }, () => rng.pick(fields));
  const parts = picked.map((f) => {
    const inner = getNamedType(f.type);
    const needsSelection = isObjectType(inner);
    if (needsSelection && depth <= 0 && !rng.chance(0.1)) return '__typename';
    const args = f.args.filter((a) => isNonNullType(a.type) || rng.chance(0.3)).map((a) => `${a.name}: ${literal(valueFor(a.type, rng), a.type)}`);
    const alias = rng.chance(0.3) ? `a${rng.int(1000)}: ` : '';
    return `${alias}${f.name}${args.length ? `(${args.join(', ')})` : ''}${needsSelection ? selection(inner, rng, depth - 1, fragments) || ' { __typename }' : ''}`;
  });
  if (rng.chance(0.15)) {
    const name = `F${fragments.length}`;
    fragments.push(`fragment ${name} on ${obj.name} { __typename ${picked[0]?.name && !isObjectType(getNamedType(picked[0].type)) ? picked[0].name : ''} }`);
    parts.push(`...${name}`);
  }
  if (rng.chance(0.1)) parts.push(`... on ${obj.name} { __typename }`);
  return ` { ${parts.join(' ')} }`;
}

/** One random operation: a few aliased root fields, arguments inline or as variables (declared right or wrong). */
function operation(rng: Rng): { query: string; variables: Record<string, unknown>; mutation: boolean } {
  const mutation = rng.chance(0.4);
  const root = mutation ? SCHEMA.getMutationType()! : SCHEMA.getQueryType()!;
  const fields = Object.values(root.getFields());
  const decls: string[] = [];
  const variables: Record<string, unknown> = {};
  const fragments: string[] = [];
  const parts = Array.from({ length: 1 + (rng.chance(0.2) ? rng.int(30) : rng.int(2)) }, (_, i) => {
    const f = rng.pick(fields);
    const args = f.args.filter((a) => isNonNullType(a.type) || rng.chance(0.3)).map((a) => {
      if (rng.chance(0.5)) {
        const v = `v${i}_${a.name}`;
        const declared = rng.chance(0.85) ? a.type.toString() : rng.pick(['Int', 'String!', '[ID!]!', 'Boolean', 'JSON']);
        decls.push(`$${v}: ${declared}`);
        variables[v] = valueFor(a.type, rng);
        return `${a.name}: $${v}`;
      }
      return `${a.name}: ${literal(valueFor(a.type, rng), a.type)}`;
    });
    return `r${i}: ${f.name}${args.length ? `(${args.join(', ')})` : ''}${selection(getNamedType(f.type), rng, rng.int(8), fragments)}`;
  });
  let query = `${mutation ? 'mutation' : 'query'}${decls.length ? `(${decls.join(', ')})` : ''} { ${parts.join(' ')} } ${fragments.join(' ')}`;
  if (rng.chance(0.07)) query = query.slice(0, rng.int(query.length)); // truncated
  if (rng.chance(0.03)) query = query.replace(/\{/, '{'.repeat(200));
  return { query, variables, mutation };
}

async function send(url: string, init: RequestInit & { label: string }): Promise<number> {
  tried++;
  let status: number;
  try {
    const r = await fetch(url, init);
    status = r.status;
    await r.arrayBuffer();
  } catch (err) {
    // the server may cut a body that exceeds its limit before reading it: a reset, not a crash (checked below)
    status = 0;
    assert.equal((await fetch(`${t.url}/healthz`)).status, 200, `${init.label}: the server died after ${(err as Error).message}`);
  }
  histogram[status] = (histogram[status] ?? 0) + 1;
  assert.ok(status < 500, `${init.label}: answered ${status}`);
  return status;
}

test(`fuzz: GraphQL operations generated from schema.graphql (seed ${SEED})`, async () => {
  started = Date.now();
  const rng = prng(SEED);
  const keys = [t.adminKey, await t.keyFor('VIEWER'), await t.keyFor('WORKER'), null];
  let counts = await rowCounts();
  let rejectedMutations = 0;
  const graphqlShare = Math.floor(COUNT * 0.7);
  // the GraphQL half gets 70% of the count and of the time, so the HTTP cases always run too
  while (tried < graphqlShare && Date.now() - started < BUDGET_MS * 0.7 && !outOfBudget()) {
    const op = operation(rng);
    const key = rng.pick(keys);
    tried++;
    const r = await fetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query: op.query, variables: op.variables }),
    });
    const text = await r.text();
    histogram[r.status] = (histogram[r.status] ?? 0) + 1;
    assert.ok(r.status < 500, `answered ${r.status} to ${op.query.slice(0, 500)} ${JSON.stringify(op.variables).slice(0, 300)}: ${text.slice(0, 300)}`);
    let body: { data?: Record<string, unknown> | null; errors?: { extensions?: { code?: string } }[] } = {};
    try { body = JSON.parse(text); } catch { assert.fail(`not JSON: ${text.slice(0, 200)}`); }
    // a masked internal error inside a 200 is not a crash, but it is a fault (asserted in the test below)
    if ((body.errors ?? []).some((e) => e.extensions?.code === 'INTERNAL_SERVER_ERROR')) internalErrors.push(`${op.query.slice(0, 300)} ${JSON.stringify(op.variables).slice(0, 300)}`);
    if (op.mutation) {
      // a root field that fails on a non-null type nulls the whole `data` (GraphQL's null bubbling), so a root
      // field that committed before it would look rejected: the mutation is rejected only when every root errored
      const roots = new Set(op.query.match(/\br\d+(?=: )/g) ?? []);
      const failedRoots = new Set((body.errors ?? []).map((e) => (e as { path?: unknown[] }).path?.[0]).filter((x) => x !== undefined));
      const succeeded = (body.data && Object.values(body.data).some((v) => v !== null)) || [...roots].some((r) => !failedRoots.has(r) && (body.errors ?? []).every((e) => (e as { path?: unknown[] }).path !== undefined));
      const now = await rowCounts();
      if (!succeeded) {
        rejectedMutations++;
        assert.deepEqual(now, counts, `a rejected mutation changed the database: ${op.query.replace(/(.)\1{40,}/g, '$1…').slice(0, 1500)} -> ${text.replace(/(.)\1{40,}/g, '$1…').slice(0, 1500)}`);
      }
      counts = now;
    }
  }
  console.log(`fuzz graphql (${TEST_PROVIDER}): ${tried} operations, ${rejectedMutations} rejected mutations with the database unchanged`);
  assert.ok(tried >= Math.min(graphqlShare, 200), `the fuzz ran (${tried} operations)`);
});

/** A PNG header declaring `w` x `h` pixels (valid signature and IHDR CRC) followed by garbage. */
function pngDeclaring(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4); ihdr[8] = 8; ihdr[9] = 2;
  const chunk = Buffer.concat([Buffer.from('IHDR'), ihdr]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(chunk) >>> 0);
  const len = Buffer.alloc(4); len.writeUInt32BE(13);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, chunk, crc, crypto.randomBytes(64)]);
}

test(`fuzz: malformed HTTP bodies and images against /graphql, /v1/* and /blobs (seed ${SEED})`, async () => {
  const rng = prng(SEED + 1);
  const key = t.adminKey;
  const good = await png(3, 28);
  const images = [
    Buffer.alloc(0), good.subarray(0, 20), good.subarray(0, good.length - 10), Buffer.from('GIF89a....'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]),
    pngDeclaring(100_000, 100_000), pngDeclaring(0, 0), pngDeclaring(2 ** 31 - 1, 1), crypto.randomBytes(512), Buffer.concat([good, crypto.randomBytes(100)]),
  ];
  const b64 = (b: Buffer) => b.toString('base64');
  const bodies: (() => { path: string; method: string; headers: Record<string, string>; body?: string | Buffer; label: string })[] = [
    () => ({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: rng.pick(['{', '', 'null', '[]', '"x"', '{"query": 1}', '{"query": "{ me { role } }", "variables": "x"}', '{"query":"{ __schema { types { name } } }"}', '\u0000\u0001']), label: 'graphql json' }),
    () => ({ path: '/graphql', method: 'POST', headers: { 'content-type': rng.pick(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/graphql']) }, body: '{"query":"{ me { role } }"}', label: 'graphql content-type' }),
    () => ({ path: `/graphql?query=${encodeURIComponent(rng.pick(['{ me { role } }', 'mutation { revokeApiKey(id: "x") { id } }', '{']))}`, method: 'GET', headers: {}, label: 'graphql GET' }),
    () => ({ path: '/graphql', method: rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS']), headers: {}, body: undefined, label: 'graphql method' }),
    () => ({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: me { role }`).join(' ')} }` }), label: 'graphql many aliases' }),
    () => ({ path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: `{ ${'dataset(id: "x") { examples { edges { node { dataset '.repeat(40)} }` }), label: 'graphql deep' }),
    () => ({ path: '/v1/infer', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ deployment: rng.pick(['fuzz', '', HUGE_STRING.slice(0, 5000)]), question: rng.pick(['q', '', 42]), image: rng.pick([b64(rng.pick(images)), 'not base64!!', `data:image/png;base64,${b64(rng.pick(images))}`, 'data:text/html;base64,PHNjcmlwdD4=', 'http://127.0.0.1/x.png', 42]), max_tokens: rng.pick([1, -1, 1e9, 'x', undefined]) }), label: 'infer body' }),
    () => ({ path: '/v1/infer', method: 'POST', headers: { 'content-type': 'application/json' }, body: rng.pick(['{', '', '[]', 'null', '"x"', '{"deployment":']), label: 'infer json' }),
    () => ({ path: '/v1/chat/completions', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'fuzz', stream: rng.chance(0.5), messages: rng.pick([[], 'x', [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${b64(rng.pick(images))}` } }, { type: 'text', text: 'q' }] }], [{ role: 'user', content: [{ type: 'image_url', image_url: 'x' }] }], [{ role: 'bogus' }]]) }), label: 'chat body' }),
    () => ({ path: '/v1/models', method: rng.pick(['GET', 'POST', 'DELETE']), headers: {}, label: 'models' }),
    () => {
      const bytes = rng.pick(images);
      const right = crypto.createHash('sha256').update(bytes).digest('hex');
      return { path: `/blobs/${rng.pick([right, 'a'.repeat(64), 'not-a-sha', '..%2F..%2Fetc%2Fpasswd', right.toUpperCase()])}`, method: 'PUT', headers: { 'content-type': rng.pick(['image/png', 'text/html', 'application/octet-stream', '']) }, body: bytes, label: 'blob put' };
    },
    () => ({ path: `/blobs/${rng.pick(['0'.repeat(64), 'zz', '%00', '..', 'a'.repeat(5000)])}`, method: rng.pick(['GET', 'HEAD', 'DELETE', 'POST']), headers: {}, label: 'blob get' }),
  ];
  let counts = await rowCounts();
  while (!outOfBudget()) {
    const c = rng.pick(bodies)();
    const headers = { ...c.headers, ...(rng.chance(0.9) ? { authorization: `Bearer ${key}` } : {}) };
    const status = await send(`${t.url}${c.path}`, { method: c.method, headers, body: c.method === 'GET' || c.method === 'HEAD' ? undefined : (c.body as BodyInit | undefined), label: c.label });
    // only uploads can write rows on these routes; the rest are compared once at the end
    if (c.method === 'PUT') {
      const now = await rowCounts();
      if (status >= 400 || status === 0) assert.deepEqual(now, counts, `a rejected ${c.label} (${status}) changed the database`);
      counts = now;
    }
  }
  assert.deepEqual(await rowCounts(), counts, 'rejected requests changed the database');
  // bodies over the limits, declared and streamed (chunked, no content-length)
  const big = (n: number) => new ReadableStream({ start(ctl) { for (let i = 0; i < n; i++) ctl.enqueue(new Uint8Array(1 << 20)); ctl.close(); } });
  for (const p of ['/graphql', '/v1/infer', '/v1/chat/completions', `/blobs/${'b'.repeat(64)}`]) {
    const s = await send(`${t.url}${p}`, { method: p.startsWith('/blobs') ? 'PUT' : 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: big(20), duplex: 'half', label: `chunked 20 MiB to ${p}` } as RequestInit & { label: string });
    assert.ok(s === 0 || (s >= 400 && s < 500), `${p}: a 20 MiB chunked body is refused (${s})`);
  }
  assert.deepEqual(await rowCounts(), counts, 'oversized bodies changed nothing');
  assert.equal((await fetch(`${t.url}/healthz`)).status, 200, 'the server is still up');
  console.log(`fuzz (${TEST_PROVIDER}): ${tried} inputs tried${deployed ? '' : ' (no trainer Python: images stop at "no such deployment")'} in ${Date.now() - started} ms (seed ${SEED}); status histogram ${JSON.stringify(histogram)}`);
});

test('fuzz: no operation hits an unexpected fault behind a resolver (masked INTERNAL_SERVER_ERROR)', () => {
  for (const e of internalErrors.slice(0, 5)) console.log(`  internal error: ${e}`);
  assert.deepEqual(internalErrors, []);
});

const gqlRaw = async (query: string, variables: Record<string, unknown> = {}, key: string | null = null) => {
  const r = await fetch(`${t.url}/graphql`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return { status: r.status, body: await r.json() as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } };
};

test('F1 an undefined fragment or a fragment cycle is GRAPHQL_VALIDATION_FAILED (400), not a 500 (no key needed)', async () => {
  for (const [query, rule] of [
    ['{ me { ...Missing } }', /Unknown fragment "Missing"/],
    ['query { me { role ...Missing } } fragment Other on ApiKey { role }', /Unknown fragment "Missing"/],
    ['{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }', /Cannot spread fragment "A" within itself/],
  ] as const) {
    for (const key of [null, t.adminKey]) {
      const r = await gqlRaw(query, {}, key);
      assert.equal(r.status, 400, `${query}: ${JSON.stringify(r.body)}`);
      assert.ok(r.body.errors?.some((e) => e.extensions?.code === 'GRAPHQL_VALIDATION_FAILED' && rule.test(e.message)), JSON.stringify(r.body.errors));
    }
  }
  // the depth limit still holds, also through fragments
  const deep = `query { ...F } fragment F on Query { dataset(id: "x") { ${'examples { edges { node { dataset { '.repeat(8)}id${' } } } }'.repeat(8)} } }`;
  const r = await gqlRaw(deep, {}, t.adminKey);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.match(r.body.errors?.[0]?.message ?? '', /exceeds maximum operation depth/);
});

test('F2 a NUL byte or an unpaired surrogate in any string is BAD_USER_INPUT at the boundary and changes nothing', async () => {
  const editor = await t.keyFor('EDITOR');
  const before = await rowCounts();
  const REGISTER = 'mutation($i: RegisterTeacherInput!) { registerTeacher(input: $i) { id } }';
  const cases: { label: string; send: () => Promise<{ status: number; code?: string; message: string }>; reason: RegExp }[] = [];
  for (const [bad, reason] of [['\u0000', /NUL character/], ['\ud800', /unpaired UTF-16 surrogate \(U\+D800\)/], ['x\udfff', /unpaired UTF-16 surrogate \(U\+DFFF\)/]] as const) {
    const gq = (query: string, variables: Record<string, unknown> = {}) => async () => {
      const r = await gqlRaw(query, variables, editor);
      return { status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message ?? JSON.stringify(r.body) };
    };
    cases.push(
      { label: `variable ${JSON.stringify(bad)}`, send: gq(REGISTER, { i: { name: 'f2-teacher', model: `m${bad}`, kind: 'IMPORTED' } }), reason },
      { label: `query variable ${JSON.stringify(bad)}`, send: gq('query($n: String!) { teacher(name: $n) { id } }', { n: bad }), reason },
      { label: `object key in a JSON variable ${JSON.stringify(bad)}`, send: gq('mutation($i: CreateExperimentInput!) { createExperiment(input: $i) { id } }', { i: { name: 'f2', datasetId: ids[0], studentSize: 'nano', algorithm: 'SFT', config: { [`k${bad}`]: 1 } } }), reason },
    );
  }
  // a GraphQL string literal can carry a NUL through its \u0000 escape (an unpaired surrogate escape does not parse)
  cases.push({ label: 'string literal \\u0000', reason: /string literal at line 1, column \d+ contains a NUL character/, send: async () => {
    const r = await gqlRaw('mutation { registerTeacher(input: { name: "f2-teacher", model: "m\\u0000", kind: IMPORTED }) { id } }', {}, editor);
    return { status: r.status, code: r.body.errors?.[0]?.extensions?.code, message: r.body.errors?.[0]?.message ?? JSON.stringify(r.body) };
  } });
  for (const [p, body] of [
    ['/v1/infer', { deployment: 'fuzz\u0000', question: 'q', image: (await png(1)).toString('base64') }],
    ['/v1/chat/completions', { model: 'fuzz\ud800', messages: [{ role: 'user', content: 'q' }] }],
  ] as const) {
    cases.push({ label: `${p} body`, reason: /^the request body\.(deployment|model) contains/, send: async () => {
      const r = await fetch(`${t.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: JSON.stringify(body) });
      const json = await r.json() as { error?: { message?: string; code?: string } | string; message?: string };
      const err = typeof json.error === 'object' ? json.error : { message: json.message ?? String(json.error) };
      return { status: r.status, code: (err as { code?: string }).code, message: err.message ?? JSON.stringify(json) };
    } });
  }
  for (const c of cases) {
    const r = await c.send();
    assert.equal(r.status, 400, `${c.label}: ${r.status} ${r.message}`);
    assert.match(r.message, c.reason, c.label);
    if (r.code !== undefined) assert.equal(r.code, 'BAD_USER_INPUT', c.label);
  }
  assert.deepEqual(await rowCounts(), before, 'nothing was written');
  // the same values, well-formed, go through (the check refuses only what cannot be stored)
  const ok = await gqlRaw(REGISTER, { i: { name: 'f2-teacher', model: 'm-\u00e9-\ud83d\ude42', kind: 'IMPORTED' } }, editor);
  assert.equal(ok.body.errors, undefined, JSON.stringify(ok.body.errors));
});
