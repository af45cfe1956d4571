// The demo data generator: a small VQA dataset on the real Fashion-MNIST images (Debian's package
// `dataset-fashion-mnist`) plus the caches of two scripted stand-in teachers. `ril data fashion-mnist`
// calls buildFashionMnistVqa; docs/fashion-mnist.md is the user-facing description.
//
// Directory written (others depend on it):
//   DIR/dataset.json          {"name": "fashion-mnist-vqa", "version": 1, "teachers": [...], "seed": S,
//                              "source": "...", "templates": [{"id": "name", "question": "..."}, ...]}
//   DIR/examples.jsonl        {"id", "image": "images/<file>.png", "question", "answer", "split"}
//   DIR/images/<set>-<index>.png   28x28 8-bit 1-channel grayscale, pixels = the IDX bytes
//   DIR/teachers/<name>.jsonl {"example", "teacher", "sample": 0..K-1, "text"}
//
// Rules:
// - `limit` counts EXAMPLES (default 3000). Each chosen image yields one example per applicable template
//   (4 or 5, see ./fashionMnist/questions.ts), because asking every question about the same image makes a
//   better small benchmark (per-template accuracy on identical images, consistency across templates); the
//   last image of a split contributes a seeded subset of its templates so the count is exact.
// - Splits: test = round(10% of limit) from the original test set (t10k); val = round(valFraction * limit)
//   (default 10%) and train = the rest, from disjoint images of the original training set.
// - Images are chosen class-balanced: per split, rounds over the 10 classes in a seeded order, one unused
//   image per class a round, each class's images in a seeded order.
// - IDs: `fm-<split>-<source index, 5 digits>-<template>` (e.g. `fm-val-00012-sleeves`); the image file
//   is named by the source, `train-00012.png` or `t10k-00012.png`, and shared by that image's examples.
// - `questions: 'extended'` adds the templates front / ankle / top and the verbose teacher's reasoning from
//   visible attributes (see teachers.ts); dataset.json then says "questions": "extended". The default
//   `basic` writes exactly what earlier versions wrote.
// - Lines are ordered by split (train, val, test), source index, template; teacher lines by example, sample.
// - Same options -> byte-identical directory. Written next to DIR and renamed into place; an existing DIR
//   is replaced only if empty or an earlier fashion-mnist-vqa build.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import {
  assertSourcePresent,
  IMAGE_SIDE,
  imageAt,
  readFashionMnistSet,
  resolveSourceDir,
  type FashionMnistSet,
  type SourceSet,
} from './idx.js';
import { answerFor, applicableTemplates, CLASS_IDS, QUESTION_SETS, templatesOf, type ClassId, type QuestionSet, type Template, type TemplateId } from './questions.js';
import { rngFor, shuffle } from './random.js';
import { TEACHERS, teacherResponses, type TeacherName } from './teachers.js';

export * from './idx.js';
export * from './questions.js';
export * from './teachers.js';

export const DATASET_NAME = 'fashion-mnist-vqa';
export const DEFAULT_LIMIT = 3000;
export const DEFAULT_SEED = 1;
export const DEFAULT_SAMPLES_PER_TEACHER = 4;
export const DEFAULT_VAL_FRACTION = 0.1;
export const TEST_FRACTION = 0.1;

export type Split = 'train' | 'val' | 'test';

export interface FashionMnistOptions {
  out: string;
  /** Total number of examples across splits (default 3000). */
  limit?: number;
  seed?: number;
  /** Default: env RIL_FASHION_MNIST_DIR, else /usr/share/datasets/fashion-mnist. */
  sourceDir?: string;
  samplesPerTeacher?: number;
  /** Share of the examples in val (default 0.1); test is always 10%. */
  valFraction?: number;
  /** `basic` (default: the five original templates, output unchanged) or `extended` (three harder templates
   *  on confusable classes, and a verbose teacher that reasons from visible attributes; docs/fashion-mnist.md). */
  questions?: QuestionSet;
  /** Called after each image is written. */
  onProgress?: (done: number, total: number) => void;
}

export interface FashionMnistResult {
  examples: number;
  splits: Record<Split, number>;
  teachers: string[];
  /** Teacher lines written, all teachers together. */
  responses: number;
  /** The absolute output directory. */
  out: string;
}

export interface ExampleRecord {
  id: string;
  image: string;
  question: string;
  answer: string;
  split: Split;
}

interface ChosenImage {
  set: SourceSet;
  index: number;
  label: ClassId;
  split: Split;
  templates: Template[];
}

const imageKey = (set: SourceSet, index: number) => `${set}-${String(index).padStart(5, '0')}`;
const exampleId = (split: Split, index: number, template: TemplateId) => `fm-${split}-${String(index).padStart(5, '0')}-${template}`;

function checkOptions(opts: FashionMnistOptions) {
  const limit = opts.limit ?? DEFAULT_LIMIT;
  const seed = opts.seed ?? DEFAULT_SEED;
  const samples = opts.samplesPerTeacher ?? DEFAULT_SAMPLES_PER_TEACHER;
  const valFraction = opts.valFraction ?? DEFAULT_VAL_FRACTION;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer (examples), got ${limit}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  if (!Number.isSafeInteger(samples) || samples < 1 || samples > 64) throw new Error(`samplesPerTeacher must be an integer in 1..64, got ${samples}`);
  if (!(valFraction >= 0 && valFraction <= 0.5)) throw new Error(`valFraction must be in [0, 0.5], got ${valFraction}`);
  const questions = opts.questions ?? 'basic';
  if (!QUESTION_SETS.includes(questions)) throw new Error(`questions must be one of ${QUESTION_SETS.join(', ')}, got ${questions}`);
  if (!opts.out) throw new Error('out is required');
  return { limit, seed, samples, valFraction, questions };
}

/** Each class's image indices in a seeded order, with a cursor shared by the splits drawing from the set. */
function classQueues(seed: number, data: FashionMnistSet) {
  const byClass: number[][] = CLASS_IDS.map(() => []);
  data.labels.forEach((label, index) => byClass[label].push(index));
  return {
    lists: byClass.map((list, c) => shuffle(rngFor(seed, `order:${data.set}:${c}`), list)),
    next: CLASS_IDS.map(() => 0),
  };
}

/** Class-balanced images for one split until `budget` examples; the last image may get fewer templates. */
function chooseImages(seed: number, split: Split, data: FashionMnistSet, queues: ReturnType<typeof classQueues>, budget: number, set: QuestionSet): ChosenImage[] {
  const rng = rngFor(seed, `pick:${split}`);
  const chosen: ChosenImage[] = [];
  let left = budget;
  while (left > 0) {
    const round = shuffle(rng, CLASS_IDS.filter((c) => queues.next[c] < queues.lists[c].length));
    if (round.length === 0) throw new Error(`the ${data.set} set has too few images for ${budget} ${split} examples; lower limit`);
    for (const label of round) {
      if (left === 0) break;
      const index = queues.lists[label][queues.next[label]++];
      let templates = applicableTemplates(label, set);
      if (templates.length > left) {
        const keep = new Set(shuffle(rng, templates.slice()).slice(0, left));
        templates = templates.filter((t) => keep.has(t));
      }
      chosen.push({ set: data.set, index, label, split, templates });
      left -= templates.length;
    }
  }
  return chosen.sort((a, b) => a.index - b.index);
}

/** PNG bytes for one image: 8-bit grayscale (colour type 0). sharp writes RGB unless told 'b-w'. */
export async function encodeGrayPng(pixels: Uint8Array): Promise<Buffer> {
  const png = await sharp(pixels, { raw: { width: IMAGE_SIDE, height: IMAGE_SIDE, channels: 1 } })
    .toColourspace('b-w')
    .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
    .toBuffer();
  // IHDR: bit depth at byte 24, colour type at byte 25 (0 = grayscale).
  if (png[24] !== 8 || png[25] !== 0) throw new Error(`sharp wrote a PNG with bit depth ${png[24]} and colour type ${png[25]}, expected 8-bit grayscale`);
  return png;
}

async function writeLines(file: string, lines: Iterable<string>): Promise<void> {
  const handle = await fsp.open(file, 'w');
  try {
    let chunk: string[] = [];
    for (const line of lines) {
      chunk.push(line);
      if (chunk.length >= 4096) {
        await handle.write(chunk.join('\n') + '\n');
        chunk = [];
      }
    }
    if (chunk.length) await handle.write(chunk.join('\n') + '\n');
  } finally {
    await handle.close();
  }
}

/** Throws unless `out` is absent, empty, or an earlier build of this generator (which gets replaced). */
function checkOutDir(out: string): void {
  if (!fs.existsSync(out)) return;
  if (!fs.statSync(out).isDirectory()) throw new Error(`${out} exists and is not a directory`);
  if (fs.readdirSync(out).length === 0) return;
  try {
    const meta = JSON.parse(fs.readFileSync(path.join(out, 'dataset.json'), 'utf8')) as { name?: unknown };
    if (meta.name === DATASET_NAME) return;
  } catch {
    // fall through
  }
  throw new Error(`${out} is not empty and not an earlier ${DATASET_NAME} build; pick a new or empty directory`);
}

export async function buildFashionMnistVqa(opts: FashionMnistOptions): Promise<FashionMnistResult> {
  const { limit, seed, samples, valFraction, questions } = checkOptions(opts);
  const out = path.resolve(opts.out);
  const sourceDir = resolveSourceDir(opts.sourceDir);
  assertSourcePresent(sourceDir);
  checkOutDir(out);

  const [train, test] = await Promise.all([readFashionMnistSet(sourceDir, 'train'), readFashionMnistSet(sourceDir, 't10k')]);
  const testBudget = Math.round(limit * TEST_FRACTION);
  const valBudget = Math.round(limit * valFraction);
  const trainQueues = classQueues(seed, train);
  const images = [
    ...chooseImages(seed, 'train', train, trainQueues, limit - testBudget - valBudget, questions),
    ...chooseImages(seed, 'val', train, trainQueues, valBudget, questions), // continues the queues: disjoint from train
    ...chooseImages(seed, 'test', test, classQueues(seed, test), testBudget, questions),
  ];

  const examples: (ExampleRecord & { imageKey: string; label: ClassId; template: TemplateId })[] = [];
  for (const img of images) {
    const key = imageKey(img.set, img.index);
    for (const t of img.templates) {
      examples.push({
        id: exampleId(img.split, img.index, t.id),
        image: `images/${key}.png`,
        question: t.question,
        answer: answerFor(t.id, img.label)!,
        split: img.split,
        imageKey: key,
        label: img.label,
        template: t.id,
      });
    }
  }

  const tmp = `${out}.partial-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  await fsp.mkdir(path.join(tmp, 'images'), { recursive: true });
  await fsp.mkdir(path.join(tmp, 'teachers'), { recursive: true });
  let responses = 0;
  try {
    // Images, a few at a time (sharp works off the main thread).
    let done = 0;
    let cursor = 0;
    const worker = async () => {
      while (cursor < images.length) {
        const img = images[cursor++];
        const data = img.set === 'train' ? train : test;
        await fsp.writeFile(path.join(tmp, 'images', `${imageKey(img.set, img.index)}.png`), await encodeGrayPng(imageAt(data.images, img.index)));
        opts.onProgress?.(++done, images.length);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));

    await writeLines(
      path.join(tmp, 'examples.jsonl'),
      examples.map(({ id, image, question, answer, split }) => JSON.stringify({ id, image, question, answer, split })),
    );
    for (const teacher of TEACHERS) {
      await writeLines(path.join(tmp, 'teachers', `${teacher}.jsonl`), (function* () {
        for (const ex of examples) {
          for (const line of teacherResponses(seed, teacher as TeacherName, ex, samples, questions)) {
            responses++;
            yield JSON.stringify(line);
          }
        }
      })());
    }
    const meta = {
      name: DATASET_NAME,
      version: 1,
      teachers: [...TEACHERS],
      seed,
      source: `Fashion-MNIST (Zalando Research, MIT licence) from Debian's dataset-fashion-mnist: ${sourceDir}`,
      templates: templatesOf(questions).map(({ id, question }) => ({ id, question })),
      // only in extended builds, so a basic build stays byte-identical to earlier ones
      ...(questions === 'extended' ? { questions } : {}),
    };
    await fsp.writeFile(path.join(tmp, 'dataset.json'), JSON.stringify(meta, null, 2) + '\n');

    // Swap into place: the old build (if any) goes only once the new one is complete.
    const old = `${out}.old-${process.pid}`;
    if (fs.existsSync(out)) await fsp.rename(out, old);
    await fsp.rename(tmp, out);
    await fsp.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fsp.rm(tmp, { recursive: true, force: true });
    throw err;
  }

  const splits: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const ex of examples) splits[ex.split]++;
  return { examples: examples.length, splits, teachers: [...TEACHERS], responses, out };
}
