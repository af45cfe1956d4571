// GET /metrics (issue 15): the real server is scraped, real requests are made (GraphQL queries, a 404, health checks, a
// blob miss, inference on a real student bundle), and the next scrape must show the counters and histogram counts
// moved by exactly those requests, under bounded labels (route templates, never a raw path, key, query or question).
// Also: who may scrape (no key 401, other roles 403, ADMIN and the scrape token 200, the operator's own interface
// without auth), the queue-depth gauge against the database, a lease expiry counted, teacher-fill progress.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { createApiKey } from '../api/_lib/auth/keys.js';
import { enqueue } from '../api/_lib/jobs/queue.js';
import { JOB_KIND_LABELS, JOB_STATUS_LABELS, ROUTE_LABELS } from '../api/_lib/observability/metrics.js';
import { findPython, studentBundle, type BundleFixture } from './helpers/bundle.js';
import { deploy, parseSse, post, registerBundle } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

// ---- the exposition format, read back --------------------------------------------------------------------------

interface Sample { name: string; labels: Record<string, string>; value: number }

function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    assert.ok(m, `not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample `name` with exactly `labels` (0 when the series does not exist yet). */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  const hit = samples.find((s) => s.name === name && Object.keys(s.labels).length === want.length && want.every(([k, v]) => s.labels[k] === v));
  return hit?.value ?? 0;
}

const TOKEN = crypto.randomBytes(32).toString('hex');

describe('GET /metrics', () => {
  let t: TestServer;
  const keys: Record<string, string> = {};

  const scrape = async (key: string | null = t.adminKey) => {
    const r = await fetch(`${t.url}/metrics`, { headers: key ? { authorization: `Bearer ${key}` } : {} });
    assert.equal(r.status, 200, await r.clone().text());
    const text = await r.text();
    return { text, samples: parse(text) };
  };
  /** Scrapes until `ready` holds (a request is counted when its response has finished, an instant after the client
   * may have read it), at most 5 s; the caller then asserts exact values. */
  const scrapeUntil = async (ready: (s: Sample[]) => boolean) => {
    const deadline = Date.now() + 5000;
    for (;;) {
      const s = await scrape();
      if (ready(s.samples) || Date.now() > deadline) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  before(async () => {
    t = await startTestServer({ RIL_METRICS_TOKEN: TOKEN, RIL_METRICS_LISTEN: '127.0.0.1:0', RIL_INFER_RATE_LIMIT: '0' });
    for (const role of ['EDITOR', 'VIEWER', 'WORKER', 'INFERENCE'] as const) keys[role] = await t.keyFor(role);
    const revoked = await createApiKey(t.platform.db.prisma, 'metrics-revoked', 'ADMIN');
    await t.platform.db.prisma.apiKey.update({ where: { id: revoked.key.id }, data: { revokedAt: new Date() } });
    keys.revoked = revoked.secret;
  });
  after(async () => { await t?.close(); });

  test('fails closed: no key 401, a revoked key 401, non-ADMIN roles 403; ADMIN and RIL_METRICS_TOKEN 200; the operator interface needs nothing', async () => {
    const status = async (auth?: string, url = `${t.url}/metrics`) => (await fetch(url, { headers: auth ? { authorization: auth } : {} })).status;
    assert.equal(await status(), 401, 'no key');
    assert.equal(await status(`Bearer ${keys.revoked}`), 401, 'a revoked ADMIN key');
    assert.equal(await status(`Bearer ${TOKEN}x`), 401, 'a wrong token is an unknown key');
    assert.equal(await status(`Bearer ${TOKEN.slice(0, -1)}`), 401, 'a token one character short');
    for (const role of ['EDITOR', 'VIEWER', 'WORKER', 'INFERENCE']) assert.equal(await status(`Bearer ${keys[role]}`), 403, role);
    assert.equal(await status(undefined, `${t.url}/metrics?key=${t.adminKey}`), 401, 'a key in the URL is not a key');
    assert.equal(await status(`Bearer ${t.adminKey}`), 200, 'ADMIN');
    const r = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(r.status, 200, 'the scrape token');
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.equal(r.headers.get('cache-control'), 'no-store');
    const post = await fetch(`${t.url}/metrics`, { method: 'POST', headers: { authorization: `Bearer ${t.adminKey}` } });
    assert.equal(post.status, 400, 'GET only');

    // RIL_METRICS_LISTEN: its own listener, /metrics only, no auth
    assert.ok(t.metricsUrl, 'the listener started');
    assert.notEqual(new URL(t.metricsUrl!).port, new URL(t.url).port);
    const open = await fetch(t.metricsUrl!);
    assert.equal(open.status, 200);
    assert.match(await open.text(), /^# HELP ril_http_requests_total/m);
    assert.equal((await fetch(t.metricsUrl!.replace(/\/metrics$/, '/graphql'), { method: 'POST' })).status, 404, 'nothing but /metrics there');
    assert.equal((await fetch(t.metricsUrl!.replace(/\/metrics$/, '/healthz'))).status, 404);

    // the refusals were counted too, by status, under the route template
    const { samples } = await scrapeUntil((s) => value(s, 'ril_http_requests_total', { route: '/metrics', method: 'GET', status: '403' }) === 4);
    assert.equal(value(samples, 'ril_http_requests_total', { route: '/metrics', method: 'GET', status: '403' }), 4);
    assert.equal(value(samples, 'ril_http_requests_total', { route: '/metrics', method: 'GET', status: '401' }), 5);
    assert.equal(value(samples, 'ril_http_requests_total', { route: '/metrics', method: 'POST', status: '400' }), 1);
  });

  test('HTTP counters, latency histograms and root-field resolver timings move by exactly the requests made, under bounded labels', async () => {
    const before = (await scrape()).samples;
    const gql = (query: string) => fetch(`${t.url}/graphql`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${t.adminKey}` }, body: JSON.stringify({ query }),
    });
    for (let i = 0; i < 3; i++) assert.equal((await gql('{ secretAliasQ7: me { role } }')).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await gql('{ teachers { name } }')).status, 200);
    assert.equal((await gql('mutation { revokeApiKey(id: "no-such-key-id-4c1e") { id } }')).status, 200, 'a resolver error is still a 200 response');
    assert.equal((await fetch(`${t.url}/no-such-route-7f3a9c/abc?leak=leak-me-5b1d`)).status, 404);
    for (let i = 0; i < 2; i++) assert.equal((await fetch(`${t.url}/healthz`)).status, 200);
    const sha = crypto.randomBytes(32).toString('hex');
    assert.equal((await fetch(`${t.url}/blobs/${sha}`, { headers: { authorization: `Bearer ${t.adminKey}` } })).status, 404);
    // a request target that is no URL at all (fetch cannot send one): 400, route `other`
    const raw = await new Promise<string>((resolve, reject) => {
      const u = new URL(t.url);
      const s = net.connect(Number(u.port), u.hostname, () => s.write('GET http://[leak-me-5b1d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let buf = '';
      s.on('data', (d) => { buf += d; }).on('close', () => resolve(buf)).on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);

    const http = (route: string, method: string, status: string) => ({ route, method, status });
    const expected: [Record<string, string>, number][] = [
      [http('/graphql', 'POST', '200'), 6],
      [http('other', 'GET', '404'), 1],
      [http('/healthz', 'GET', '200'), 2],
      [http('/blobs/:sha256', 'GET', '404'), 1],
      [http('other', 'GET', '400'), 1],
    ];
    const { text, samples } = await scrapeUntil((s) => expected.every(([l, n]) => value(s, 'ril_http_requests_total', l) - value(before, 'ril_http_requests_total', l) >= n));
    for (const [labels, n] of expected) {
      assert.equal(value(samples, 'ril_http_requests_total', labels) - value(before, 'ril_http_requests_total', labels), n, JSON.stringify(labels));
      assert.equal(value(samples, 'ril_http_request_duration_seconds_count', labels) - value(before, 'ril_http_request_duration_seconds_count', labels), n, `histogram ${JSON.stringify(labels)}`);
      assert.ok(value(samples, 'ril_http_request_duration_seconds_sum', labels) > value(before, 'ril_http_request_duration_seconds_sum', labels));
      // the +Inf bucket is the count
      assert.equal(value(samples, 'ril_http_request_duration_seconds_bucket', { le: '+Inf', ...labels }), value(samples, 'ril_http_request_duration_seconds_count', labels));
    }
    const resolver = (field: string) => value(samples, 'ril_graphql_resolver_duration_seconds_count', { field }) - value(before, 'ril_graphql_resolver_duration_seconds_count', { field });
    assert.equal(resolver('Query.me'), 3);
    assert.equal(resolver('Query.teachers'), 2);
    assert.equal(resolver('Mutation.revokeApiKey'), 1, 'a resolver that throws is timed too');
    assert.equal(samples.filter((s) => s.name === 'ril_graphql_resolver_duration_seconds_count' && !/^(Query|Mutation)\.\w+$/.test(s.labels.field)).length, 0, 'root fields only');

    // bounded label values only: route templates, known methods, status codes; nothing a caller typed
    for (const s of samples.filter((x) => x.name.startsWith('ril_http_'))) {
      assert.ok(ROUTE_LABELS.has(s.labels.route), `route label ${s.labels.route}`);
      assert.match(s.labels.method, /^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS|other)$/);
      assert.match(s.labels.status, /^([1-5]\d\d|aborted|other)$/);
    }
    for (const secret of [t.adminKey, TOKEN, ...Object.values(keys), sha, 'secretAliasQ7', 'no-such-route', 'leak-me', 'no-such-key-id']) {
      assert.ok(!text.includes(secret), `the scrape leaks ${secret.slice(0, 16)}`);
    }
    // the process metrics ride along, once
    assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total/gm)?.length, 1);
    assert.ok(value(samples, 'nodejs_heap_size_used_bytes') > 0);
  });

  test('queue depth (ril_jobs) equals the database by kind and status; a lease expiry is counted once; teacher-fill progress is summed', async () => {
    const { db } = t.platform;
    for (let i = 0; i < 3; i++) await enqueue(db, { kind: 'EVALUATE', payload: {}, priority: -100 });
    await enqueue(db, { kind: 'TRAIN', payload: {}, priority: -100 });
    // a fill in progress, as a drain leaves it in the job's result (fills 2 and 1 of 10 and 4 requests)
    const leased = { status: 'LEASED', leaseOwner: 'elsewhere', leaseExpiresAt: new Date(Date.now() + 3_600_000) };
    for (const progress of [{ done: 3, total: 10, filled: 2, failed: 1 }, { done: 1, total: 4, filled: 1, failed: 0 }]) {
      const fill = await enqueue(db, { kind: 'TEACHER_FILL', payload: {} });
      await db.prisma.job.update({ where: { id: fill.id }, data: { ...leased, result: JSON.stringify({ progress }) } });
    }
    let { samples } = await scrape();
    for (const kind of JOB_KIND_LABELS) {
      for (const status of JOB_STATUS_LABELS) {
        assert.equal(value(samples, 'ril_jobs', { kind, status }), await db.prisma.job.count({ where: { kind, status } }), `${kind} ${status}`);
      }
    }
    assert.ok(value(samples, 'ril_jobs', { kind: 'EVALUATE', status: 'QUEUED' }) >= 3);
    assert.equal(value(samples, 'ril_teacher_fill_requests', { state: 'total' }), 14);
    assert.equal(value(samples, 'ril_teacher_fill_requests', { state: 'filled' }), 3);
    assert.equal(value(samples, 'ril_teacher_fill_requests', { state: 'failed' }), 1);
    assert.equal(value(samples, 'ril_metrics_database_up'), 1);

    // a worker claims over GraphQL, dies (its lease runs out), and the next claim returns the job to the queue
    const worker = keys.WORKER;
    const call = async (query: string, variables: Record<string, unknown>) => {
      const r = await t.gql(query, variables, worker);
      assert.equal(r.errors, undefined, JSON.stringify(r.errors));
      return r.data;
    };
    const workerId = (await call('mutation { registerWorker(input: { name: "metrics-w" }) { id } }', {})).registerWorker.id;
    const claimed = (await call('mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [EVALUATE] }) { id kind } }', { w: workerId })).claimJob;
    assert.equal(claimed.kind, 'EVALUATE');
    const expiries = () => value(samples, 'ril_job_lease_expiries_total', { kind: 'EVALUATE', outcome: 'requeued' });
    const before = expiries();
    const leasedBefore = value(samples, 'ril_jobs', { kind: 'EVALUATE', status: 'LEASED' }); // read before the claim
    await db.prisma.job.update({ where: { id: claimed.id }, data: { leaseExpiresAt: new Date(Date.now() - 60_000) } });
    await call('mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id } }', { w: workerId });
    ({ samples } = await scrape());
    assert.equal(expiries() - before, 1, 'the expiry the claim swept');
    assert.equal((await db.prisma.job.findUniqueOrThrow({ where: { id: claimed.id } })).status, 'QUEUED');
    assert.equal(value(samples, 'ril_jobs', { kind: 'EVALUATE', status: 'LEASED' }), leasedBefore, 'leased, then back in the queue');
    await call('mutation($w: ID!) { claimJob(input: { workerId: $w, kinds: [TRAIN] }) { id } }', { w: workerId });
    ({ samples } = await scrape());
    assert.equal(expiries() - before, 1, 'nothing more to sweep: counted once');
  });

  test('the Vercel function api/metrics.ts serves the database gauges only, behind the same gate', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { RIL_HOME: t.home, RIL_METRICS_TOKEN: TOKEN, RIL_LOG_REQUESTS: '0' });
    if (t.platform.env.DATABASE_URL) process.env.DATABASE_URL = t.platform.env.DATABASE_URL;
    const fn = (await import('../api/metrics.js')).default;
    const server = http.createServer((req, res) => void fn(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/api/metrics`;
    try {
      assert.equal((await fetch(url)).status, 401);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${keys.VIEWER}` } })).status, 403);
      assert.equal((await fetch(url, { headers: { authorization: `Bearer ${t.adminKey}` } })).status, 200);
      const r = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(r.status, 200);
      const samples = parse(await r.text());
      assert.deepEqual([...new Set(samples.map((x) => x.name))].sort(), ['ril_jobs', 'ril_metrics_database_up', 'ril_teacher_fill_requests']);
      assert.equal(value(samples, 'ril_jobs', { kind: 'EVALUATE', status: 'QUEUED' }), await t.platform.db.prisma.job.count({ where: { kind: 'EVALUATE', status: 'QUEUED' } }));
    } finally {
      server.close();
      await fn.shutdown();
      process.env = saved;
    }
  });
});

const { reason } = findPython();

describe('GET /metrics: inference', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;

  before(async () => {
    fx = await studentBundle();
    t = await startTestServer({ RIL_INFER_RATE_LIMIT: '0', RIL_INFER_MAX_BODY_BYTES: '200000' });
    const art = await registerBundle(t, fx.archive);
    assert.equal(art.errors, undefined, JSON.stringify(art.errors));
    const d = await deploy(t, 'fm', art.data.registerArtifact.id);
    assert.equal(d.errors, undefined, JSON.stringify(d.errors));
  });
  after(async () => { await t?.close(); });

  test('time to first token, tokens/s, batch sizes and outcomes per deployment move with real requests; a made-up deployment name never becomes a label', async () => {
    const scrape = async () => {
      const r = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } });
      const text = await r.text();
      return { text, samples: parse(text) };
    };
    const before = (await scrape()).samples;
    const ex = fx.torch.slice(0, 3);
    const image = (e: typeof ex[number]) => fs.readFileSync(path.join(fx.data, e.image)).toString('base64');
    const question = 'Secret question 9d2f: what item of clothing is this?';
    const answers: { tokens: number }[] = [];
    for (const e of ex.slice(0, 2)) {
      const r = await post(t, '/v1/infer', { deployment: 'fm', image: image(e), question: e.question, max_tokens: 8 });
      assert.equal(r.status, 200, r.text);
      answers.push(r.json);
    }
    const streamed = await post(t, '/v1/infer', { deployment: 'fm', image: image(ex[2]), question, max_tokens: 8, stream: true });
    assert.equal(streamed.status, 200);
    answers.push(JSON.parse(parseSse(streamed.text).find((e) => e.event === 'done')!.data));
    const chat = await post(t, '/v1/chat/completions', {
      model: 'fm', max_tokens: 8,
      messages: [{ role: 'user', content: [{ type: 'text', text: question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${image(ex[0])}` } }] }],
    });
    assert.equal(chat.status, 200, chat.text);
    answers.push({ tokens: chat.json.usage.completion_tokens });
    // refused before they reach a deployment: counted by the HTTP metrics only, under no deployment label
    assert.equal((await post(t, '/v1/infer', { deployment: 'no-such-deployment-e81a', image: image(ex[0]), question })).status, 404);
    assert.equal((await post(t, '/v1/infer', { deployment: 'fm', image: image(ex[0]), question, max_tokens: 100_000 })).status, 400);
    // refused by the deployment's own model (more tokens than fit after this prompt): counted as rejected
    const manifest = JSON.parse(fs.readFileSync(path.join(fx.bundleDir, 'manifest.json'), 'utf8'));
    const budget = manifest.model_config.max_seq_len - manifest.n_image_tokens - ex[0].promptIds.length;
    assert.ok(budget + 1 <= 256, 'within RIL_INFER_MAX_TOKENS, so the service checks it against the model');
    const tooLong = await post(t, '/v1/infer', { deployment: 'fm', image: image(ex[0]), question: ex[0].question, max_tokens: budget + 1 });
    assert.equal(tooLong.status, 400, tooLong.text);

    const delta = (s: Sample[], name: string, labels: Record<string, string>) => value(s, name, labels) - value(before, name, labels);
    let got = await scrape();
    for (let i = 0; i < 100 && delta(got.samples, 'ril_http_requests_total', { route: '/v1/infer', method: 'POST', status: '400' }) < 2; i++) {
      await new Promise((r) => setTimeout(r, 20));
      got = await scrape();
    }
    const { text, samples } = got;
    const fm = { deployment: 'fm' };
    assert.equal(delta(samples, 'ril_inference_requests_total', { deployment: 'fm', outcome: 'ok' }), 4);
    assert.equal(delta(samples, 'ril_inference_requests_total', { deployment: 'fm', outcome: 'rejected' }), 1);
    assert.equal(delta(samples, 'ril_inference_requests_total', { deployment: 'fm', outcome: 'cancelled' }), 0);
    assert.equal(delta(samples, 'ril_inference_ttft_seconds_count', fm), 4);
    assert.ok(delta(samples, 'ril_inference_ttft_seconds_sum', fm) > 0);
    assert.equal(delta(samples, 'ril_inference_tokens_per_second_count', fm), answers.filter((a) => a.tokens > 1).length, 'one decode speed per answer of 2+ tokens');
    assert.equal(delta(samples, 'ril_inference_batch_size_count', fm), 4);
    assert.equal(delta(samples, 'ril_inference_batch_size_sum', fm), 4, 'one request at a time: each ran alone');
    assert.equal(delta(samples, 'ril_inference_batch_size_bucket', { deployment: 'fm', le: '1' }), 4);
    assert.equal(delta(samples, 'ril_http_requests_total', { route: '/v1/infer', method: 'POST', status: '200' }), 3);
    assert.equal(delta(samples, 'ril_http_requests_total', { route: '/v1/chat/completions', method: 'POST', status: '200' }), 1);
    assert.equal(delta(samples, 'ril_http_requests_total', { route: '/v1/infer', method: 'POST', status: '404' }), 1);
    assert.equal(delta(samples, 'ril_http_requests_total', { route: '/v1/infer', method: 'POST', status: '400' }), 2);
    assert.deepEqual([...new Set(samples.filter((s) => s.name.startsWith('ril_inference_')).map((s) => s.labels.deployment))], ['fm']);
    for (const leak of ['no-such-deployment', 'Secret question', '9d2f', t.adminKey]) assert.ok(!text.includes(leak), `the scrape leaks ${leak.slice(0, 16)}`);
  });
});
