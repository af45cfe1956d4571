// Image preprocessing exactly as the bundle's manifest says ("preprocessing"; ril_trainer/data.py):
// decode, convert like PIL's Image.convert("L" | "RGB"), no resize (a size mismatch is refused),
// x = float32((pixel / 255 - mean[c]) / std[c]) computed in float64, layout CHW.
//
// sharp decodes a grayscale PNG to 3 channels unless asked, and its own grayscale conversion is not
// PIL's; so we always decode to 8-bit sRGB (alpha dropped, like PIL's convert) and apply PIL's L
// formula, L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, which is the identity on gray pixels.
//
// Nothing is decoded before the header says the image is a PNG, JPEG or WebP of exactly the model's size: a
// small file that declares a huge image (a decompression bomb) is refused from its header, and sharp's own pixel
// limit is the model's size, so it never allocates more than one model input's worth of pixels.
import { imageSize } from 'image-size';
import sharp from 'sharp';
import { badInput } from '../errors.js';
import { decodeSimplePng } from './png.js';
import { normalise } from './normalise.js';
import type { PreprocessingSpec } from './spec.js';

export type { PreprocessingSpec };

const FORMATS = new Set(['png', 'jpg', 'webp']);

/** Format and dimensions from the image's header only (no pixel is decoded); BAD_USER_INPUT unless it is a
 * PNG, JPEG or WebP of exactly width x height. */
export function checkImageHeader(bytes: Buffer, width: number, height: number): void {
  let header: { width?: number; height?: number; type?: string };
  try {
    header = imageSize(bytes);
  } catch (err) {
    throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); send a PNG, JPEG or WebP`);
  }
  if (!header.type || !FORMATS.has(header.type)) throw badInput(`the image is a ${header.type ?? 'unknown format'}; send a PNG, JPEG or WebP`);
  if (header.width !== width || header.height !== height) {
    throw badInput(`the image is ${header.width}x${header.height}; this model takes ${width}x${height} (no resize)`);
  }
}

export interface PreprocessOptions {
  /** Decode simple 8-bit gray/RGB PNGs without sharp (png.ts; RIL_INFER_FAST_PNG, default on): the same pixels. */
  fastPng?: boolean;
}

export async function preprocessImage(bytes: Buffer, spec: PreprocessingSpec, opts: PreprocessOptions = {}): Promise<Float32Array> {
  const [H, W] = spec.image_size;
  checkImageHeader(bytes, W, H);
  const simple = opts.fastPng !== false ? decodeSimplePng(bytes, W, H) : null;
  if (simple) return normalise(simple.data, simple.channels, spec);
  let data: Buffer;
  let width: number;
  let height: number;
  try {
    const out = await sharp(bytes, { limitInputPixels: W * H, failOn: 'error' })
      .removeAlpha().toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    ({ data } = out);
    ({ width, height } = out.info);
    if (out.info.channels !== 3) throw new Error(`decoded to ${out.info.channels} channels`);
  } catch (err) {
    throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); send a PNG, JPEG or WebP`);
  }
  if (width !== W || height !== H) throw badInput(`the image is ${width}x${height}; this model takes ${W}x${H} (no resize)`);
  return normalise(data, 3, spec);
}
