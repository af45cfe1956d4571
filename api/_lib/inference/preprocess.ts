// Image preprocessing as the bundle's manifest says ("preprocessing"; ril_trainer/data.py): decode, convert like
// PIL's Image.convert("L" | "RGB"), resize to image_size when the image is another size,
// x = float32((pixel / 255 - mean[c]) / std[c]) computed in float64, layout CHW.
//
// sharp decodes a grayscale PNG to 3 channels unless asked, and its own grayscale conversion is not
// PIL's; so we always decode to 8-bit sRGB (alpha dropped, like PIL's convert) and apply PIL's L
// formula, L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, which is the identity on gray pixels.
//
// Resizing: the built-in family's training images are image_size already (the trainer refuses other sizes), so an
// image of the model's size takes exactly the trainer's path, bit for bit, and never goes near the resize. The
// resize is for foreign images only (a photo sent by a stock OpenAI client): sharp stretches it to image_size
// (fit "fill", like PIL's Image.resize; a cubic kernel, like PIL's default BICUBIC). It is not bit-exact with any
// Python pipeline, and need not be: no training image was ever resized.
//
// Decompression bombs: nothing is decoded before the header (image-size) says the image is one of FORMATS and at
// most maxPixels (RIL_INFER_MAX_IMAGE_PIXELS) pixels; a small file that declares a huge image is refused from its
// header, and sharp's own limitInputPixels is the same cap, so a header that lies cannot make it allocate more.
// SVG (rendered by librsvg, which can fetch and expand entities), PDF and the like are never decoded.
import { imageSize } from 'image-size';
import sharp from 'sharp';
import { badInput } from '../errors.js';
import { decodeSimplePng } from './png.js';
import { normalise } from './normalise.js';
import type { PreprocessingSpec } from './spec.js';

export type { PreprocessingSpec };

/** image-size's names of the formats decoded (sharp reads each; GIF and multi-page TIFF: the first frame). */
const FORMATS = new Set(['png', 'jpg', 'webp', 'gif', 'avif', 'tiff']);
const FORMAT_HINT = 'send a PNG, JPEG, WebP, GIF, AVIF or TIFF';

/** The default of RIL_INFER_MAX_IMAGE_PIXELS. */
export const DEFAULT_MAX_IMAGE_PIXELS = 4096 * 4096;

/** Format and dimensions from the image's header only (no pixel is decoded); BAD_USER_INPUT unless it is one of
 * FORMATS of at most maxPixels pixels. */
export function checkImageHeader(bytes: Buffer, maxPixels: number): { width: number; height: number; type: string } {
  let header: { width?: number; height?: number; type?: string };
  try {
    header = imageSize(bytes);
  } catch (err) {
    throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); ${FORMAT_HINT}`);
  }
  if (!header.type || !FORMATS.has(header.type)) throw badInput(`the image is a ${header.type ?? 'unknown format'}; ${FORMAT_HINT}`);
  const { width = 0, height = 0 } = header;
  if (!(width > 0 && height > 0)) throw badInput(`the image header declares no size; ${FORMAT_HINT}`);
  if (width * height > maxPixels) {
    throw badInput(`the image is ${width}x${height}, more than the limit of ${maxPixels} pixels (RIL_INFER_MAX_IMAGE_PIXELS)`);
  }
  return { width, height, type: header.type };
}

export interface PreprocessOptions {
  /** Decode simple 8-bit gray/RGB PNGs without sharp (png.ts; RIL_INFER_FAST_PNG, default on): the same pixels. */
  fastPng?: boolean;
  /** Largest image accepted, in pixels (RIL_INFER_MAX_IMAGE_PIXELS; default DEFAULT_MAX_IMAGE_PIXELS). */
  maxPixels?: number;
}

export async function preprocessImage(bytes: Buffer, spec: PreprocessingSpec, opts: PreprocessOptions = {}): Promise<Float32Array> {
  const [H, W] = spec.image_size;
  const maxPixels = opts.maxPixels ?? DEFAULT_MAX_IMAGE_PIXELS;
  const header = checkImageHeader(bytes, maxPixels);
  const sameSize = header.width === W && header.height === H;
  const simple = sameSize && opts.fastPng !== false ? decodeSimplePng(bytes, W, H) : null;
  if (simple) return normalise(simple.data, simple.channels, spec);
  let data: Buffer;
  try {
    const decode = () => sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).removeAlpha().toColourspace('srgb');
    let pipeline = decode();
    if (!sameSize) {
      // sharp resizes before it drops alpha (premultiplied: colour under transparent pixels becomes black), but PIL
      // drops alpha first (convert) and would resize what is left; so an image with alpha is decoded to RGB first
      if ((await sharp(bytes, { limitInputPixels: maxPixels }).metadata()).hasAlpha) {
        const rgb = await decode().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
        pipeline = sharp(rgb.data, { raw: { width: rgb.info.width, height: rgb.info.height, channels: 3 } });
      }
      pipeline = pipeline.resize(W, H, { fit: 'fill', kernel: 'cubic' });
    }
    const out = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    ({ data } = out);
    if (out.info.channels !== 3) throw new Error(`decoded to ${out.info.channels} channels`);
    // a header that disagrees with the pixels (only possible without a resize, which fixes the size)
    if (out.info.width !== W || out.info.height !== H) throw new Error(`decoded to ${out.info.width}x${out.info.height}`);
  } catch (err) {
    throw badInput(`the image could not be decoded (${(err as Error).message.split('\n')[0]}); ${FORMAT_HINT}`);
  }
  return normalise(data, 3, spec);
}
