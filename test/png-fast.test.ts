// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// The PNG fast path of preprocessing (api/_lib/inference/png.ts, issue 15): for the PNGs it takes, exactly sharp's
// pixels (bit for bit, after normalisation, 1- and 3-channel models, every filter type); everything else (palette,
// alpha, 16-bit, interlaced, colour-managed, corrupted, truncated, trailing data) goes to sharp, which keeps its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import sharp from 'sharp';
import { decodeSimplePng } from '../api/_lib/inference/png.js';
import { preprocessImage } from '../api/_lib/inference/preprocess.js';

const GRAY = { image_size: [28, 28] as [number, number], channels: 1, mean: [0.2860], std: [0.3530] };
const RGB = { image_size: [24, 32] as [number, number], channels: 3, mean: [0.48, 0.45, 0.40], std: [0.27, 0.26, 0.28] };

function rng(seed: number) { return () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) & 0xff; }
function pixels(w: number, h: number, c: number, seed: number, kind: 'noise' | 'gradient' | 'flat') {
  const r = rng(seed);
  return Buffer.from(Array.from({ length: w * h * c }, (_, i) => kind === 'noise' ? r() : kind === 'flat' ? 77 : (Math.floor(i / c) * 7 + (i % c) * 40) & 0xff));
}

function chunk(type: string, data: Buffer) {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])));
  return Buffer.concat([head, data, crc]);
}

/** Our own encoder, so every filter type (0..4, row by row) is exercised, and extra chunks can be added. */
function encode(px: Buffer, w: number, h: number, c: 1 | 3, opts: { extra?: Buffer[]; depth?: number; colour?: number; interlace?: number } = {}) {
  const stride = w * c;
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    const f = y % 5;
    const row = Buffer.alloc(stride + 1);
    row[0] = f;
    for (let i = 0; i < stride; i++) {
      const x = px[y * stride + i];
      const a = i >= c ? px[y * stride + i - c] : 0;
      const b = y > 0 ? px[(y - 1) * stride + i] : 0;
      const cc = y > 0 && i >= c ? px[(y - 1) * stride + i - c] : 0;
      const p = a + b - cc;
      const pred = [0, a, b, (a + b) >>> 1, Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - cc) ? a : Math.abs(p - b) <= Math.abs(p - cc) ? b : cc][f];
      row[1 + i] = (x - pred) & 0xff;
    }
    rows.push(row);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr[8] = opts.depth ?? 8; ihdr[9] = opts.colour ?? (c === 1 ? 0 : 2); ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = opts.interlace ?? 0;
  const z = zlib.deflateSync(Buffer.concat(rows));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), ...(opts.extra ?? []),
    chunk('IDAT', z.subarray(0, 10)), chunk('IDAT', z.subarray(10)), chunk('IEND', Buffer.alloc(0))]);
}

const same = async (png: Buffer, spec: typeof GRAY) =>
  assert.deepEqual(Array.from(await preprocessImage(png, spec, { fastPng: true })), Array.from(await preprocessImage(png, spec, { fastPng: false })));

test('gray and RGB PNGs, every filter type, sharp\'s and ours: the fast path gives sharp\'s pixels bit for bit', async () => {
  for (const kind of ['noise', 'gradient', 'flat'] as const) {
    for (const [w, h, c, spec] of [[28, 28, 1, GRAY], [32, 24, 3, RGB]] as const) {
      const px = pixels(w, h, c, w * 31 + c, kind);
      const ours = encode(px, w, h, c, { extra: [chunk('tEXt', Buffer.from('Comment\0hello')), chunk('pHYs', Buffer.alloc(9))] });
      const theirs = await sharp(px, { raw: { width: w, height: h, channels: c } }).toColourspace(c === 1 ? 'b-w' : 'srgb').png({ adaptiveFiltering: true, compressionLevel: kind === 'flat' ? 0 : 9 }).toBuffer();
      for (const png of [ours, theirs]) {
        const fast = decodeSimplePng(png, w, h);
        assert.ok(fast, `${kind} ${c}-channel: taken by the fast path`);
        assert.deepEqual(Buffer.from(fast.data), px, 'the pixels that were encoded');
        for (const s of [GRAY, RGB].filter((x) => x.image_size[0] === h && x.image_size[1] === w)) await same(png, s);
        // the other model kind on the same image (gray image to an RGB model and back) where sizes match
        await same(png, { ...spec, channels: c === 1 ? 3 : 1, mean: [0.5, 0.5, 0.5].slice(0, c === 1 ? 3 : 1), std: [0.25, 0.25, 0.25].slice(0, c === 1 ? 3 : 1) });
      }
    }
  }
});

test('anything else goes to sharp: palette, alpha, 16-bit, interlaced, colour chunks, corruption, truncation, trailing bytes', async () => {
  const px = pixels(28, 28, 1, 5, 'noise');
  const rgb = pixels(28, 28, 3, 6, 'noise');
  const good = encode(px, 28, 28, 1);
  assert.ok(decodeSimplePng(good, 28, 28));
  const others: [string, Buffer][] = [
    ['palette', await sharp(rgb, { raw: { width: 28, height: 28, channels: 3 } }).png({ palette: true }).toBuffer()],
    ['gray + alpha', await sharp(Buffer.concat([px, px]), { raw: { width: 28, height: 28, channels: 2 } }).png().toBuffer()],
    ['RGBA', await sharp(Buffer.concat([rgb, px]), { raw: { width: 28, height: 28, channels: 4 } }).png().toBuffer()],
    ['16-bit', await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('grey16').png().toBuffer()],
    ['interlaced', await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).toColourspace('b-w').png({ progressive: true }).toBuffer()],
    ['gAMA', encode(px, 28, 28, 1, { extra: [chunk('gAMA', Buffer.from([0, 0, 0xb1, 0x8f]))] })],
    ['iCCP', encode(px, 28, 28, 1, { extra: [chunk('iCCP', Buffer.from('x\0\0'))] })],
    ['tRNS', encode(px, 28, 28, 1, { extra: [chunk('tRNS', Buffer.from([0, 7]))] })],
    ['bad CRC', Buffer.from(good.map((b, i) => (i === good.length - 20 ? b ^ 1 : b)))],
    ['truncated', good.subarray(0, good.length - 5)],
    ['trailing bytes', Buffer.concat([good, Buffer.from('junk')])],
    ['other size', encode(pixels(27, 28, 1, 1, 'noise'), 27, 28, 1)],
  ];
  for (const [what, png] of others) assert.equal(decodeSimplePng(png, 28, 28), null, what);
  // an IDAT that inflates to more or less than the image is not taken either (and never inflated past it)
  const big = zlib.deflateSync(Buffer.alloc(28 * 29 * 50));
  const ihdr = good.subarray(8, 8 + 25);
  const bomb = Buffer.concat([good.subarray(0, 8), ihdr, chunk('IDAT', big), chunk('IEND', Buffer.alloc(0))]);
  assert.equal(decodeSimplePng(bomb, 28, 28), null, 'too much data');
  // and preprocessing answers such images as sharp does: the same pixels, or the same refusal
  for (const [what, png] of [...others, ['bomb', bomb] as [string, Buffer]]) {
    const a = await preprocessImage(png, GRAY).then((x) => Array.from(x), (e) => (e as { extensions?: { code?: string } }).extensions?.code ?? 'threw');
    const b = await preprocessImage(png, GRAY, { fastPng: false }).then((x) => Array.from(x), (e) => (e as { extensions?: { code?: string } }).extensions?.code ?? 'threw');
    assert.deepEqual(a, b, what);
  }
});
