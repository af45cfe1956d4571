// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// The Fashion-MNIST VQA generator against the real IDX files of Debian's dataset-fashion-mnist.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import {
  ANSWER_SPACE,
  answerFor,
  buildFashionMnistVqa,
  CLASSES,
  DEFAULT_SOURCE_DIR,
  EXTENDED_TEMPLATES,
  VISIBLE_ATTRIBUTES,
  imageAt,
  mentionsAnswer,
  parseIdxLabels,
  readFashionMnistSet,
  TEACHER_CONFUSIONS,
  TEACHERS,
  type ClassId,
  type FashionMnistSet,
  type TemplateId,
} from '../clients/cli/src/data/fashionMnist/index.js';

const SOURCE = process.env.RIL_FASHION_MNIST_DIR ?? DEFAULT_SOURCE_DIR;
const skip = fs.existsSync(path.join(SOURCE, 'train-images-idx3-ubyte.gz'))
  ? false
  : `Fashion-MNIST not installed at ${SOURCE} (apt-get install dataset-fashion-mnist)`;

interface Example { id: string; image: string; question: string; answer: string; split: string }
interface Line { example: string; teacher: string; sample: number; text: string }

const readJsonl = <T>(file: string): T[] =>
  fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as T);
const templateOf = (id: string) => id.split('-').at(-1) as TemplateId;
/** `images/train-00012.png` -> ['train', 12]. */
const sourceOf = (image: string) => {
  const m = /^images\/(train|t10k)-(\d{5})\.png$/.exec(image);
  assert.ok(m, `image path ${image}`);
  return [m[1] as 'train' | 't10k', Number(m[2])] as const;
};
const filesUnder = (dir: string): string[] =>
  fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();

describe('fashion-mnist VQA generator', { skip }, () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-fm-'));
  const small = path.join(tmp, 'small');
  let sets: Record<'train' | 't10k', FashionMnistSet>;
  let progress: [number, number][] = [];
  let smallResult: Awaited<ReturnType<typeof buildFashionMnistVqa>>;

  before(async () => {
    const [train, t10k] = await Promise.all([readFashionMnistSet(SOURCE, 'train'), readFashionMnistSet(SOURCE, 't10k')]);
    sets = { train, t10k };
    smallResult = await buildFashionMnistVqa({
      out: small, limit: 60, seed: 7, samplesPerTeacher: 3, sourceDir: SOURCE,
      onProgress: (done, total) => progress.push([done, total]),
    });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('IDX: the real files parse with the known counts (6000 per class in train, 1000 in t10k)', () => {
    assert.equal(sets.train.images.count, 60000);
    assert.equal(sets.t10k.images.count, 10000);
    for (const [set, perClass] of [['train', 6000], ['t10k', 1000]] as const) {
      const counts = new Array(10).fill(0);
      for (const l of sets[set].labels) counts[l]++;
      assert.deepEqual(counts, new Array(10).fill(perClass), set);
    }
    // a wrong magic number is rejected
    const bad = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 1, 5]);
    assert.throws(() => parseIdxLabels(bad), /magic number 2051, expected 2049/);
  });

  test('small build: limit counts examples, split rule, progress per image', () => {
    assert.equal(smallResult.examples, 60);
    assert.deepEqual(smallResult.splits, { train: 48, val: 6, test: 6 });
    assert.deepEqual(smallResult.teachers, [...TEACHERS]);
    assert.equal(smallResult.responses, 60 * 3 * TEACHERS.length);
    const examples = readJsonl<Example>(path.join(small, 'examples.jsonl'));
    const imagesBySplit = { train: new Set<string>(), val: new Set<string>(), test: new Set<string>() };
    for (const ex of examples) imagesBySplit[ex.split as 'train'].add(ex.image);
    for (const img of imagesBySplit.test) assert.match(img, /^images\/t10k-/);
    for (const img of [...imagesBySplit.train, ...imagesBySplit.val]) assert.match(img, /^images\/train-/);
    for (const img of imagesBySplit.val) assert.ok(!imagesBySplit.train.has(img), `${img} in train and val`);
    const nImages = fs.readdirSync(path.join(small, 'images')).length;
    assert.equal(progress.length, nImages);
    assert.deepEqual(progress.at(-1), [nImages, nImages]);
  });

  test('small build: files match the directory contract and the answer table', () => {
    const meta = JSON.parse(fs.readFileSync(path.join(small, 'dataset.json'), 'utf8'));
    assert.equal(meta.name, 'fashion-mnist-vqa');
    assert.equal(meta.version, 1);
    assert.equal(meta.seed, 7);
    assert.deepEqual(meta.teachers, ['teacher-concise', 'teacher-verbose']);
    assert.equal(typeof meta.source, 'string');
    assert.deepEqual(meta.templates.map((t: { id: string }) => t.id), ['name', 'feet', 'body', 'sleeves', 'category']);

    const examples = readJsonl<Example>(path.join(small, 'examples.jsonl'));
    assert.equal(new Set(examples.map((e) => e.id)).size, examples.length, 'ids unique');
    for (const ex of examples) {
      assert.deepEqual(Object.keys(ex), ['id', 'image', 'question', 'answer', 'split']);
      assert.match(ex.id, /^fm-(train|val|test)-\d{5}-(name|feet|body|sleeves|category)$/);
      const [set, index] = sourceOf(ex.image);
      assert.ok(ex.id.startsWith(`fm-${ex.split}-${String(index).padStart(5, '0')}-`));
      assert.ok(fs.existsSync(path.join(small, ex.image)));
      const label = sets[set].labels[index] as ClassId;
      const template = templateOf(ex.id);
      assert.equal(ex.answer, answerFor(template, label), ex.id);
      assert.equal(ex.question, meta.templates.find((t: { id: string }) => t.id === template).question);
    }
    // sleeves are never asked about the ambiguous classes
    for (const ex of examples.filter((e) => templateOf(e.id) === 'sleeves')) {
      const [set, index] = sourceOf(ex.image);
      assert.ok(![0, 3].includes(sets[set].labels[index]), `${ex.id} asks about sleeves of an ambiguous class`);
    }
  });

  test('small build: PNGs are 28x28 1-channel 8-bit and their pixels equal the IDX bytes', async () => {
    const files = fs.readdirSync(path.join(small, 'images'));
    assert.ok(files.length > 0);
    for (const file of files) {
      const png = fs.readFileSync(path.join(small, 'images', file));
      const meta = await sharp(png).metadata();
      assert.equal(meta.format, 'png');
      assert.equal(meta.width, 28);
      assert.equal(meta.height, 28);
      assert.equal(meta.channels, 1, `${file} channels`);
      assert.equal(meta.depth, 'uchar');
      const { data, info } = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
      assert.equal(info.channels, 1);
      const [set, index] = sourceOf(`images/${file}`);
      assert.ok(Buffer.from(imageAt(sets[set].images, index)).equals(data), `${file} pixels`);
    }
  });

  test('small build: teacher lines refer to examples, samples 0..K-1 once each', () => {
    const ids = new Set(readJsonl<Example>(path.join(small, 'examples.jsonl')).map((e) => e.id));
    for (const teacher of TEACHERS) {
      const lines = readJsonl<Line>(path.join(small, 'teachers', `${teacher}.jsonl`));
      const seen = new Map<string, number[]>();
      for (const line of lines) {
        assert.deepEqual(Object.keys(line), ['example', 'teacher', 'sample', 'text']);
        assert.equal(line.teacher, teacher);
        assert.ok(ids.has(line.example), `${teacher}: unknown example ${line.example}`);
        assert.ok(line.text.length > 0);
        seen.set(line.example, [...(seen.get(line.example) ?? []), line.sample]);
      }
      assert.equal(seen.size, ids.size, `${teacher} answers every example`);
      for (const [id, samples] of seen) assert.deepEqual(samples.sort(), [0, 1, 2], `${teacher} ${id}`);
    }
  });

  test('determinism: same seed -> identical bytes; another seed -> other examples', async () => {
    const again = path.join(tmp, 'again');
    await buildFashionMnistVqa({ out: again, limit: 60, seed: 7, samplesPerTeacher: 3, sourceDir: SOURCE });
    const files = filesUnder(small);
    assert.deepEqual(filesUnder(again), files);
    for (const f of files) assert.ok(fs.readFileSync(path.join(small, f)).equals(fs.readFileSync(path.join(again, f))), f);

    const other = path.join(tmp, 'other');
    await buildFashionMnistVqa({ out: other, limit: 60, seed: 8, samplesPerTeacher: 3, sourceDir: SOURCE });
    for (const f of ['examples.jsonl', 'teachers/teacher-concise.jsonl', 'teachers/teacher-verbose.jsonl']) {
      assert.notEqual(fs.readFileSync(path.join(other, f), 'utf8'), fs.readFileSync(path.join(small, f), 'utf8'), f);
    }
  });

  test('output directory: an earlier build is replaced, a foreign directory is refused', async () => {
    const r = await buildFashionMnistVqa({ out: small, limit: 60, seed: 7, samplesPerTeacher: 3, sourceDir: SOURCE });
    assert.equal(r.examples, 60);
    assert.deepEqual(fs.readdirSync(tmp).filter((f) => /partial|old/.test(f)), []);
    const foreign = path.join(tmp, 'foreign');
    fs.mkdirSync(foreign);
    fs.writeFileSync(path.join(foreign, 'notes.txt'), 'mine');
    await assert.rejects(buildFashionMnistVqa({ out: foreign, limit: 10, sourceDir: SOURCE }), /not empty/);
    assert.equal(fs.readFileSync(path.join(foreign, 'notes.txt'), 'utf8'), 'mine');
  });

  test('missing source files: the install hint', async () => {
    const empty = fs.mkdtempSync(path.join(tmp, 'nosrc-'));
    const hint = "install Debian's package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or set RIL_FASHION_MNIST_DIR";
    await assert.rejects(buildFashionMnistVqa({ out: path.join(tmp, 'x'), sourceDir: empty }), (err: Error) => err.message.includes(hint));
    const saved = process.env.RIL_FASHION_MNIST_DIR;
    process.env.RIL_FASHION_MNIST_DIR = empty;
    try {
      await assert.rejects(buildFashionMnistVqa({ out: path.join(tmp, 'x') }), (err: Error) => err.message.includes(hint));
    } finally {
      if (saved === undefined) delete process.env.RIL_FASHION_MNIST_DIR;
      else process.env.RIL_FASHION_MNIST_DIR = saved;
    }
    assert.ok(!fs.existsSync(path.join(tmp, 'x')));
  });

  test('whole-word answer matching keeps shirt and t-shirt apart', () => {
    assert.ok(mentionsAnswer('T-shirt.', 't-shirt'));
    assert.ok(!mentionsAnswer('T-shirt.', 'shirt'));
    assert.ok(mentionsAnswer('A shirt, I think', 'shirt'));
    assert.ok(!mentionsAnswer('a shirt', 't-shirt'));
    assert.ok(mentionsAnswer('an Ankle  boot.', 'ankle boot'));
    assert.ok(!mentionsAnswer('None of them', 'no'));
    assert.ok(!mentionsAnswer('the dresses', 'dress'));
    // canonical names: no name is a whole word of another
    for (const a of ANSWER_SPACE.name) for (const b of ANSWER_SPACE.name) if (a !== b) assert.ok(!mentionsAnswer(a, b), `${b} in ${a}`);
  });

  describe('the extended question set', () => {
    const ext = path.join(tmp, 'extended');
    let examples: Example[];
    const lines: Record<string, Line[]> = {};
    let meta: { templates: { id: string }[]; questions?: string };

    before(async () => {
      await buildFashionMnistVqa({ out: ext, limit: 400, seed: 3, sourceDir: SOURCE, questions: 'extended' });
      examples = readJsonl<Example>(path.join(ext, 'examples.jsonl'));
      for (const t of TEACHERS) lines[t] = readJsonl<Line>(path.join(ext, 'teachers', `${t}.jsonl`));
      meta = JSON.parse(fs.readFileSync(path.join(ext, 'dataset.json'), 'utf8'));
    });

    test('templates and answers: front / ankle / top only where they apply', () => {
      assert.equal(meta.questions, 'extended');
      assert.deepEqual(meta.templates.map((t) => t.id), EXTENDED_TEMPLATES.map((t) => t.id));
      assert.equal(examples.length, 400);
      const seen = new Set(examples.map((e) => templateOf(e.id)));
      for (const t of ['front', 'ankle', 'top']) assert.ok(seen.has(t as TemplateId), t);
      for (const ex of examples) {
        const [set, index] = sourceOf(ex.image);
        const label = sets[set].labels[index] as ClassId;
        assert.equal(ex.answer, answerFor(templateOf(ex.id), label), ex.id);
        if (templateOf(ex.id) === 'front') assert.ok([0, 2, 4, 6].includes(label));
        if (templateOf(ex.id) === 'ankle') assert.ok([5, 7, 9].includes(label));
      }
    });

    test('every text names one answer of its template, stated last; verbose reasons from the attributes it sees', () => {
      const byId = new Map(examples.map((e) => [e.id, e]));
      for (const teacher of TEACHERS) {
        const confusions = TEACHER_CONFUSIONS[teacher as keyof typeof TEACHER_CONFUSIONS];
        for (const line of lines[teacher]) {
          const ex = byId.get(line.example)!;
          const template = templateOf(ex.id);
          const said = ANSWER_SPACE[template].filter((a) => mentionsAnswer(line.text, a));
          assert.equal(said.length, 1, `${teacher} ${ex.id}: "${line.text}" names ${JSON.stringify(said)}`);
          // the Python rule judge takes the first yes/no word: it must be the one answer named
          if (ex.answer === 'yes' || ex.answer === 'no') assert.equal(/\b(yes|no)\b/i.exec(line.text)![1].toLowerCase(), said[0]);
          const [set, index] = sourceOf(ex.image);
          const label = sets[set].labels[index] as ClassId;
          const confusion = confusions.find((c) => c.from === label);
          // a misread top changes the answers that tell the confused pair apart: name, top and front
          if (!confusion || !['name', 'top', 'front'].includes(template)) assert.equal(said[0], ex.answer, `${teacher} ${ex.id}: "${line.text}"`);
          if (teacher === 'teacher-verbose') {
            const perceived = CLASSES.find((c) => mentionsAnswer(line.text, c.name))!.label;
            assert.ok(line.text.includes(VISIBLE_ATTRIBUTES[perceived]), `"${line.text}"`);
            assert.ok(line.text.trimEnd().endsWith(`${said[0]}.`), `answer last: "${line.text}"`);
          }
        }
      }
    });

    test('the basic set is unchanged by the option (default = basic)', async () => {
      const again = path.join(tmp, 'basic-explicit');
      await buildFashionMnistVqa({ out: again, limit: 60, seed: 7, samplesPerTeacher: 3, sourceDir: SOURCE, questions: 'basic' });
      for (const f of filesUnder(small)) assert.ok(fs.readFileSync(path.join(small, f)).equals(fs.readFileSync(path.join(again, f))), f);
    });
  });

  describe('a 3000-example build', () => {
    const big = path.join(tmp, 'big');
    let examples: Example[];
    const lines: Record<string, Line[]> = {};
    let seconds = 0;

    before(async () => {
      const t0 = performance.now();
      await buildFashionMnistVqa({ out: big, limit: 3000, seed: 1, sourceDir: SOURCE });
      seconds = (performance.now() - t0) / 1000;
      examples = readJsonl<Example>(path.join(big, 'examples.jsonl'));
      for (const t of TEACHERS) lines[t] = readJsonl<Line>(path.join(big, 'teachers', `${t}.jsonl`));
    });

    test('size, balance and speed', () => {
      assert.equal(examples.length, 3000);
      assert.ok(seconds < 15, `took ${seconds.toFixed(1)} s`);
      const perClass = new Array(10).fill(0);
      for (const ex of examples.filter((e) => templateOf(e.id) === 'name')) {
        const [set, index] = sourceOf(ex.image);
        perClass[sets[set].labels[index]]++;
      }
      assert.ok(Math.max(...perClass) - Math.min(...perClass) <= 3, `class balance ${perClass}`);
    });

    test('the two teachers differ in style', () => {
      const mean = (t: string) => lines[t].reduce((s, l) => s + l.text.length, 0) / lines[t].length;
      const concise = mean('teacher-concise');
      const verbose = mean('teacher-verbose');
      assert.ok(concise < 20, `concise mean ${concise}`);
      assert.ok(verbose > 4 * concise, `verbose mean ${verbose} vs concise ${concise}`);
      // paraphrases: the samples for one question are not all the same text
      for (const t of TEACHERS) {
        const byExample = new Map<string, Set<string>>();
        for (const l of lines[t]) byExample.set(l.example, (byExample.get(l.example) ?? new Set()).add(l.text));
        const distinct = [...byExample.values()].filter((s) => s.size >= 3).length / byExample.size;
        assert.ok(distinct > 0.9, `${t}: ${distinct} of questions have 3+ distinct samples`);
      }
    });

    test('each text names exactly one answer of its template: right outside the confusions, at the documented rate inside', () => {
      const byId = new Map(examples.map((e) => [e.id, e]));
      const labelOf = (ex: Example) => { const [set, index] = sourceOf(ex.image); return sets[set].labels[index] as ClassId; };
      for (const teacher of TEACHERS) {
        const confusions = TEACHER_CONFUSIONS[teacher as keyof typeof TEACHER_CONFUSIONS];
        const misread = new Map<number, { n: number; wrong: number }>();
        for (const line of lines[teacher]) {
          const ex = byId.get(line.example)!;
          const template = templateOf(ex.id);
          const said = ANSWER_SPACE[template].filter((a) => mentionsAnswer(line.text, a));
          assert.equal(said.length, 1, `${teacher} ${ex.id}: "${line.text}" names ${JSON.stringify(said)}`);
          const label = labelOf(ex);
          const confusion = confusions.find((c) => c.from === label);
          if (template !== 'name' || !confusion) {
            assert.equal(said[0], ex.answer, `${teacher} ${ex.id}: "${line.text}"`);
            continue;
          }
          assert.ok([ex.answer, CLASSES[confusion.to].name].includes(said[0]), `${teacher} ${ex.id}: "${line.text}"`);
          const m = misread.get(label) ?? { n: 0, wrong: 0 };
          m.n++;
          if (said[0] !== ex.answer) m.wrong++;
          misread.set(label, m);
        }
        for (const c of confusions) {
          const m = misread.get(c.from)!;
          const rate = m.wrong / m.n;
          const tolerance = 3.5 * Math.sqrt((c.rate * (1 - c.rate)) / m.n) + 0.01;
          assert.ok(Math.abs(rate - c.rate) <= tolerance,
            `${teacher} reads ${CLASSES[c.from].name} as ${CLASSES[c.to].name} ${rate.toFixed(3)} of ${m.n}, documented ${c.rate} +- ${tolerance.toFixed(3)}`);
        }
      }
    });

    test('a misreading is consistent across the questions about one image (verbose names the item it sees)', () => {
      const byId = new Map(examples.map((e) => [e.id, e]));
      const seen = new Map<string, Set<string>>();
      for (const line of lines['teacher-verbose']) {
        const ex = byId.get(line.example)!;
        const names = ANSWER_SPACE.name.filter((n) => mentionsAnswer(line.text, n));
        assert.equal(names.length, 1, `"${line.text}"`);
        const key = `${ex.image}#${line.sample}`;
        seen.set(key, (seen.get(key) ?? new Set()).add(names[0]));
      }
      for (const [key, names] of seen) assert.equal(names.size, 1, `${key}: ${[...names]}`);
    });
  });
});
