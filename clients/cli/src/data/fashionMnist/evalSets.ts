// Evaluation datasets derived from a Fashion-MNIST VQA build: one per question template, each holding the build's
// test examples of that template (same ids, same images, the teachers' cached responses for them). A suite over them
// has one column per kind of question (item names, footwear, sleeves, ...), the way the paper's Table 1 has one per
// benchmark, instead of one number that mixes easy yes/no questions with naming the item.
//
//   DIR/eval/<template>/dataset.json     {"name": "fashion-mnist-vqa-<template>", "version": 1, "template", "question", "from": ...}
//   DIR/eval/<template>/examples.jsonl   the test examples of the template (split "test"), in the build's order
//   DIR/eval/<template>/images/*.png     hard links to (or copies of) the build's images they use
//   DIR/eval/<template>/teachers/*.jsonl the build's teacher lines for those examples
//
// Derived from the files only, so it is deterministic and can be added to an existing build (the demo does that).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { DATASET_NAME } from './index.js';

export interface EvalSet { template: string; name: string; dir: string; examples: number }

const readJsonl = (file: string) => fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as Record<string, unknown>);

function linkOrCopy(from: string, to: string) {
  try {
    fs.linkSync(from, to);
  } catch {
    fs.copyFileSync(from, to);
  }
}

/** Writes DIR/eval/<template>/ (or OUT/<template>/) for every template with test examples, replacing an earlier
 * one; returns them in template order. */
export async function writeEvalSets(buildDir: string, outRoot = path.join(buildDir, 'eval')): Promise<EvalSet[]> {
  const meta = JSON.parse(fs.readFileSync(path.join(buildDir, 'dataset.json'), 'utf8')) as { name: string; templates: { id: string; question: string }[] };
  if (meta.name !== DATASET_NAME) throw new Error(`${buildDir} is not a ${DATASET_NAME} build`);
  const templateOf = new Map(meta.templates.map((t) => [t.question, t.id]));
  const tests = readJsonl(path.join(buildDir, 'examples.jsonl')).filter((e) => e.split === 'test');
  const teacherFiles = fs.readdirSync(path.join(buildDir, 'teachers')).filter((f) => f.endsWith('.jsonl')).sort();
  const teacherLines = new Map(teacherFiles.map((f) => [f, readJsonl(path.join(buildDir, 'teachers', f))]));
  const root = path.resolve(outRoot);
  const tmp = `${root}.partial-${process.pid}`;
  await fsp.rm(tmp, { recursive: true, force: true });
  const sets: EvalSet[] = [];
  for (const { id: template, question } of meta.templates) {
    const examples = tests.filter((e) => templateOf.get(String(e.question)) === template);
    if (!examples.length) continue;
    const dir = path.join(tmp, template);
    fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'teachers'));
    for (const image of new Set(examples.map((e) => String(e.image)))) linkOrCopy(path.join(buildDir, image), path.join(dir, image));
    fs.writeFileSync(path.join(dir, 'examples.jsonl'), examples.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const ids = new Set(examples.map((e) => e.id));
    for (const [file, lines] of teacherLines) {
      fs.writeFileSync(path.join(dir, 'teachers', file), lines.filter((l) => ids.has(l.example)).map((l) => JSON.stringify(l)).join('\n') + '\n');
    }
    const name = `${DATASET_NAME}-${template}`;
    fs.writeFileSync(path.join(dir, 'dataset.json'), JSON.stringify({ name, version: 1, template, question, from: DATASET_NAME, split: 'test' }, null, 2) + '\n');
    sets.push({ template, name, dir: path.join(root, template), examples: examples.length });
  }
  await fsp.rm(root, { recursive: true, force: true });
  await fsp.rename(tmp, root);
  return sets;
}

/** The eval sets already written under DIR/eval (empty when there are none). */
export function readEvalSets(buildDir: string): EvalSet[] {
  const root = path.join(buildDir, 'eval');
  if (!fs.existsSync(root)) return [];
  const meta = JSON.parse(fs.readFileSync(path.join(buildDir, 'dataset.json'), 'utf8')) as { templates: { id: string }[] };
  return meta.templates.filter((t) => fs.existsSync(path.join(root, t.id, 'dataset.json'))).map((t) => {
    const d = JSON.parse(fs.readFileSync(path.join(root, t.id, 'dataset.json'), 'utf8')) as { name: string };
    return { template: t.id, name: d.name, dir: path.join(root, t.id), examples: readJsonl(path.join(root, t.id, 'examples.jsonl')).length };
  });
}
