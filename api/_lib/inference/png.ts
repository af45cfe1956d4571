// A fast path for the simplest PNGs, in front of sharp (issue 15): an 8-bit grayscale or RGB, non-interlaced PNG with
// no colour-management or transparency chunks is inflated and unfiltered here, in microseconds, instead of a sharp
// pipeline (about 1-2 ms per image, most of it on the event loop, the largest step of an inference request's overhead
// after the key lookup). The pixels are the same as sharp's: sharp decodes such a PNG to sRGB unchanged (gray ->
// R = G = B), and preprocess.ts applies the same formulas to either.
//
// Anything else, or any doubt, returns null and sharp decodes the image as before: another colour type or bit depth,
// interlacing, a palette, tRNS, gAMA, cHRM, sRGB, iCCP, sBIT or any chunk not listed in SAFE, a bad CRC, a length
// that runs past the end, data after IEND, an IDAT stream that does not inflate to exactly the image's size (bounded:
// never more than that is inflated), an unknown filter type. So a malformed image still gets sharp's refusal.
import zlib from 'node:zlib';

/** Ancillary chunks that do not change the pixels sharp returns for these PNGs. */
const SAFE = new Set(['tEXt', 'zTXt', 'iTXt', 'pHYs', 'tIME']);
const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The pixels of a simple PNG of exactly width x height (channels 1 = gray, 3 = RGB, row-major, interleaved), or null. */
export function decodeSimplePng(bytes: Buffer, width: number, height: number): { data: Uint8Array; channels: 1 | 3 } | null {
  if (bytes.length < 8 + 25 + 12 || !bytes.subarray(0, 8).equals(SIGNATURE)) return null;
  let pos = 8;
  let channels: 1 | 3 | 0 = 0;
  const idat: Buffer[] = [];
  let ended = false;
  while (pos + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(pos);
    const type = bytes.toString('latin1', pos + 4, pos + 8);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return null;
    if (zlib.crc32(bytes.subarray(pos + 4, pos + 8 + length)) !== bytes.readUInt32BE(pos + 8 + length)) return null;
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (pos === 8) {
      if (type !== 'IHDR' || length !== 13) return null;
      const [depth, colour, compression, filter, interlace] = data.subarray(8, 13);
      if (data.readUInt32BE(0) !== width || data.readUInt32BE(4) !== height) return null;
      if (depth !== 8 || compression !== 0 || filter !== 0 || interlace !== 0) return null;
      if (colour === 0) channels = 1;
      else if (colour === 2) channels = 3;
      else return null;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') { ended = true; pos = end; break; }
    else if (!SAFE.has(type)) return null;
    pos = end;
  }
  if (!ended || pos !== bytes.length || !channels || idat.length === 0) return null;
  const stride = width * channels;
  const expected = height * (stride + 1);
  let raw: Buffer;
  try {
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const out = new Uint8Array(height * stride);
  const bpp = channels;
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride; // only read when y > 0
    for (let i = 0; i < stride; i++) {
      const x = raw[src + i];
      const a = i >= bpp ? out[row + i - bpp] : 0;
      const b = y > 0 ? out[prev + i] : 0;
      let v: number;
      switch (f) {
        case 0: v = x; break;
        case 1: v = x + a; break;
        case 2: v = x + b; break;
        case 3: v = x + ((a + b) >>> 1); break;
        case 4: {
          const c = y > 0 && i >= bpp ? out[prev + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default: return null;
      }
      out[row + i] = v & 0xff;
    }
  }
  return { data: out, channels };
}
