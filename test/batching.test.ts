// Database: once (inference on a real bundle; its database path, a deploy, is covered on both databases by deployments.test.ts)
// Batched decoding (api/_lib/inference/batcher.ts) end to end: real servers over real HTTP, real bundles made by the
// trainer (test/helpers/bundle.ts), one server with batching on and one with it off, the same requests to both.
// - the demo-like nano student: 60 concurrent greedy requests, every answer equal to PyTorch's and to batching off;
// - an untrained nano student (its greedy answers run to their budget, so rows really decode side by side): mixed
//   prompts, mixed max_tokens, greedy and seeded sampling, one streamed and one cancelled mid-stream, all at once:
//   each answer equals the same request's answer with batching off (and PyTorch's, when greedy); the cancelled one
//   stops taking decode steps; ril_inference_batch_size shows batches > 1;
// - a bundle of format 1 (no masks) is still served, unbatched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { TRAINER_DIR } from '../api/_lib/jobs/python.js';
import { findPython, studentBundle, type BundleFixture } from './helpers/bundle.js';
import { deploy, parseSse, post, registerBundle } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const { reason } = findPython();
const run = promisify(execFile);

/** The batcher's counters of a deployment's live runtime (null: served unbatched). */
async function batchStats(t: TestServer, name: string) {
  const { runtime, release } = await t.platform.inference.resolve(name);
  release();
  return runtime.family === 'builtin' ? runtime.batcher?.stats ?? null : null;
}

/** ril_inference_batch_size of a deployment from GET /metrics: observations, and how many were above 1. */
async function batchHistogram(t: TestServer, deployment: string) {
  const text = await (await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${t.adminKey}` } })).text();
  const get = (series: string) => Number(new RegExp(`^${series} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const count = get(`ril_inference_batch_size_count\\{deployment="${deployment}"\\}`);
  return { count, above1: count - get(`ril_inference_batch_size_bucket\\{deployment="${deployment}",le="1"\\}`) };
}

describe('batched decoding', { skip: reason }, () => {
  let demo: BundleFixture;
  let babble: BundleFixture;
  let on: TestServer;
  let off: TestServer;
  const image = (fx: BundleFixture, rel: string) => fs.readFileSync(path.join(fx.data, rel)).toString('base64');

  before(async () => {
    demo = await studentBundle();
    babble = await studentBundle({ steps: 1, lr: 1e-7 });
    const limits = { RIL_INFER_RATE_LIMIT: '0', RIL_INFER_MAX_BODY_BYTES: '200000', RIL_INFER_QUEUE: '100', RIL_INFER_CONCURRENCY: '64' };
    [on, off] = await Promise.all([
      // a 50 ms gather window (5 by default): the assertions on how many rows share a batch must not depend on how
      // quickly a loaded machine gets the concurrent requests through preprocessing
      startTestServer({ ...limits, RIL_INFER_BATCH: '1', RIL_INFER_BATCH_MAX: '32', RIL_INFER_BATCH_WAIT_MS: '50' }),
      startTestServer({ ...limits, RIL_INFER_BATCH: '0' }),
    ]);
    for (const t of [on, off]) {
      for (const [name, fx] of [['demo', demo], ['babble', babble]] as const) {
        const art = await registerBundle(t, fx.archive, name);
        assert.equal(art.errors, undefined, JSON.stringify(art.errors));
        const d = await deploy(t, name, art.data.registerArtifact.id);
        assert.equal(d.data?.deploy.status, 'LIVE', JSON.stringify(d.errors));
      }
    }
    assert.ok(await batchStats(on, 'demo'), 'a format 2 bundle is batched when RIL_INFER_BATCH=1');
    assert.equal(await batchStats(off, 'demo'), null);
  });
  after(async () => { await on?.close(); await off?.close(); });

  test('the demo-like student: 60 concurrent greedy answers equal PyTorch\'s and batching off\'s, token for token', async () => {
    const before = { ...(await batchStats(on, 'demo'))! };
    const ask = (t: TestServer) => Promise.all(demo.torch.map((ex) =>
      post(t, '/v1/infer', { deployment: 'demo', image: image(demo, ex.image), question: ex.question, max_tokens: 32 })));
    const [batched, alone] = [await ask(on), await ask(off)];
    const stats = (await batchStats(on, 'demo'))!;
    demo.torch.forEach((ex, i) => {
      assert.equal(batched[i].status, 200, batched[i].text);
      assert.deepEqual(batched[i].json.token_ids, ex.tokens, `example ${i}: batched vs PyTorch`);
      assert.deepEqual(alone[i].json.token_ids, ex.tokens, `example ${i}: unbatched vs PyTorch`);
      assert.equal(batched[i].json.answer, ex.text);
    });
    assert.ok(stats.prefillRuns - before.prefillRuns < demo.torch.length, 'equal prompt lengths shared prefill runs');
    assert.ok(stats.maxRows > 1, `decode steps ran several rows (largest batch ${stats.maxRows})`);
  });

  test('mixed prompts, max_tokens and sampling, one streamed, one cancelled: each answer equals the same request unbatched', async () => {
    const eos = JSON.parse(fs.readFileSync(path.join(babble.bundleDir, 'manifest.json'), 'utf8')).tokenizer.eos_id;
    assert.ok(babble.torch.filter((e) => e.tokens.length === 32 && !e.tokens.includes(eos)).length >= 20, 'the untrained student answers to its budget');
    const budgets = [32, 1, 7, 20, 3, 32, 12, 25, 5, 16, 2, 30];
    const requests = Array.from({ length: 24 }, (_, i) => {
      const ex = babble.torch[i];
      const sampled = i % 3 === 2;
      return {
        ex, body: {
          deployment: 'babble', image: image(babble, ex.image), question: ex.question, max_tokens: budgets[i % budgets.length],
          ...(sampled ? { temperature: 0.8 + (i % 4) * 0.2, top_p: 0.9, top_k: i % 2 ? 0 : 40, repetition_penalty: 1.1, seed: 1000 + i } : {}),
        },
      };
    });
    assert.ok(new Set(requests.map((r) => r.ex.promptIds.length)).size >= 3, 'prompts of several lengths');
    const streamed = { ...requests[0].body, max_tokens: 24, stream: true };

    const run = async (t: TestServer) => {
      const s0 = await batchStats(t, 'babble');
      const before = { cancelled: s0?.cancelled.length ?? 0, rowSteps: s0?.rowSteps ?? 0, decodeRuns: s0?.decodeRuns ?? 0 };
      // the cancelled one: streams, and its client goes away after 3 tokens
      const ctrl = new AbortController();
      const cancelled = (async () => {
        const r = await fetch(`${t.url}/v1/infer`, {
          method: 'POST', signal: ctrl.signal, headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ ...requests[1].body, max_tokens: 120, stream: true }),
        });
        let seen = 0;
        const decoder = new TextDecoder();
        try {
          const reader = r.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            seen += (decoder.decode(value).match(/event: token/g) ?? []).length;
            if (seen >= 3) ctrl.abort();
          }
        } catch (err) {
          if ((err as Error).name !== 'AbortError') throw err;
        }
        return seen;
      })();
      const [answers, stream, seen] = await Promise.all([
        Promise.all(requests.map((r) => post(t, '/v1/infer', r.body))), post(t, '/v1/infer', streamed), cancelled,
      ]);
      return { answers, stream, seen, before };
    };
    const b = await run(on);
    const u = await run(off);

    requests.forEach((r, i) => {
      assert.equal(b.answers[i].status, 200, b.answers[i].text);
      assert.deepEqual(b.answers[i].json.token_ids, u.answers[i].json.token_ids, `request ${i} (${r.body.temperature ? 'sampled' : 'greedy'}): batched vs unbatched`);
      assert.equal(b.answers[i].json.answer, u.answers[i].json.answer);
      assert.equal(b.answers[i].json.finish_reason, u.answers[i].json.finish_reason);
      if (!r.body.temperature) {
        const want = r.ex.tokens.slice(0, r.body.max_tokens); // PyTorch's 32-token answer, cut at this request's budget
        assert.deepEqual(b.answers[i].json.token_ids, want, `request ${i}: batched vs PyTorch`);
      }
      for (const k of ['ttft_ms', 'total_ms']) assert.ok(b.answers[i].json.timings[k] > 0, k);
      assert.ok(b.answers[i].json.timings.ttft_ms <= b.answers[i].json.timings.total_ms);
    });
    // the streamed one: its tokens as events, the same answer as unbatched
    const events = parseSse(b.stream.text);
    const done = JSON.parse(events.at(-1)!.data);
    assert.equal(events.at(-1)!.event, 'done');
    assert.deepEqual(done.token_ids, JSON.parse(parseSse(u.stream.text).at(-1)!.data).token_ids);
    assert.deepEqual(done.token_ids, requests[0].ex.tokens.slice(0, 24));
    const tokenEvents = (text: string) => parseSse(text).filter((e) => e.event === 'token').map((e) => e.data);
    // (this student's byte tokens are often invalid UTF-8 alone, so the streamed pieces are compared, not their join)
    assert.deepEqual(tokenEvents(b.stream.text), tokenEvents(u.stream.text), 'the same token events as unbatched');
    assert.equal(tokenEvents(b.stream.text).length, done.tokens - (done.finish_reason === 'stop' ? 1 : 0));

    // the cancelled one left the batch: it took far fewer decode steps than its 120 tokens
    const stats = (await batchStats(on, 'babble'))!;
    assert.ok(b.seen >= 3);
    for (let i = 0; i < 100 && stats.cancelled.length === b.before.cancelled; i++) await new Promise((r) => setTimeout(r, 20));
    const gone = stats.cancelled.slice(b.before.cancelled);
    assert.equal(gone.length, 1, 'one row left cancelled');
    assert.ok(gone[0].steps < 40, `the cancelled row took ${gone[0].steps} decode steps (asked for 120; its client left after ${b.seen} tokens)`);
    assert.equal(stats.active, 0);
    assert.ok(stats.maxRows >= 4, `rows decoded side by side (largest batch ${stats.maxRows})`);
    assert.ok((stats.rowSteps - b.before.rowSteps) / (stats.decodeRuns - b.before.decodeRuns) > 1.5, 'the mean decode batch is above 1.5');

    const h = await batchHistogram(on, 'babble');
    assert.ok(h.count >= 25 && h.above1 >= 10, `ril_inference_batch_size: ${h.above1} of ${h.count} requests ran in batches > 1`);
    const hOff = await batchHistogram(off, 'babble');
    assert.equal(hOff.above1, 0, 'batching off: every request runs alone');
  });

  test('a bundle of format 1 (no masks) is still served, unbatched, with PyTorch\'s answers', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-format1-'));
    try {
      // asynchronously: the servers share this process, and a blocked event loop would stall their keep-alive timers
      await run(demo.python, ['-m', 'ril_trainer', 'export', '--checkpoint', demo.checkpoint, '--out', path.join(dir, 'bundle'), '--format-version', '1', '--threads', '1'],
        { cwd: TRAINER_DIR, env: { ...process.env, PYTHONPATH: TRAINER_DIR } });
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'bundle', 'manifest.json'), 'utf8'));
      assert.equal(manifest.format_version, 1);
      assert.ok(!manifest.graphs.decode.inputs.some((i: { name: string }) => i.name === 'attention_mask'));
      await run('tar', ['-C', path.join(dir, 'bundle'), '-czf', path.join(dir, 'bundle.tar.gz'), '.']);
      const art = await registerBundle(on, fs.readFileSync(path.join(dir, 'bundle.tar.gz')), 'old');
      assert.equal(art.errors, undefined, JSON.stringify(art.errors));
      assert.equal((await deploy(on, 'old', art.data.registerArtifact.id)).data?.deploy.status, 'LIVE');
      assert.equal(await batchStats(on, 'old'), null, 'served unbatched although RIL_INFER_BATCH=1');
      const ex = demo.torch.slice(0, 8);
      const answers = await Promise.all(ex.map((e) => post(on, '/v1/infer', { deployment: 'old', image: image(demo, e.image), question: e.question, max_tokens: 32 })));
      answers.forEach((a, i) => assert.deepEqual(a.json?.token_ids, ex[i].tokens, a.text));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
