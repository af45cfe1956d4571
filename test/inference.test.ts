// The student endpoint end to end on a real bundle made by the trainer (test/helpers/bundle.ts): parity
// with PyTorch's greedy answers, preprocessing parity, streaming, the OpenAI-compatible route, bad requests,
// roles, rate limiting, 50 concurrent requests, the GraphQL field and api/v1/infer.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';
import { findPython, studentBundle, type BundleFixture, longestAnswer } from './helpers/bundle.js';
import { deploy, parseSse, post, registerBundle } from './helpers/deploy.js';
import { createTestDatabaseUrl } from './helpers/db.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const { reason } = findPython();

describe('inference endpoint', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;
  const image = (rel: string) => fs.readFileSync(path.join(fx.data, rel)).toString('base64');

  before(async () => {
    fx = await studentBundle();
    t = await startTestServer({ RIL_INFER_RATE_LIMIT: '1000', RIL_INFER_RATE_BURST: '1000', RIL_INFER_MAX_BODY_BYTES: '200000', RIL_INFER_QUEUE: '100' });
    const art = await registerBundle(t, fx.archive);
    assert.equal(art.errors, undefined, JSON.stringify(art.errors));
    assert.equal(art.data.registerArtifact.metadata.bundle.size, 'nano');
    const d = await deploy(t, 'fm', art.data.registerArtifact.id, 'first');
    assert.equal(d.errors, undefined, JSON.stringify(d.errors));
    assert.equal(d.data.deploy.status, 'LIVE');
  });
  after(async () => { await t?.close(); });

  test('the bundle carries the trainer\'s subword tokenizer, and the endpoint makes the trainer\'s prompt ids with it', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(fx.bundleDir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.tokenizer.type, 'hf-tokenizer-json');
    const { loadTokenizer } = await import('../api/_lib/inference/tokenizer.js');
    const tk = loadTokenizer(manifest.tokenizer, (f) => fs.readFileSync(path.join(fx.bundleDir, f), 'utf8'));
    for (const ex of fx.torch) assert.deepEqual(tk.encodePrompt(ex.question), ex.promptIds, ex.question);
    // a question is a handful of subword tokens, not one id per byte
    assert.ok(fx.torch[0].promptIds.length < fx.torch[0].question.length / 2, JSON.stringify(fx.torch[0]));
  });

  test('the preprocessed tensor equals the trainer\'s for the same PNG (bit for bit)', async () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(fx.bundleDir, 'manifest.json'), 'utf8'));
    const x = await preprocessImage(fs.readFileSync(path.join(fx.data, fx.torch[0].image)), manifest.preprocessing);
    assert.equal(x.length, fx.pixelValues0.length);
    assert.deepEqual(Array.from(x), Array.from(Float32Array.from(fx.pixelValues0)));
    // an RGB PNG of gray pixels is the same image to the trainer (PIL convert("L")) and to us
    const sharp = (await import('sharp')).default;
    const rgb = await sharp(path.join(fx.data, fx.torch[0].image)).toColourspace('srgb').png().toBuffer();
    assert.deepEqual(Array.from(await preprocessImage(rgb, manifest.preprocessing)), Array.from(x));
  });

  test(`greedy answers equal PyTorch's token for token on the test examples, ${60} requests at once`, async () => {
    assert.ok(fx.torch.length >= 50);
    const results = await Promise.all(fx.torch.map((ex) =>
      post(t, '/v1/infer', { deployment: 'fm', image: image(ex.image), question: ex.question, max_tokens: 32 })));
    let same = 0;
    results.forEach((r, i) => {
      assert.equal(r.status, 200, r.text);
      if (JSON.stringify(r.json.token_ids) === JSON.stringify(fx.torch[i].tokens)) same++;
      assert.equal(r.json.answer, fx.torch[i].text, 'the endpoint decodes the ids to the trainer\'s text');
    });
    assert.equal(same, fx.torch.length, `${same}/${fx.torch.length} identical`);
    const r = results[0].json;
    assert.equal(r.tokens, r.token_ids.length);
    assert.equal(r.revision, 1);
    for (const k of ['preprocess_ms', 'ttft_ms', 'total_ms']) assert.ok(r.timings[k] >= 0, k);
    const lat = await t.gql('{ deployment(name: "fm") { status latency { requests p50Ms p95Ms } } }');
    assert.ok(lat.data.deployment.latency.requests >= 60);
    assert.ok(lat.data.deployment.latency.p95Ms >= lat.data.deployment.latency.p50Ms);
  });

  test('"stream": true sends the tokens as server-sent events', async () => {
    const ex = longestAnswer(fx);
    const r = await post(t, '/v1/infer', { deployment: 'fm', image: image(ex.image), question: ex.question, max_tokens: 32, stream: true });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type')!, /text\/event-stream/);
    const events = parseSse(r.text);
    const tokens = events.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data));
    const done = JSON.parse(events.at(-1)!.data);
    assert.equal(events.at(-1)!.event, 'done');
    assert.deepEqual(done.token_ids, ex.tokens);
    assert.equal(tokens.map((x) => x.text).join(''), done.answer);
  });

  test('POST /v1/chat/completions answers like the OpenAI API, plain and streamed', async () => {
    const ex = fx.torch[1];
    const body = {
      model: 'fm', max_tokens: 32, temperature: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: ex.question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${image(ex.image)}` } }] }],
    };
    const r = await post(t, '/v1/chat/completions', body);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.object, 'chat.completion');
    const expected = ex.text; // the trainer's decoding of its own greedy ids
    assert.equal(r.json.choices[0].message.content, expected);
    const eos = JSON.parse(fs.readFileSync(path.join(fx.bundleDir, 'manifest.json'), 'utf8')).tokenizer.eos_id;
    assert.equal(r.json.choices[0].finish_reason, ex.tokens.at(-1) === eos ? 'stop' : 'length');
    assert.equal(r.json.usage.completion_tokens, ex.tokens.length);
    const s = await post(t, '/v1/chat/completions', { ...body, stream: true });
    const events = parseSse(s.text);
    assert.equal(events.at(-1)!.data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
    assert.equal(chunks.map((c) => c.choices[0].delta.content ?? '').join(''), expected);
    // sampling with a seed is reproducible
    const a = await post(t, '/v1/chat/completions', { ...body, temperature: 1, top_p: 0.9, seed: 7 });
    const b = await post(t, '/v1/chat/completions', { ...body, temperature: 1, top_p: 0.9, seed: 7 });
    assert.equal(a.json.choices[0].message.content, b.json.choices[0].message.content);
  });

  test('bad requests get 4xx with a message', async () => {
    const ex = fx.torch[0];
    const ok = { deployment: 'fm', image: image(ex.image), question: ex.question };
    const cases: [unknown, number, RegExp][] = [
      [{ ...ok, deployment: 'nope' }, 404, /deployment nope not found/],
      [{ ...ok, image: Buffer.from('not an image at all').toString('base64') }, 400, /could not be decoded/],
      [{ ...ok, image: undefined }, 400, /image is required/],
      [{ ...ok, question: undefined }, 400, /question is required/],
      [{ ...ok, question: '  ' }, 400, /question is required/],
      [{ ...ok, max_tokens: 100000 }, 400, /max_tokens/],
      [{ ...ok, max_tokens: 256 }, 400, /more than this model can generate/],
      [{ ...ok, temperature: -1 }, 400, /temperature/],
      [{ ...ok, image: 'A'.repeat(300_000) }, 413, /exceeds the limit/],
      ['{not json', 400, /not valid JSON/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(t, '/v1/infer', body);
      assert.equal(r.status, status, `${JSON.stringify(body).slice(0, 80)} -> ${r.text}`);
      assert.match(r.json.error.message, message);
    }
    const small = await (await import('sharp')).default({ create: { width: 10, height: 10, channels: 3, background: '#888' } }).png().toBuffer();
    // another size is resized, not refused (test/preprocess-resize.test.ts)
    const r = await post(t, '/v1/infer', { ...ok, image: small.toString('base64') });
    assert.equal(r.status, 200, r.text);
    const chat = await post(t, '/v1/chat/completions', { model: 'fm', messages: [{ role: 'user', content: 'no image' }] });
    assert.equal(chat.status, 400);
    assert.match(chat.json.error.message, /exactly one image_url part \(in a user message\); it has 0/);
    const url = `data:image/png;base64,${ok.image}`;
    const part = { type: 'image_url', image_url: { url } };
    const two = await post(t, '/v1/chat/completions', { model: 'fm', messages: [
      { role: 'user', content: [{ type: 'text', text: 'a' }, part] }, { role: 'assistant', content: 'b' }, { role: 'user', content: [part] }] });
    assert.equal(two.status, 400);
    assert.match(two.json.error.message, /it has 2/);
    // the built-in family's template is one user turn: a system message or history is refused, not dropped
    const sys = await post(t, '/v1/chat/completions', { model: 'fm', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: [{ type: 'text', text: ex.question }, part] }] });
    assert.equal(sys.status, 400);
    assert.match(sys.json.error.message, /takes one user message .*Hugging Face students \(chat templates\) take conversations/);
    const stop = await post(t, '/v1/infer', { ...ok, stop: ['a', 'b', 'c', 'd', 'e'] });
    assert.equal(stop.status, 400);
    assert.match(stop.json.error.message, /at most 4/);
  });

  test('roles: INFERENCE and EDITOR keys infer; VIEWER, WORKER and no key do not; INFERENCE reaches nothing else', async () => {
    const ex = fx.torch[0];
    const body = { deployment: 'fm', image: image(ex.image), question: ex.question };
    const inferenceKey = await t.keyFor('INFERENCE');
    assert.equal((await post(t, '/v1/infer', body, inferenceKey)).status, 200);
    assert.equal((await post(t, '/v1/infer', body, await t.keyFor('EDITOR'))).status, 200);
    assert.equal((await post(t, '/v1/infer', body, await t.keyFor('VIEWER'))).status, 403);
    assert.equal((await post(t, '/v1/infer', body, await t.keyFor('WORKER'))).status, 403);
    assert.equal((await post(t, '/v1/infer', body, null)).status, 401);
    const g = await t.gql('{ deployments { name } }', {}, inferenceKey);
    assert.equal(g.errors?.[0].extensions?.code, 'FORBIDDEN');
    const res = await fetch(`${t.url}/blobs/${'0'.repeat(64)}`, { headers: { authorization: `Bearer ${inferenceKey}` } });
    assert.equal(res.status, 403);
    const q = await t.gql(`query($i: InferInput!) { infer(input: $i) { answer tokenIds revision timings { ttftMs } } }`,
      { i: { deployment: 'fm', image: image(ex.image), question: ex.question, maxTokens: 32 } }, inferenceKey);
    assert.equal(q.errors, undefined);
    assert.deepEqual(q.data.infer.tokenIds, ex.tokens);
  });

  test('a per-key rate limit answers 429', async () => {
    const limited = await startTestServer({ RIL_INFER_RATE_LIMIT: '0.5', RIL_INFER_RATE_BURST: '2' });
    try {
      const art = await registerBundle(limited, fx.archive);
      await deploy(limited, 'fm', art.data.registerArtifact.id);
      const ex = fx.torch[0];
      const body = { deployment: 'fm', image: image(ex.image), question: ex.question };
      const key = await limited.keyFor('INFERENCE');
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await post(limited, '/v1/infer', body, key)).status);
      assert.deepEqual(statuses, [200, 200, 429]);
      const r = await post(limited, '/v1/infer', body, key);
      assert.equal(r.json.error.code, 'TOO_MANY_REQUESTS');
      assert.ok(Number(r.headers.get('retry-after')) >= 1);
      assert.equal((await post(limited, '/v1/infer', body, await limited.keyFor('INFERENCE'))).status, 200, 'another key has its own bucket');
    } finally {
      await limited.close();
    }
  });

  test('api/v1/infer.ts serves the same endpoint as a (req, res) function', async () => {
    const { home, databaseUrl } = await createTestDatabaseUrl();
    const saved = { RIL_HOME: process.env.RIL_HOME, DATABASE_URL: process.env.DATABASE_URL };
    process.env.RIL_HOME = home;
    if (databaseUrl) process.env.DATABASE_URL = databaseUrl; else delete process.env.DATABASE_URL;
    const fn = await import('../api/v1/infer.js');
    const server = http.createServer((req, res) => void fn.default(req as never, res as never));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      // deploy through the function's own platform (same database), then call it over HTTP
      const { createPlatform } = await import('../api/_lib/http/server.js');
      const { loadEnv } = await import('../api/_lib/env.js');
      const { createApiKey } = await import('../api/_lib/auth/keys.js');
      const admin = await createPlatform(loadEnv());
      const key = (await createApiKey(admin.db.prisma, 'fn', 'INFERENCE')).secret;
      const sha = await admin.blobs.put(fx.archive, 'application/gzip');
      const { registerArtifact } = await import('../api/_lib/deployments/service.js');
      const art = await registerArtifact(admin, { blobSha256: sha, kind: 'BUNDLE', name: 'b' });
      await admin.deployments.deploy({ name: 'fm', artifactId: art.id });
      await admin.close();
      const ex = fx.torch[2];
      const r = await fetch(`${url}/v1/infer`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ deployment: 'fm', image: image(ex.image), question: ex.question, max_tokens: 32 }) });
      assert.equal(r.status, 200);
      assert.deepEqual((await r.json() as any).token_ids, ex.tokens);
    } finally {
      server.close();
      await fn.default.shutdown();
      Object.assign(process.env, saved);
      if (saved.DATABASE_URL === undefined) delete process.env.DATABASE_URL;
      if (saved.RIL_HOME === undefined) delete process.env.RIL_HOME;
    }
  });
});
