// Needs: RIL_HF_PYTHON (the torch 2.x environment builds the tiny Hugging Face students and their PyTorch answers)
// Hugging Face students on the endpoint (issue 14): a tiny random SmolVLM and a tiny random Qwen2-VL, exported by
// `ril_trainer export --hf-model` to transformers.js's layout, registered and deployed like any bundle, answer
// through /v1/infer and /v1/chat/completions (streamed too) with the same greedy tokens as PyTorch's generate on
// the same 50 test images. Every other variant (int8, q4, fp16) is deployed beside it and served; its agreement with PyTorch
// is printed (docs/inference.md records it), not asserted: quantization may change a near-tie.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hfSkipReason, hfStudentBundle, type HfBundleFixture, type HfFamily } from './helpers/hfBundle.js';
import { deploy, parseSse, post, registerBundle } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const skip = hfSkipReason() ?? undefined;

for (const family of ['smolvlm', 'qwen2vl'] as HfFamily[]) {
  describe(`a Hugging Face ${family} student on the endpoint`, { skip }, () => {
    let fx: HfBundleFixture;
    let t: TestServer;
    const image = (rel: string) => fs.readFileSync(path.join(fx.data, rel)).toString('base64');

    before(async () => {
      fx = await hfStudentBundle(family);
      t = await startTestServer({ RIL_INFER_RATE_LIMIT: '10000', RIL_INFER_RATE_BURST: '10000' });
      const art = await registerBundle(t, fx.archive, `${family}-tiny`);
      assert.equal(art.errors, undefined, JSON.stringify(art.errors));
      const meta = art.data.registerArtifact.metadata;
      assert.equal(meta.bundle.modelFamily, 'hf-image-text-to-text');
      assert.deepEqual([...meta.bundle.variants].sort(), ['fp16', 'fp32', 'int8', 'q4']);
      const id = art.data.registerArtifact.id;
      for (const [name, variant] of [['fp32', undefined], ['int8', 'int8'], ['q4', 'q4'], ['fp16', 'fp16']] as const) {
        const d = await deploy(t, `${family}-${name}`, id, undefined, variant);
        assert.equal(d.errors, undefined, JSON.stringify(d.errors));
        assert.equal(d.data.deploy.liveRevision.variant, variant ?? null);
      }
    });
    after(async () => { await t?.close(); });

    test('fp32: greedy token ids equal PyTorch on 50 test images (/v1/infer)', async () => {
      assert.ok(fx.refs.length >= 50, `${fx.refs.length} references`);
      let identical = 0;
      const firstDiff: string[] = [];
      for (const ex of fx.refs) {
        const r = await post(t, '/v1/infer', { deployment: `${family}-fp32`, image: image(ex.image), question: ex.question, max_tokens: fx.maxNewTokens, temperature: 0 });
        assert.equal(r.status, 200, r.text);
        if (JSON.stringify(r.json.token_ids) === JSON.stringify(ex.tokens)) identical += 1;
        else if (firstDiff.length < 3) firstDiff.push(`${ex.id}: endpoint ${r.json.token_ids} vs torch ${ex.tokens}`);
      }
      assert.equal(identical, fx.refs.length, `identical ${identical}/${fx.refs.length}; ${firstDiff.join('; ')}`);
    });

    test('chat completions: the same answer, plain and streamed', async () => {
      for (const ex of fx.refs.slice(0, 3)) {
        const body = {
          model: `${family}-fp32`, max_tokens: fx.maxNewTokens, temperature: 0,
          messages: [{ role: 'user', content: [{ type: 'text', text: ex.question }, { type: 'image_url', image_url: { url: `data:image/png;base64,${image(ex.image)}` } }] }],
        };
        const plain = await post(t, '/v1/chat/completions', body);
        assert.equal(plain.status, 200, plain.text);
        const infer = await post(t, '/v1/infer', { deployment: `${family}-fp32`, image: image(ex.image), question: ex.question, max_tokens: fx.maxNewTokens, temperature: 0 });
        assert.equal(plain.json.choices[0].message.content, infer.json.answer);
        const streamed = await post(t, '/v1/chat/completions', { ...body, stream: true });
        assert.equal(streamed.status, 200, streamed.text);
        const events = parseSse(streamed.text).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
        const text = events.map((e) => e.choices?.[0]?.delta?.content ?? '').join('');
        // a character whose bytes never complete (random weights) is not streamed: the text up to it is
        assert.equal(text, infer.json.answer.replace(/\uFFFD+$/, ''));
        assert.ok(events.length >= 2, 'tokens arrived as separate chunks');
      }
    });

    test('a system message and history go through the model\'s chat template', async () => {
      const ex = fx.refs[0];
      const single = await post(t, '/v1/infer', { deployment: `${family}-fp32`, image: image(ex.image), question: ex.question, max_tokens: 4, temperature: 0 });
      const withHistory = await post(t, '/v1/infer', {
        deployment: `${family}-fp32`, image: image(ex.image), max_tokens: 4, temperature: 0,
        messages: [{ role: 'system', text: 'Answer briefly.' }, { role: 'user', text: 'Hello' }, { role: 'assistant', text: 'Hi' }, { role: 'user', text: ex.question }],
      });
      assert.equal(withHistory.status, 200, withHistory.text);
      assert.ok(withHistory.json.prompt_tokens > single.json.prompt_tokens, `${withHistory.json.prompt_tokens} > ${single.json.prompt_tokens}`);
    });

    test('sampling: our sampler decides (same seed, same answer; greedy unaffected by a seed)', async () => {
      const ex = fx.refs[1];
      const ask = (extra: object) => post(t, '/v1/infer', { deployment: `${family}-fp32`, image: image(ex.image), question: ex.question, max_tokens: fx.maxNewTokens, ...extra });
      const [a, b, c] = [await ask({ temperature: 1.5, seed: 11 }), await ask({ temperature: 1.5, seed: 11 }), await ask({ temperature: 1.5, seed: 12 })];
      assert.deepEqual(a.json.token_ids, b.json.token_ids);
      assert.notDeepEqual(a.json.token_ids, c.json.token_ids, 'another seed draws another answer (random weights: a flat distribution)');
      assert.deepEqual((await ask({ temperature: 0, seed: 99 })).json.token_ids, ex.tokens);
    });

    test('stop: the answer ends before the stop text, and generation stops there', async () => {
      const ex = fx.refs.find((e) => e.text.length >= 6 && !e.text.includes('\uFFFD')) ?? fx.refs[0];
      const stop = ex.text.slice(3, 5);
      const r = await post(t, '/v1/infer', { deployment: `${family}-fp32`, image: image(ex.image), question: ex.question, max_tokens: fx.maxNewTokens, temperature: 0, stop });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.finish_reason, 'stop');
      assert.equal(r.json.answer, ex.text.slice(0, ex.text.indexOf(stop)));
      assert.ok(r.json.tokens < ex.tokens.length, `${r.json.tokens} < ${ex.tokens.length}`);
    });

    test('exploit: an SVG (or any format the endpoint does not decode) is refused from its header, before a decoder sees it', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><image href="http://127.0.0.1:1/x.png"/></svg>');
      const r = await post(t, '/v1/infer', { deployment: `${family}-fp32`, image: svg.toString('base64'), question: 'What is shown?', max_tokens: 2 });
      assert.equal(r.status, 400, r.text);
      assert.match(r.text, /the image is a svg/);
    });

    test('a client that goes away stops generation (the runtime sees the abort)', async () => {
      const ex = fx.refs[2];
      const { runtime, release } = await t.platform.inference.resolve(`${family}-fp32`);
      try {
        assert.equal(runtime.family, 'hf');
        if (runtime.family !== 'hf') return;
        const ctrl = new AbortController();
        const g = await runtime.generate({
          image: fs.readFileSync(path.join(fx.data, ex.image)), turns: [{ role: 'user', text: ex.question }], maxTokens: 64,
          sampling: { temperature: 0, topP: 1, topK: 0, repetitionPenalty: 1 }, signal: ctrl.signal, onToken: () => ctrl.abort(),
        });
        assert.equal(g.finishReason, 'cancelled');
        assert.ok(g.tokenIds.length <= 2, `stopped after ${g.tokenIds.length} tokens`);
        assert.deepEqual(g.tokenIds, ex.tokens.slice(0, g.tokenIds.length));
      } finally {
        release();
      }
    });

    for (const variant of ['int8', 'q4', 'fp16']) test(`the ${variant} variant is served; its agreement with PyTorch is reported`, async () => {
      let identical = 0;
      let agree = 0;
      let positions = 0;
      for (const ex of fx.refs) {
        const r = await post(t, '/v1/infer', { deployment: `${family}-${variant}`, image: image(ex.image), question: ex.question, max_tokens: fx.maxNewTokens, temperature: 0 });
        assert.equal(r.status, 200, r.text);
        assert.ok(r.json.tokens >= 1);
        const ids: number[] = r.json.token_ids;
        if (JSON.stringify(ids) === JSON.stringify(ex.tokens)) identical += 1;
        const n = Math.min(ids.length, ex.tokens.length);
        for (let i = 0; i < n; i++) if (ids[i] === ex.tokens[i]) agree += 1;
        positions += Math.max(ids.length, ex.tokens.length);
      }
      console.log(`[hf-inference] ${family} ${variant} vs PyTorch fp32: ${identical}/${fx.refs.length} identical answers, token agreement ${(agree / positions).toFixed(3)}`);
      const dep = await t.gql(`{ deployment(name: "${family}-${variant}") { status revisions { variant } } }`);
      assert.equal(dep.data.deployment.status, 'LIVE');
    });

    test('a variant the bundle lacks is refused at deploy, before anything is written', async () => {
      const art = await t.gql('{ artifacts { id name } }');
      const id = art.data.artifacts.find((a: { name: string }) => a.name === `${family}-tiny`).id;
      const d = await deploy(t, `${family}-nope`, id, undefined, 'q2');
      assert.equal(d.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(d.errors![0].message, /no variant "q2"/);
      const none = await t.gql(`{ deployment(name: "${family}-nope") { name } }`);
      assert.equal(none.data.deployment, null);
    });
  });
}
