// The bundle's image preprocessing in Node with sharp: the reference for the serving runtime.
//
//   node functions/trainer/tools/preprocess.mjs --bundle DIR image1.png [image2.png ...]
//
// stdout: {"images": [{"path", "pixel_values": [C*S*S floats, CHW]}]}
// Steps (manifest.json "preprocessing"): decode, take `channels` channels (sharp decodes grayscale
// PNGs to 3 channels unless told otherwise, so 1 channel = .grayscale() then .extractChannel(0)),
// no resize (a size mismatch is an error), x = (pixel / 255 - mean[c]) / std[c], HWC -> CHW.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const args = process.argv.slice(2);
const b = args.indexOf('--bundle');
if (b < 0) throw new Error('missing --bundle DIR');
const bundle = args[b + 1];
const paths = args.filter((_, k) => k !== b && k !== b + 1);
const pre = JSON.parse(readFileSync(join(bundle, 'manifest.json'), 'utf8')).preprocessing;
const [H, W] = pre.image_size;
const C = pre.channels;

async function preprocess(path) {
  let img = sharp(path).removeAlpha();
  img = C === 1 ? img.grayscale().extractChannel(0) : img.toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== W || info.height !== H || info.channels !== C) {
    throw new Error(`${path}: ${info.width}x${info.height}x${info.channels}, expected ${W}x${H}x${C} (no resize)`);
  }
  // float64 arithmetic, one rounding to float32 at the store: bit-identical to the trainer.
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < H * W; p++) {
      out[c * H * W + p] = (data[p * C + c] / 255 - pre.mean[c]) / pre.std[c];
    }
  }
  return out;
}

const images = [];
for (const path of paths) images.push({ path, pixel_values: Array.from(await preprocess(path)) });
process.stdout.write(JSON.stringify({ images }) + '\n');
