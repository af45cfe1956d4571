// fillTeacherCache against a real local chat-completions server (test/helpers/openaiMock.ts), on the suite's
// database provider (RIL_TEST_DB=sqlite|postgres). Each test seeds its own dataset and teacher.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { createBlobStore, type BlobStore } from '../api/_lib/blobs/index.js';
import { loadEnv } from '../api/_lib/env.js';
import { fillTeacherCache, type FillOptions, type FillProgress } from '../api/_lib/teachers/fill.js';
import { openTestDatabase, type TestDatabase } from './helpers/db.js';
import { defaultRespond, startOpenAIMock, type MockRequest, type OpenAIMock, type OpenAIMockOptions } from './helpers/openaiMock.js';

const KEY_VAR = 'RIL_TEST_TEACHER_KEY';
const KEY = 'sk-test-SECRET-do-not-leak-0123456789';
// the operator's settings: the key variable is allowlisted, and so is the mock's host (127.0.0.1, any port)
const SETTINGS = { RIL_SECRET_ENV_ALLOWLIST: KEY_VAR, RIL_OUTBOUND_ALLOW_HOSTS: '127.0.0.1' };
const ENV = { [KEY_VAR]: KEY, ...SETTINGS };

let db: TestDatabase;
let blobs: BlobStore;
let pngs: Buffer[];
let seq = 0;

before(async () => {
  db = await openTestDatabase();
  blobs = await createBlobStore(loadEnv({ RIL_HOME: db.home, RIL_MAX_BLOB_BYTES: String(1 << 20) }), db.prisma);
  pngs = await Promise.all(['#ff0000', '#0000ff', '#00ff00'].map((background) =>
    sharp({ create: { width: 2, height: 2, channels: 3, background } }).png().toBuffer()));
});
after(async () => {
  await db.close();
});

interface Seeded {
  datasetId: string;
  teacher: string;
  teacherId: string;
  /** In ordinal order. */
  examples: { id: string; externalId: string; question: string; image: Buffer; ordinal: number; split: string }[];
}

/** A dataset of `count` examples (inserted out of ordinal order; images cycle through `pngs`) and a teacher. */
async function seed(opts: { count?: number; baseUrl?: string | null; apiKeyEnv?: string | null; kind?: string } = {}): Promise<Seeded> {
  const n = ++seq;
  const count = opts.count ?? 3;
  const rows: { externalId: string; ordinal: number; split: string; imageSha256: string; question: string; answer: string; image: Buffer }[] = [];
  for (let i = 0; i < count; i++) {
    const image = pngs[i % pngs.length];
    const imageSha256 = await blobs.put(image, 'image/png');
    rows.push({ externalId: `ex${i}`, ordinal: i, split: i % 3 === 2 ? 'val' : 'train', imageSha256, question: `q${n}-${i}: what colour?`, answer: 'red', image });
  }
  const dataset = await db.prisma.dataset.create({ data: { name: `ds${n}`, version: 1, exampleCount: count } });
  for (const r of [...rows].reverse()) {
    const { image: _image, ...data } = r;
    await db.prisma.example.create({ data: { ...data, datasetId: dataset.id } });
  }
  const stored = await db.prisma.example.findMany({ where: { datasetId: dataset.id }, orderBy: { ordinal: 'asc' } });
  const teacher = await db.prisma.teacher.create({
    data: {
      name: `teacher${n}`, kind: opts.kind ?? 'ENDPOINT', model: 'big-vlm',
      baseUrl: opts.baseUrl === undefined ? 'http://127.0.0.1:9/v1' : opts.baseUrl,
      apiKeyEnv: opts.apiKeyEnv === undefined ? KEY_VAR : opts.apiKeyEnv,
    },
  });
  return {
    datasetId: dataset.id, teacher: teacher.name, teacherId: teacher.id,
    examples: stored.map((e, i) => ({ id: e.id, externalId: e.externalId, question: e.question, image: rows[i].image, ordinal: e.ordinal, split: e.split })),
  };
}

/** Seeds, starts a mock and points the teacher at it. */
async function setup(mockOpts: OpenAIMockOptions = {}, seedOpts: Parameters<typeof seed>[0] = {}): Promise<Seeded & { mock: OpenAIMock }> {
  const mock = await startOpenAIMock({ apiKey: KEY, model: 'big-vlm', requireImage: true, ...mockOpts });
  const s = await seed(seedOpts);
  await db.prisma.teacher.update({ where: { id: s.teacherId }, data: { baseUrl: mock.url } });
  return { ...s, mock };
}

/** Fast retry settings: tests must not sleep for real backoffs. */
const fill = (s: Seeded, opts: Partial<FillOptions> = {}, env: NodeJS.ProcessEnv = ENV) =>
  fillTeacherCache({ prisma: db.prisma, blobs, env }, {
    datasetId: s.datasetId, teacher: s.teacher, samplesPerExample: 1,
    backoffBaseMs: 1, maxBackoffMs: 5, timeoutMs: 2000, ...opts,
  });

const cachedTexts = async (s: Seeded) => {
  const rows = await db.prisma.teacherResponse.findMany({ where: { teacherId: s.teacherId }, include: { example: true } });
  return new Map(rows.map((r) => [`${r.example.externalId}/${r.sample}`, r.text]));
};

const expectedText = (question: string, sample: number) => defaultRespond({ text: question, seed: sample } as MockRequest);

describe('fillTeacherCache', () => {
  test('fills every (example, sample) pair, sending the stored image as a data URL', async () => {
    const s = await setup();
    try {
      const progress: FillProgress[] = [];
      const result = await fill(s, { samplesPerExample: 2, concurrency: 3, onProgress: (p) => progress.push(p), temperature: 0.7, maxTokens: 64 });
      assert.deepEqual(result, { requested: 6, filled: 6, alreadyCached: 0, failed: 0, errors: [] });

      const texts = await cachedTexts(s);
      assert.equal(texts.size, 6);
      for (const e of s.examples) for (const k of [0, 1]) assert.equal(texts.get(`${e.externalId}/${k}`), expectedText(e.question, k));

      assert.equal(s.mock.requests.length, 6);
      for (const r of s.mock.requests) {
        assert.equal(r.invalid, undefined);
        const e = s.examples.find((x) => x.question === r.text)!;
        assert.ok(e, `request for an unknown question: ${r.text}`);
        assert.equal(r.images.length, 1);
        assert.ok(r.images[0].equals(e.image), 'the image sent is the stored blob');
        assert.equal(r.imageTypes[0], 'image/png');
        assert.equal(r.body.messages[0].content[1].image_url.url, `data:image/png;base64,${e.image.toString('base64')}`);
        assert.equal(r.model, 'big-vlm');
        assert.equal(r.n, 1);
        assert.equal(r.temperature, 0.7);
        assert.equal(r.maxTokens, 64);
        assert.equal(r.headers.authorization, `Bearer ${KEY}`);
      }
      assert.deepEqual(s.mock.requests.map((r) => `${r.text}#${r.seed}`).sort(), s.examples.flatMap((e) => [0, 1].map((k) => `${e.question}#${k}`)).sort());

      assert.deepEqual(progress[0], { done: 0, total: 6, filled: 0, failed: 0 });
      assert.deepEqual(progress.at(-1), { done: 6, total: 6, filled: 6, failed: 0 });
      assert.deepEqual(progress.map((p) => p.done), [0, 1, 2, 3, 4, 5, 6]);
    } finally {
      await s.mock.close();
    }
  });

  test('asks in example-ordinal then sample order; a trailing slash on baseUrl is tolerated', async () => {
    const s = await setup();
    try {
      await db.prisma.teacher.update({ where: { id: s.teacherId }, data: { baseUrl: `${s.mock.url}/` } });
      await fill(s, { samplesPerExample: 2, concurrency: 1 });
      assert.deepEqual(s.mock.requests.map((r) => [r.text, r.seed]), s.examples.flatMap((e) => [[e.question, 0], [e.question, 1]]));
    } finally {
      await s.mock.close();
    }
  });

  test('is resumable: a second fill sends no request', async () => {
    const s = await setup();
    try {
      await fill(s, { samplesPerExample: 2 });
      s.mock.reset();
      const progress: FillProgress[] = [];
      const again = await fill(s, { samplesPerExample: 2, onProgress: (p) => progress.push(p) });
      assert.deepEqual(again, { requested: 0, filled: 0, alreadyCached: 6, failed: 0, errors: [] });
      assert.equal(s.mock.requests.length, 0);
      assert.deepEqual(progress, [{ done: 0, total: 0, filled: 0, failed: 0 }]);
    } finally {
      await s.mock.close();
    }
  });

  test('a partial cache only asks the missing pairs and keeps what was cached', async () => {
    const s = await setup();
    try {
      const [e0, e1, e2] = s.examples;
      await db.prisma.teacherResponse.createMany({
        data: [
          { teacherId: s.teacherId, exampleId: e0.id, sample: 0, text: 'imported 0/0' },
          { teacherId: s.teacherId, exampleId: e1.id, sample: 0, text: 'imported 1/0' },
          { teacherId: s.teacherId, exampleId: e1.id, sample: 1, text: 'imported 1/1' },
          { teacherId: s.teacherId, exampleId: e2.id, sample: 5, text: 'beyond samplesPerExample: ignored' },
        ],
      });
      const result = await fill(s, { samplesPerExample: 2, concurrency: 1 });
      assert.deepEqual(result, { requested: 3, filled: 3, alreadyCached: 3, failed: 0, errors: [] });
      assert.deepEqual(s.mock.requests.map((r) => [r.text, r.seed]), [[e0.question, 1], [e2.question, 0], [e2.question, 1]]);
      const texts = await cachedTexts(s);
      assert.equal(texts.get('ex0/0'), 'imported 0/0');
      assert.equal(texts.get('ex1/1'), 'imported 1/1');
      assert.equal(texts.get('ex0/1'), expectedText(e0.question, 1));

      // More samples per example later: only the new sample indices are asked.
      s.mock.reset();
      const more = await fill(s, { samplesPerExample: 3 });
      assert.deepEqual(more, { requested: 3, filled: 3, alreadyCached: 6, failed: 0, errors: [] });
      assert.deepEqual(s.mock.requests.map((r) => r.seed), [2, 2, 2]);
    } finally {
      await s.mock.close();
    }
  });

  test('limit caps examples (by ordinal) and split filters them', async () => {
    const s = await setup({}, { count: 6 });
    try {
      const first = await fill(s, { samplesPerExample: 2, limit: 2, concurrency: 1 });
      assert.equal(first.requested, 4);
      assert.deepEqual([...new Set(s.mock.requests.map((r) => r.text))], [s.examples[0].question, s.examples[1].question]);
      assert.equal((await fill(s, { samplesPerExample: 2, limit: 2 })).requested, 0, 'the same limit again resumes: nothing to do');

      s.mock.reset();
      const val = await fill(s, { samplesPerExample: 1, split: 'val', concurrency: 1 });
      const valQuestions = s.examples.filter((e) => e.split === 'val').map((e) => e.question);
      assert.equal(val.requested, valQuestions.length);
      assert.deepEqual(s.mock.requests.map((r) => r.text), valQuestions);
    } finally {
      await s.mock.close();
    }
  });

  test('429 then ok: waits the Retry-After seconds, then succeeds', async () => {
    const s = await setup({ script: ['429', 'ok'], retryAfter: '1' }, { count: 1 });
    try {
      const result = await fill(s);
      assert.deepEqual(result, { requested: 1, filled: 1, alreadyCached: 0, failed: 0, errors: [] });
      const [first, second] = s.mock.requests;
      assert.equal(s.mock.requests.length, 2);
      assert.ok(second.receivedAt - first.receivedAt >= 950, `waited only ${second.receivedAt - first.receivedAt} ms`);
    } finally {
      await s.mock.close();
    }
  });

  test('a huge Retry-After is capped by maxRetryAfterMs', async () => {
    const s = await setup({ script: ['429', 'ok'], retryAfter: '3600' }, { count: 1 });
    try {
      const t0 = Date.now();
      const result = await fill(s, { maxRetryAfterMs: 50 });
      assert.equal(result.filled, 1);
      assert.ok(Date.now() - t0 < 2000);
    } finally {
      await s.mock.close();
    }
  });

  for (const step of ['500', '503', 'hang', 'garbage', 'garbage-json', 'empty', 'drop'] as const) {
    test(`retries after ${step}`, async () => {
      const s = await setup({ script: [step, step, 'ok'] }, { count: 1 });
      try {
        const result = await fill(s, { timeoutMs: 300 });
        assert.deepEqual(result, { requested: 1, filled: 1, alreadyCached: 0, failed: 0, errors: [] });
        assert.equal(s.mock.requests.length, 3);
        assert.equal((await cachedTexts(s)).get('ex0/0'), expectedText(s.examples[0].question, 0));
      } finally {
        await s.mock.close();
      }
    });
  }

  test('a pair that exhausts its retries fails with a message; the rest of the fill goes on', async () => {
    let bad = '';
    const s = await setup({ script: (req) => (req.text === bad ? '500' : 'ok') });
    try {
      bad = s.examples[1].question;
      const result = await fill(s, { samplesPerExample: 2, maxRetries: 2, concurrency: 2 });
      assert.equal(result.requested, 6);
      assert.equal(result.filled, 4);
      assert.equal(result.failed, 2);
      assert.equal(result.errors.length, 2);
      for (const k of [0, 1]) {
        const err = result.errors.find((e) => e.startsWith(`example ex1 sample ${k}:`));
        assert.ok(err, `no error for ex1/${k}: ${result.errors.join(' | ')}`);
        assert.match(err, /HTTP 500/);
        assert.match(err, /3 attempts/);
      }
      assert.equal(s.mock.requests.filter((r) => r.text === bad).length, 6, '1 + maxRetries attempts per sample');
      const texts = await cachedTexts(s);
      assert.deepEqual([...texts.keys()].sort(), ['ex0/0', 'ex0/1', 'ex2/0', 'ex2/1']);

      // The failed pairs are still missing, so the next fill asks exactly them.
      bad = '';
      s.mock.reset();
      const retry = await fill(s, { samplesPerExample: 2 });
      assert.deepEqual(retry, { requested: 2, filled: 2, alreadyCached: 4, failed: 0, errors: [] });
    } finally {
      await s.mock.close();
    }
  });

  test('a timeout that never ends counts as failed after maxRetries', async () => {
    const s = await setup({ script: () => 'hang' }, { count: 1 });
    try {
      const result = await fill(s, { timeoutMs: 100, maxRetries: 1 });
      assert.equal(result.failed, 1);
      assert.match(result.errors[0], /^example ex0 sample 0: timed out after 100 ms \(gave up after 2 attempts\)$/);
      assert.equal(s.mock.requests.length, 2);
    } finally {
      await s.mock.close();
    }
  });

  test('401 and other 4xx are not retried', async () => {
    const s = await setup({ script: ['401', '400'] }, { count: 3 });
    try {
      const result = await fill(s, { concurrency: 1 });
      assert.equal(s.mock.requests.length, 3, 'one request per pair: no retries');
      assert.equal(result.filled, 1);
      assert.equal(result.failed, 2);
      assert.match(result.errors[0], /^example ex0 sample 0: HTTP 401 Unauthorized \(not retried\)$/);
      assert.match(result.errors[1], /^example ex1 sample 0: HTTP 400/);
    } finally {
      await s.mock.close();
    }
  });

  test('the API key is sent as a bearer token and never appears in errors or results', async () => {
    // The server expects a different key and echoes the presented one in its 401 body, as OpenAI does.
    const s = await setup({ apiKey: 'sk-the-right-one' }, { count: 2 });
    try {
      const result = await fill(s);
      assert.equal(result.failed, 2);
      assert.deepEqual(s.mock.requests.map((r) => r.headers.authorization), [`Bearer ${KEY}`, `Bearer ${KEY}`]);
      assert.ok(!JSON.stringify(result).includes(KEY), JSON.stringify(result));
      // the 401 body echoes the presented key: it is not quoted at all, only the status is
      assert.match(result.errors[0], /HTTP 401 Unauthorized \(not retried\)/);
    } finally {
      await s.mock.close();
    }
  });

  test('a teacher without apiKeyEnv sends no Authorization header', async () => {
    const s = await setup({ apiKey: undefined }, { count: 1, apiKeyEnv: null });
    try {
      const result = await fill(s, {}, { ...SETTINGS });
      assert.equal(result.filled, 1);
      assert.equal(s.mock.requests[0].headers.authorization, undefined);
    } finally {
      await s.mock.close();
    }
  });

  test('respects the concurrency bound', async () => {
    const s = await setup({ latencyMs: 40 }, { count: 10 });
    try {
      const result = await fill(s, { concurrency: 3 });
      assert.equal(result.filled, 10);
      assert.equal(s.mock.maxInFlight, 3);
    } finally {
      await s.mock.close();
    }
  });

  test('two fills at once never duplicate a cached pair', async () => {
    const s = await setup({ latencyMs: 10 }, { count: 4 });
    try {
      const [a, b] = await Promise.all([fill(s, { samplesPerExample: 2, concurrency: 4 }), fill(s, { samplesPerExample: 2, concurrency: 4 })]);
      assert.equal(a.failed + b.failed, 0);
      assert.equal(a.filled, 8);
      assert.equal(b.filled, 8);
      assert.equal(await db.prisma.teacherResponse.count({ where: { teacherId: s.teacherId } }), 8);
    } finally {
      await s.mock.close();
    }
  });

  test('aborting rejects, keeps what was written, and the next fill resumes', async () => {
    const s = await setup({ latencyMs: 30 }, { count: 6 });
    try {
      const controller = new AbortController();
      const run = fill(s, {
        concurrency: 1,
        signal: controller.signal,
        onProgress: (p) => { if (p.filled === 2) controller.abort(new Error('stopped by test')); },
      });
      await assert.rejects(run, /stopped by test/);
      const written = await db.prisma.teacherResponse.count({ where: { teacherId: s.teacherId } });
      assert.equal(written, 2);
      s.mock.reset();
      const rest = await fill(s, { concurrency: 2 });
      assert.deepEqual(rest, { requested: 4, filled: 4, alreadyCached: 2, failed: 0, errors: [] });
    } finally {
      await s.mock.close();
    }
  });

  test('a soft stop (stopSignal) starts nothing new, lets the requests in flight finish and be cached, then rejects', async () => {
    const s = await setup({ latencyMs: 60 }, { count: 8 });
    try {
      const soft = new AbortController();
      const run = fill(s, {
        concurrency: 3,
        stopSignal: soft.signal,
        onProgress: (p) => { if (p.filled === 1) soft.abort(new Error('budget spent')); },
      });
      await assert.rejects(run, /budget spent/);
      const written = await db.prisma.teacherResponse.count({ where: { teacherId: s.teacherId } });
      assert.equal(written, s.mock.requests.length, 'every request sent was answered and cached');
      assert.ok(written >= 2 && written < 8, `the two others in flight finished too (${written})`);
      const rest = await fill(s, { concurrency: 2 });
      assert.deepEqual(rest, { requested: 8 - written, filled: 8 - written, alreadyCached: written, failed: 0, errors: [] });
      assert.equal(new Set(s.mock.requests.map((r) => r.text)).size, 8, 'nothing asked twice');
      assert.equal(s.mock.requests.length, 8);
    } finally {
      await s.mock.close();
    }
  });

  test('a missing image blob fails its pairs without a request', async () => {
    const s = await setup({}, { count: 2 });
    try {
      const missing = 'f'.repeat(64);
      await db.prisma.example.update({ where: { id: s.examples[0].id }, data: { imageSha256: missing } });
      const result = await fill(s, { samplesPerExample: 2 });
      assert.equal(result.filled, 2);
      assert.equal(result.failed, 2);
      assert.match(result.errors[0], /image blob f+ is missing/);
      assert.equal(s.mock.requests.length, 2);
    } finally {
      await s.mock.close();
    }
  });

  describe('validation', () => {
    const code = (c: string) => (err: unknown) => {
      assert.equal((err as { extensions?: { code?: string } }).extensions?.code, c, String(err));
      return true;
    };

    test('unknown dataset or teacher: NOT_FOUND', async () => {
      const s = await seed({ count: 1 });
      await assert.rejects(fill({ ...s, datasetId: 'nope' }), code('NOT_FOUND'));
      await assert.rejects(fill({ ...s, teacher: 'nope' }), code('NOT_FOUND'));
    });

    test('IMPORTED teacher or no baseUrl: BAD_USER_INPUT', async () => {
      await assert.rejects(fill(await seed({ count: 1, kind: 'IMPORTED' })), code('BAD_USER_INPUT'));
      await assert.rejects(fill(await seed({ count: 1, baseUrl: null })), code('BAD_USER_INPUT'));
      await assert.rejects(fill(await seed({ count: 1, baseUrl: 'ftp://example.com/v1' })), code('BAD_USER_INPUT'));
    });

    test('out-of-range numbers: BAD_USER_INPUT', async () => {
      const s = await seed({ count: 1 });
      for (const bad of [{ samplesPerExample: 0 }, { samplesPerExample: 65 }, { samplesPerExample: 1.5 }, { concurrency: 0 },
        { concurrency: 65 }, { limit: 0 }, { maxRetries: -1 }, { temperature: 3 }, { split: 'dev' as 'val' }]) {
        await assert.rejects(fill(s, bad), code('BAD_USER_INPUT'), JSON.stringify(bad));
      }
    });

    test('missing API key variable: BAD_USER_INPUT naming the variable, no request sent', async () => {
      const s = await setup({}, { count: 1 });
      try {
        await assert.rejects(fill(s, {}, { OTHER: 'x', ...SETTINGS }), (err: Error) => {
          code('BAD_USER_INPUT')(err);
          assert.match(err.message, new RegExp(`${KEY_VAR}, which is not set`));
          return true;
        });
        assert.equal(s.mock.requests.length, 0);
      } finally {
        await s.mock.close();
      }
    });
  });
});
