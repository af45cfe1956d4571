// A real Hugging Face student bundle for the HF inference tests and benchmark, made by the trainer: a tiny random
// SmolVLM or Qwen2-VL built from its config class (functions/trainer/tests/hf_tiny.py, processor input 28 px so
// the Fashion-MNIST images are not resized: PIL and transformers.js resize differently, see docs/inference.md),
// `ril_trainer export --hf-model` with its parity check, and the PyTorch greedy answers it wrote (--verify-out).
// Cached under os.tmpdir() keyed by a hash of the sources involved, so reruns are fast.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFashionMnistVqa } from '../../clients/cli/src/data/fashionMnist/index.js';
import { TRAINER_DIR } from '../../api/_lib/jobs/python.js';

export type HfFamily = 'smolvlm' | 'qwen2vl';

export interface HfReference { id: string; image: string; question: string; tokens: number[]; text: string }

export interface HfBundleFixture {
  family: HfFamily;
  data: string;
  bundleDir: string;
  /** gzipped tar of the bundle directory (a BUNDLE artifact's blob). */
  archive: Buffer;
  manifest: Record<string, any>;
  /** PyTorch greedy answers (model.generate, do_sample off) of the first test examples. */
  refs: HfReference[];
  maxNewTokens: number;
  /** The save_pretrained directory the bundle was exported from (model + processor), when keepModel was asked. */
  model: string | null;
}

export interface HfBundleOptions {
  examples?: number;
  parity?: number;
  maxNewTokens?: number;
  variants?: string;
  /** Fields of the text / vision config to override (hf_tiny.py --text / --vision): a larger shape than the tests'. */
  text?: Record<string, unknown>;
  vision?: Record<string, unknown>;
  /** Keep the model directory (bench/infer-hf.ts runs PyTorch eager on it). */
  keepModel?: boolean;
}

/** Why the HF fixtures cannot be built here (no torch 2.x environment), or null. */
export function hfSkipReason(): string | null {
  return process.env.RIL_HF_PYTHON ? null : 'RIL_HF_PYTHON is not set (the torch 2.x environment: RIL_HF_PYTHON="$(bash scripts/ensure-hf.sh)")';
}

function sourceHash(extra: object): string {
  const h = crypto.createHash('sha256').update(JSON.stringify(extra));
  const files = [
    path.join(TRAINER_DIR, 'ril_trainer', 'export_hf.py'), path.join(TRAINER_DIR, 'ril_trainer', 'export.py'),
    path.join(TRAINER_DIR, 'ril_trainer', '__main__.py'), path.join(TRAINER_DIR, 'tests', 'hf_tiny.py'), fileURLToPath(import.meta.url),
  ];
  for (const f of files) h.update(f).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

export async function hfStudentBundle(family: HfFamily, opts: HfBundleOptions = {}): Promise<HfBundleFixture> {
  const python = process.env.RIL_HF_PYTHON;
  if (!python) throw new Error(hfSkipReason()!);
  const o = { examples: 600, parity: 50, maxNewTokens: 12, variants: 'fp32,int8,q4,fp16', ...opts };
  const dir = path.join(os.tmpdir(), `ril-hf-bundle-${family}-${sourceHash({ family, ...o })}`);
  const done = path.join(dir, 'refs.json');
  if (!fs.existsSync(done)) {
    const work = `${dir}.tmp-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    await buildFashionMnistVqa({ out: path.join(work, 'data'), limit: o.examples, samplesPerTeacher: 1 });
    const run = (args: string[]) => execFileSync(python, args, {
      cwd: TRAINER_DIR, env: { ...process.env, PYTHONPATH: TRAINER_DIR, HF_HUB_OFFLINE: '1' }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20,
    }).toString();
    const shape = [...(o.text ? ['--text', JSON.stringify(o.text)] : []), ...(o.vision ? ['--vision', JSON.stringify(o.vision)] : [])];
    run(['tests/hf_tiny.py', '--family', family, '--out', path.join(work, 'model'), '--native-px', '28', ...shape]);
    run(['-m', 'ril_trainer', 'export', '--hf-model', path.join(work, 'model'), '--out', path.join(work, 'bundle'), '--variants', o.variants,
      '--verify-data', path.join(work, 'data'), '--verify-n', String(o.parity), '--max-new-tokens', String(o.maxNewTokens),
      // the tests compare the endpoint with the PyTorch references (refs.json); the export's own ONNX check of the other
      // variants is tested in test_export_hf.py, so here it checks fp32 alone (a minute less of CI per family)
      '--verify-out', path.join(work, 'refs.json'), '--verify-variants', 'fp32', '--threads', '2']);
    execFileSync('tar', ['-C', path.join(work, 'bundle'), '-czf', path.join(work, 'bundle.tar.gz'), '.']);
    if (!o.keepModel) fs.rmSync(path.join(work, 'model'), { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
  }
  const refs = JSON.parse(fs.readFileSync(done, 'utf8')) as { examples: HfReference[]; max_new_tokens: number };
  return {
    family, data: path.join(dir, 'data'), bundleDir: path.join(dir, 'bundle'), archive: fs.readFileSync(path.join(dir, 'bundle.tar.gz')),
    manifest: JSON.parse(fs.readFileSync(path.join(dir, 'bundle', 'manifest.json'), 'utf8')), refs: refs.examples, maxNewTokens: refs.max_new_tokens,
    model: o.keepModel ? path.join(dir, 'model') : null,
  };
}
