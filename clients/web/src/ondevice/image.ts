// The model's input from an image file, in the browser: decoded by the browser (createImageBitmap, no colour-space
// conversion, alpha not premultiplied), drawn at the manifest's image_size onto a canvas, and normalised by the
// server's own function (api/_lib/inference/normalise.ts: PIL's L formula for gray models, mean/std per channel).
// An image of the model's size is drawn 1:1, so its pixels are the file's and the tensor is the server's. Another
// size is resized here (the server refuses it: it never resizes), and the caller says so.
import { normalise, type PreprocessingSpec } from '../../../../api/_lib/browser.js';

export interface Pixels {
  pixelValues: Float32Array;
  /** The image's own size when it was resized to the model's, else null. */
  resizedFrom: [number, number] | null;
}

type Canvas2D = OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D;

function canvas2d(width: number, height: number): Canvas2D {
  const canvas = typeof OffscreenCanvas !== 'undefined'
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' }) as Canvas2D | null;
  if (!ctx) throw new Error('this browser gives no 2D canvas to decode the image with');
  return ctx;
}

export async function imageToPixels(image: Blob, spec: PreprocessingSpec): Promise<Pixels> {
  const [H, W] = spec.image_size;
  const decode = { colorSpaceConversion: 'none', premultiplyAlpha: 'none' } as const;
  let bitmap = await createImageBitmap(image, decode);
  const resizedFrom: [number, number] | null = bitmap.width === W && bitmap.height === H ? null : [bitmap.width, bitmap.height];
  if (resizedFrom) {
    bitmap.close();
    bitmap = await createImageBitmap(image, { ...decode, resizeWidth: W, resizeHeight: H, resizeQuality: 'high' });
  }
  const ctx = canvas2d(W, H);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, W, H);
  return { pixelValues: normalise(data, 4, spec), resizedFrom };
}

/** The image's own pixels as RGB bytes (a Hugging Face student's input: its processor, in transformers.js, resizes
 * and normalises them as the family does), decoded as the built-in family's are: no colour-space conversion, alpha
 * not premultiplied and then dropped (as the server's sharp removeAlpha). */
export async function imageToRgb(image: Blob): Promise<{ data: Uint8ClampedArray; width: number; height: number }> {
  const bitmap = await createImageBitmap(image, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const { width, height } = bitmap;
  const ctx = canvas2d(width, height);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const rgb = new Uint8ClampedArray(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    rgb[j] = rgba[i];
    rgb[j + 1] = rgba[i + 1];
    rgb[j + 2] = rgba[i + 2];
  }
  return { data: rgb, width, height };
}
