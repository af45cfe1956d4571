// Database: once (the HTTP surface as a stock client parses it; its database paths, keys and a deploy, are covered on both databases by inference.test.ts)
// The OpenAI-compatible surface as a stock client drives it: the `openai` npm package pointed at /v1 of a real
// server (started like test/inference.test.ts) with an INFERENCE key, on the real student bundle. What it checks
// is what a client parses: the model list, chat completions plain and streamed, `stop`, an image of another size
// and format, an image URL on a listed host (fetched by the server), and errors surfacing as the client's typed
// errors. The expected answers come from /v1/infer's greedy answer for the same image and question.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import OpenAI from 'openai';
import sharp from 'sharp';
import { findPython, longestAnswer, studentBundle, type BundleFixture, type TorchExample } from './helpers/bundle.js';
import { deploy, parseSse, post, registerBundle } from './helpers/deploy.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const { reason } = findPython();

describe('the openai npm client against /v1', { skip: reason }, () => {
  let fx: BundleFixture;
  let t: TestServer;
  let client: OpenAI;
  let ex: TorchExample;
  let png: Buffer;
  let imageServer: http.Server;
  let imageUrl: string;
  let greedy: { answer: string; tokens: number; finish_reason: string };

  const dataUrl = (bytes: Buffer, type = 'png') => `data:image/${type};base64,${bytes.toString('base64')}`;
  const userTurn = (text: string, url: string) => ({ role: 'user' as const, content: [{ type: 'text' as const, text }, { type: 'image_url' as const, image_url: { url } }] });

  before(async () => {
    fx = await studentBundle();
    ex = longestAnswer(fx);
    png = fs.readFileSync(path.join(fx.data, ex.image));
    // an image server on loopback: allowed only because the operator lists its host and allows private addresses
    imageServer = http.createServer((_req, res) => { res.writeHead(200, { 'content-type': 'image/png' }); res.end(png); });
    await new Promise<void>((r) => imageServer.listen(0, '127.0.0.1', () => r()));
    imageUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/shirt.png`;
    t = await startTestServer({
      RIL_INFER_RATE_LIMIT: '1000', RIL_INFER_RATE_BURST: '1000', RIL_INFER_MAX_BODY_BYTES: '200000',
      RIL_INFER_IMAGE_HOSTS: '127.0.0.1', RIL_INFER_IMAGE_ALLOW_HTTP: '1', RIL_INFER_IMAGE_ALLOW_PRIVATE: '1',
    });
    const art = await registerBundle(t, fx.archive);
    assert.equal(art.errors, undefined, JSON.stringify(art.errors));
    const d = await deploy(t, 'fm', art.data.registerArtifact.id);
    assert.equal(d.errors, undefined, JSON.stringify(d.errors));
    // a deployment with no live revision: not a model a client can call
    await t.platform.db.prisma.deployment.create({ data: { name: 'empty', status: 'EMPTY' } });
    client = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: await t.keyFor('INFERENCE'), maxRetries: 0 });
    const r = await post(t, '/v1/infer', { deployment: 'fm', image: png.toString('base64'), question: ex.question, max_tokens: 32, temperature: 0 });
    assert.equal(r.status, 200, r.text);
    greedy = r.json;
    assert.ok(greedy.answer.length >= 4, `a non-trivial answer to cut with stop: ${JSON.stringify(greedy.answer)}`);
  });
  after(async () => {
    await t?.close();
    imageServer?.close();
  });

  test('models.list() parses the list: live deployments only', async () => {
    const models = [];
    for await (const m of client.models.list()) models.push(m);
    assert.deepEqual(models.map((m) => m.id), ['fm']);
    assert.equal(models[0].object, 'model');
    assert.equal(typeof models[0].created, 'number');
    assert.equal(typeof models[0].owned_by, 'string');
  });

  test('chat.completions.create answers as /v1/infer does (greedy), and streams the same text', async () => {
    const params = { model: 'fm', messages: [userTurn(ex.question, dataUrl(png))], max_tokens: 32, temperature: 0 };
    const c = await client.chat.completions.create(params);
    assert.equal(c.object, 'chat.completion');
    assert.equal(c.choices[0].message.role, 'assistant');
    assert.equal(c.choices[0].message.content, greedy.answer);
    assert.equal(c.choices[0].finish_reason, greedy.finish_reason);
    assert.equal(c.usage?.completion_tokens, greedy.tokens);
    assert.equal(c.usage?.prompt_tokens, ex.promptIds.length, 'the prompt the tokenizer made');
    const stream = await client.chat.completions.create({ ...params, stream: true });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, greedy.answer);
    assert.equal(finish, c.choices[0].finish_reason);
    // the parts in another order: the same question and image
    const s = await client.chat.completions.create({ ...params, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: dataUrl(png) } }, { type: 'text', text: ex.question }] }] });
    assert.equal(s.choices[0].message.content, greedy.answer);
  });

  test('stop cuts the answer before the stop sequence, streamed or not, and ends generation there', async () => {
    const k = Math.floor(greedy.answer.length / 2);
    const stop = greedy.answer.slice(k, k + 2);
    const expected = greedy.answer.slice(0, greedy.answer.indexOf(stop));
    const params = { model: 'fm', messages: [userTurn(ex.question, dataUrl(png))], max_tokens: 32, temperature: 0, stop: [stop, '#never#'] };
    const c = await client.chat.completions.create(params);
    assert.equal(c.choices[0].message.content, expected);
    assert.equal(c.choices[0].finish_reason, 'stop');
    assert.ok(c.usage!.completion_tokens < greedy.tokens, `generation ended at the stop (${c.usage!.completion_tokens} of ${greedy.tokens} tokens)`);
    let text = '';
    for await (const chunk of await client.chat.completions.create({ ...params, stream: true })) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, expected, 'nothing of the stop sequence was streamed');
    // /v1/infer takes the same `stop` (a string)
    const r = await post(t, '/v1/infer', { deployment: 'fm', image: png.toString('base64'), question: ex.question, max_tokens: 32, stop });
    assert.equal(r.json.answer, expected);
    assert.equal(r.json.finish_reason, 'stop');
    assert.equal(r.json.tokens, c.usage!.completion_tokens);
    const streamed = parseSse((await post(t, '/v1/infer', { deployment: 'fm', image: png.toString('base64'), question: ex.question, max_tokens: 32, stop, stream: true })).text);
    assert.equal(streamed.filter((e) => e.event === 'token').map((e) => JSON.parse(e.data).text).join(''), expected);
    assert.equal(JSON.parse(streamed.at(-1)!.data).answer, expected);
  });

  test('a JPEG of another size is resized and answered; an image URL on a listed host is fetched', async () => {
    const jpeg = await sharp(png).resize(112, 84, { kernel: 'nearest' }).jpeg({ quality: 95 }).toBuffer();
    const c = await client.chat.completions.create({ model: 'fm', messages: [userTurn(ex.question, dataUrl(jpeg, 'jpeg'))], max_tokens: 32, temperature: 0 });
    assert.equal(typeof c.choices[0].message.content, 'string');
    assert.ok(c.usage!.completion_tokens >= 1);
    const r = await post(t, '/v1/infer', { deployment: 'fm', image: jpeg.toString('base64'), question: ex.question, max_tokens: 32 });
    assert.equal(c.choices[0].message.content, r.json.answer, 'the same resized pixels on both routes');
    const u = await client.chat.completions.create({ model: 'fm', messages: [userTurn(ex.question, imageUrl)], max_tokens: 32, temperature: 0 });
    assert.equal(u.choices[0].message.content, greedy.answer, 'the fetched image is the same PNG');
  });

  test('errors surface as the client\'s typed errors, with our messages', async () => {
    const turn = userTurn(ex.question, dataUrl(png));
    await assert.rejects(client.chat.completions.create({ model: 'nope', messages: [turn] }),
      (e) => e instanceof OpenAI.NotFoundError && /deployment nope not found/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: 'empty', messages: [turn] }), (e) => e instanceof OpenAI.NotFoundError);
    await assert.rejects(client.chat.completions.create({ model: 'fm', messages: [{ role: 'system', content: 'Answer in French.' }, turn] }),
      (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && /takes one user message/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: 'fm', messages: [turn, { role: 'assistant', content: 'a' }, turn] }),
      (e) => e instanceof OpenAI.BadRequestError && /exactly one image_url part .* it has 2/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: 'fm', messages: [userTurn(ex.question, 'https://images.example.com/a.png')] }),
      (e) => e instanceof OpenAI.BadRequestError && /not fetched from this host/.test(e.message));
    await assert.rejects(client.chat.completions.create({ model: 'fm', messages: [turn], stop: ['a', 'b', 'c', 'd', 'e'] }),
      (e) => e instanceof OpenAI.BadRequestError && /at most 4/.test(e.message));
    const anonymous = new OpenAI({ baseURL: `${t.url}/v1`, apiKey: 'not-a-key', maxRetries: 0 });
    await assert.rejects(anonymous.models.list(), (e) => e instanceof OpenAI.AuthenticationError);
  });
});
