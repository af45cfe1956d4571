// IDX files (the MNIST family's format): a big-endian header, magic = 0x0000 <type> <ndims>, then one
// uint32 per dimension, then the data. Fashion-MNIST uses type 0x08 (ubyte): 2051 (= 0x0803) for images
// [n, 28, 28] and 2049 (= 0x0801) for labels [n]. The files ship gzipped.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

const gunzip = promisify(zlib.gunzip);

export const IMAGES_MAGIC = 2051;
export const LABELS_MAGIC = 2049;
export const IMAGE_SIDE = 28;
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;

export const DEFAULT_SOURCE_DIR = '/usr/share/datasets/fashion-mnist';
export const MISSING_SOURCE_HINT =
  "install Debian's package `dataset-fashion-mnist` (apt-get install dataset-fashion-mnist) or set RIL_FASHION_MNIST_DIR";

/** The original split a file pair comes from: 60,000 training images, 10,000 test images. */
export type SourceSet = 'train' | 't10k';

export interface IdxImages {
  count: number;
  rows: number;
  cols: number;
  /** count * rows * cols bytes, row-major, 0 = background. */
  pixels: Uint8Array;
}

export interface FashionMnistSet {
  set: SourceSet;
  images: IdxImages;
  labels: Uint8Array;
}

export const sourceFiles = (dir: string, set: SourceSet) => ({
  images: path.join(dir, `${set}-images-idx3-ubyte.gz`),
  labels: path.join(dir, `${set}-labels-idx1-ubyte.gz`),
});

/** The directory to read: the option, else RIL_FASHION_MNIST_DIR, else Debian's install location. */
export const resolveSourceDir = (sourceDir?: string): string =>
  path.resolve(sourceDir ?? process.env.RIL_FASHION_MNIST_DIR ?? DEFAULT_SOURCE_DIR);

/** Throws the install hint unless all four files are present. */
export function assertSourcePresent(dir: string): void {
  for (const set of ['train', 't10k'] as const) {
    for (const file of Object.values(sourceFiles(dir, set))) {
      if (!fs.existsSync(file)) throw new Error(`Fashion-MNIST file ${file} not found: ${MISSING_SOURCE_HINT}`);
    }
  }
}

function header(buf: Uint8Array, what: string, magic: number, ndims: number): number[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (buf.byteLength < 4 + 4 * ndims) throw new Error(`${what}: truncated IDX header`);
  const got = view.getUint32(0);
  if (got !== magic) throw new Error(`${what}: IDX magic number ${got}, expected ${magic}`);
  return Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
}

/** Parses an uncompressed IDX image file ([n, 28, 28] ubyte). */
export function parseIdxImages(buf: Uint8Array, what = 'images'): IdxImages {
  const [count, rows, cols] = header(buf, what, IMAGES_MAGIC, 3);
  if (rows !== IMAGE_SIDE || cols !== IMAGE_SIDE) throw new Error(`${what}: images are ${rows}x${cols}, expected 28x28`);
  const start = 16;
  const size = count * rows * cols;
  if (buf.byteLength !== start + size) throw new Error(`${what}: ${buf.byteLength - start} data bytes, header says ${size}`);
  return { count, rows, cols, pixels: buf.subarray(start) };
}

/** Parses an uncompressed IDX label file ([n] ubyte, each 0..9). */
export function parseIdxLabels(buf: Uint8Array, what = 'labels'): Uint8Array {
  const [count] = header(buf, what, LABELS_MAGIC, 1);
  const start = 8;
  if (buf.byteLength !== start + count) throw new Error(`${what}: ${buf.byteLength - start} data bytes, header says ${count}`);
  const labels = buf.subarray(start);
  const bad = labels.findIndex((l) => l > 9);
  if (bad >= 0) throw new Error(`${what}: label ${labels[bad]} at index ${bad} is not a Fashion-MNIST class (0..9)`);
  return labels;
}

/** Reads and checks one original split (gunzipped in memory: 47 MB for the training images). */
export async function readFashionMnistSet(dir: string, set: SourceSet): Promise<FashionMnistSet> {
  const files = sourceFiles(dir, set);
  const [imageBytes, labelBytes] = await Promise.all([
    fsp.readFile(files.images).then((b) => gunzip(b)),
    fsp.readFile(files.labels).then((b) => gunzip(b)),
  ]);
  const images = parseIdxImages(imageBytes, path.basename(files.images));
  const labels = parseIdxLabels(labelBytes, path.basename(files.labels));
  if (images.count !== labels.length) throw new Error(`${set}: ${images.count} images but ${labels.length} labels`);
  return { set, images, labels };
}

/** The 784 bytes of one image. */
export const imageAt = (images: IdxImages, index: number): Uint8Array =>
  images.pixels.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS);
