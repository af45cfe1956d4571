// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// Images of any size and of the formats sharp reads (api/_lib/inference/preprocess.ts): resized to the model's
// size (stretched, like PIL's Image.resize), converted to its channels; the pixel cap refuses large images from
// their header; SVG stays refused. Images already at the model's size are covered bit for bit by png-fast.test.ts
// and inference.test.ts (the trainer's tensor).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';

const GRAY = { image_size: [28, 28] as [number, number], channels: 1, mean: [0.5], std: [0.5] };
const RGB = { image_size: [24, 32] as [number, number], channels: 3, mean: [0, 0, 0], std: [1, 1, 1] };

/** The 8-bit pixel value a normalised input came from. */
const pixel = (x: number, spec: { mean: number[]; std: number[] }, c = 0) => Math.round((x * spec.std[c] + spec.mean[c]) * 255);
const code = (e: unknown) => (e as { extensions?: { code?: string } }).extensions?.code;

test('a uniform image of another size, in every accepted format, becomes the model\'s size with the same colour', async () => {
  const solid = sharp({ create: { width: 90, height: 50, channels: 3, background: { r: 200, g: 100, b: 40 } } });
  const images: [string, Buffer, number][] = [
    ['png', await solid.clone().png().toBuffer(), 0],
    ['jpeg', await solid.clone().jpeg({ quality: 95 }).toBuffer(), 3],
    ['webp', await solid.clone().webp({ lossless: true }).toBuffer(), 0],
    ['gif', await solid.clone().gif().toBuffer(), 8], // a 256-colour palette
    ['avif', await solid.clone().avif({ quality: 90 }).toBuffer(), 4],
    ['tiff', await solid.clone().tiff().toBuffer(), 0],
  ];
  for (const [format, bytes, tolerance] of images) {
    const x = await preprocessImage(bytes, RGB);
    assert.equal(x.length, 3 * 24 * 32, format);
    const n = 24 * 32;
    for (const [c, want] of [[0, 200], [1, 100], [2, 40]]) {
      for (let p = 0; p < n; p++) {
        const got = pixel(x[c * n + p], RGB, c);
        if (Math.abs(got - want) > tolerance) assert.fail(`${format}: channel ${c} pixel ${p} is ${got}, expected ${want} ± ${tolerance}`);
      }
    }
    // and the gray model reads it with PIL's L formula
    const g = await preprocessImage(bytes, GRAY);
    const L = Math.round((200 * 19595 + 100 * 38470 + 40 * 7471) / 65536);
    assert.ok(Array.from(g).every((v) => Math.abs(pixel(v, GRAY) - L) <= tolerance + 1), `${format} as gray`);
  }
});

test('the resize stretches the whole image (no crop, no letterbox)', async () => {
  // 200x100, the left quarter black, the rest white: stretched to 28x28 the left 7 columns are black; a centre crop
  // would have no black at all, a letterbox would add rows of padding
  const W = 200, H = 100;
  const raw = Buffer.alloc(W * H, 255);
  for (let y = 0; y < H; y++) raw.fill(0, y * W, y * W + 50);
  const png = await sharp(raw, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
  const x = await preprocessImage(png, GRAY);
  for (let y = 0; y < 28; y++) {
    for (let col = 0; col < 28; col++) {
      const v = pixel(x[y * 28 + col], GRAY);
      if (col <= 5) assert.ok(v <= 8, `(${col},${y}) = ${v} should be black`);
      if (col >= 9) assert.ok(v >= 247, `(${col},${y}) = ${v} should be white`);
    }
  }
});

test('alpha is dropped before the resize, as PIL\'s convert does: colour under transparent pixels is kept', async () => {
  const W = 56;
  const rgba = Buffer.alloc(W * W * 4);
  for (let i = 0; i < W * W; i++) rgba.set([0, 0, 255, i % 2 ? 0 : 255], 4 * i); // blue, half of it transparent
  const png = await sharp(rgba, { raw: { width: W, height: W, channels: 4 } }).png().toBuffer();
  const x = await preprocessImage(png, RGB);
  const n = 24 * 32;
  for (let p = 0; p < n; p++) assert.equal(pixel(x[2 * n + p], RGB, 2), 255, `blue at ${p}`);
});

test('the pixel cap refuses a large image from its header, before decoding it', async () => {
  // a PNG signature and IHDR that declare 30000x30000, and no pixel data: only the header is read
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0); ihdr.writeUInt32BE(30_000, 4); ihdr.set([8, 2, 0, 0, 0], 8);
  const body = Buffer.concat([Buffer.from('IHDR'), ihdr]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(zlib.crc32(body) >>> 0);
  const len = Buffer.alloc(4); len.writeUInt32BE(13);
  const bomb = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), len, body, crc]);
  await assert.rejects(preprocessImage(bomb, GRAY), (e: Error) => code(e) === 'BAD_USER_INPUT'
    && /30000x30000, more than the limit of 16777216 pixels \(RIL_INFER_MAX_IMAGE_PIXELS\)/.test(e.message));
  // the cap is the operator's: a real 100x100 image is refused under a cap of 5000 pixels, taken under 10000
  const png = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#777' } }).png().toBuffer();
  await assert.rejects(preprocessImage(png, GRAY, { maxPixels: 5000 }), /100x100, more than the limit of 5000 pixels/);
  assert.equal((await preprocessImage(png, GRAY, { maxPixels: 10_000 })).length, 28 * 28);
});

test('formats outside the list stay refused (SVG is rendered by librsvg; BMP, ICO and the like are not images we take)', async () => {
  const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="90" height="50"><rect width="90" height="50" fill="#888"/></svg>');
  await assert.rejects(preprocessImage(svg, GRAY), (e: Error) => code(e) === 'BAD_USER_INPUT' && /svg; send a PNG, JPEG, WebP/.test(e.message));
  const bmp = Buffer.alloc(70); bmp.write('BM', 0); bmp.writeUInt32LE(40, 14); bmp.writeInt32LE(4, 18); bmp.writeInt32LE(4, 22);
  await assert.rejects(preprocessImage(bmp, GRAY), (e: Error) => code(e) === 'BAD_USER_INPUT');
  // a truncated JPEG of another size: refused by the decoder, as a bad input
  const jpeg = await sharp({ create: { width: 90, height: 50, channels: 3, background: '#888' } }).jpeg().toBuffer();
  await assert.rejects(preprocessImage(jpeg.subarray(0, jpeg.length / 2), GRAY), (e: Error) => code(e) === 'BAD_USER_INPUT' && /could not be decoded/.test(e.message));
});
