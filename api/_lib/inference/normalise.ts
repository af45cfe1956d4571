// 8-bit pixels -> the model's input tensor, as the bundle's manifest says ("preprocessing"; ril_trainer/data.py):
// PIL's convert("L") for a gray model, x = float32((pixel / 255 - mean[c]) / std[c]) computed in float64, layout
// CHW. Apart from the decoder (./preprocess.ts loads sharp) so the dashboard's on-device runner bundles this same
// function for the pixels the browser decodes: one formula, so both give the same tensor for the same pixels.
import type { PreprocessingSpec } from './spec.js';

/** The model input from 8-bit pixels, interleaved: 3 channels (sRGB), 4 (RGBA: alpha dropped, like PIL's convert
 * and sharp's removeAlpha) or 1 (gray, which sharp gives as R = G = B). */
export function normalise(data: Uint8Array | Uint8ClampedArray, channels: 1 | 3 | 4, spec: PreprocessingSpec): Float32Array {
  const [H, W] = spec.image_size;
  const C = spec.channels;
  const n = H * W;
  if (data.length < n * channels) throw new Error(`${data.length} pixel values for a ${W}x${H} image of ${channels} channels`);
  const x = new Float32Array(C * n);
  if (channels === 1) {
    // gray: PIL's L of (g, g, g) is g; RGB of gray is (g, g, g)
    for (let c = 0; c < C; c++) {
      const mean = spec.mean[c];
      const std = spec.std[c];
      for (let p = 0; p < n; p++) x[c * n + p] = (data[p] / 255 - mean) / std;
    }
  } else if (C === 1) {
    const mean = spec.mean[0];
    const std = spec.std[0];
    const k = channels;
    for (let p = 0; p < n; p++) {
      // PIL's L: L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16, the identity on gray pixels
      const l = (data[k * p] * 19595 + data[k * p + 1] * 38470 + data[k * p + 2] * 7471 + 0x8000) >>> 16;
      x[p] = (l / 255 - mean) / std;
    }
  } else {
    const k = channels;
    for (let c = 0; c < 3; c++) {
      const mean = spec.mean[c];
      const std = spec.std[c];
      for (let p = 0; p < n; p++) x[c * n + p] = (data[k * p + c] / 255 - mean) / std;
    }
  }
  return x;
}
