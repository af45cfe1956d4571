// Small datasets written to a temp folder: real PNGs (made with sharp) and blueprint JSONL.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';

export async function png(seed: number, size = 8): Promise<Buffer> {
  const pixels = Buffer.alloc(size * size, 0).map((_, i) => (i * 31 + seed * 17) % 256);
  return sharp(pixels, { raw: { width: size, height: size, channels: 1 } }).png().toBuffer();
}

export interface FixtureLine { id: string; image: string; question: string; answer: string; split: string; [k: string]: unknown }

/** Writes `n` examples over `images` distinct PNGs; returns the JSONL path and the lines. */
export async function writeDataset(n: number, opts: { images?: number; dir?: string } = {}) {
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ril-ds-'));
  fs.mkdirSync(path.join(dir, 'img'), { recursive: true });
  const images = opts.images ?? Math.min(n, 5);
  for (let i = 0; i < images; i++) fs.writeFileSync(path.join(dir, 'img', `${i}.png`), await png(i));
  const splits = ['train', 'train', 'val', 'test'];
  const lines: FixtureLine[] = Array.from({ length: n }, (_, i) => ({
    id: `ex-${i}`, image: `img/${i % images}.png`, question: `What is item ${i}?`, answer: `answer ${i % 3}`, split: splits[i % 4],
  }));
  const file = path.join(dir, 'data.jsonl');
  writeJsonl(file, lines);
  return { dir, file, lines };
}

export function writeJsonl(file: string, lines: (object | string)[]) {
  fs.writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
}

export function cacheLines(exampleIds: string[], teachers: string[], samples: number) {
  return teachers.flatMap((teacher) => exampleIds.flatMap((example) =>
    Array.from({ length: samples }, (_, sample) => ({ example, teacher, sample, text: `${teacher} says ${example} #${sample}` }))));
}

/** What a crashed process leaves behind: a file (or a folder, with a subfolder) at `p`, last modified `ageMs` ago. */
export function leftover(p: string, ageMs: number, folder = false) {
  if (folder) fs.mkdirSync(path.join(p, 'sub'), { recursive: true });
  else fs.writeFileSync(p, 'partial');
  const when = new Date(Date.now() - ageMs);
  fs.utimesSync(p, when, when);
}
