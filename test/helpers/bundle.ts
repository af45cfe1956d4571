// A real student bundle for the inference tests and benchmark, made by the trainer itself: a small
// Fashion-MNIST VQA dataset (clients/cli/src/data/fashionMnist/index.ts), `python3 -m ril_trainer train` for a few steps,
// `export`, then the PyTorch greedy answers of the test split (test/helpers/torch_greedy.py).
// Cached under os.tmpdir() keyed by a hash of the trainer sources and these settings, so reruns are fast.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildFashionMnistVqa } from '../../clients/cli/src/data/fashionMnist/index.js';
import { findTrainerPython, REPO_ROOT, TRAINER_DIR } from '../../api/_lib/jobs/python.js';

const ROOT = REPO_ROOT;
const WORKER = TRAINER_DIR;

export interface TorchExample { id: string; image: string; question: string; promptIds: number[]; tokens: number[]; text: string }

export interface BundleFixture {
  /** Dataset directory (examples.jsonl, images/). */
  data: string;
  checkpoint: string;
  bundleDir: string;
  /** gzipped tar of the bundle directory: what a BUNDLE artifact's blob is. */
  archive: Buffer;
  /** PyTorch greedy answers (batch 1, repetition penalty 1) of the first test examples. */
  torch: TorchExample[];
  /** The trainer's preprocessed tensor of the first test example's image. */
  pixelValues0: number[];
  python: string;
}

/** The python that can import torch, or why there is none (tests skip with this reason). */
export const findPython = findTrainerPython;

function sourceHash(extra: object): string {
  const h = crypto.createHash('sha256').update(JSON.stringify(extra));
  const files = [
    ...fs.readdirSync(path.join(WORKER, 'ril_trainer')).filter((f) => f.endsWith('.py')).sort().map((f) => path.join(WORKER, 'ril_trainer', f)),
    path.join(WORKER, 'configs', 'sft_nano.json'), path.join(WORKER, 'configs', 'sft_small.json'),
    path.join(ROOT, 'test', 'helpers', 'torch_greedy.py'), fileURLToPath(import.meta.url),
  ];
  for (const f of files) h.update(f).update(fs.readFileSync(f));
  return h.digest('hex').slice(0, 16);
}

export interface FixtureOptions {
  size?: 'nano' | 'small';
  steps?: number;
  examples?: number;
  /** Test examples to answer with PyTorch. */
  parity?: number;
  maxNewTokens?: number;
  /** The student's tokenizer (bpe, the default, or byte: a smaller bundle). */
  tokenizer?: 'bpe' | 'byte';
  /** Learning rate (default 3e-3). A tiny one with a step or two leaves the weights as initialised: greedy answers
   * then rarely meet <eos> and run to their token budget (the benchmark's fixed-length answers). */
  lr?: number;
}

export async function studentBundle(opts: FixtureOptions = {}): Promise<BundleFixture> {
  const { python, reason } = findPython();
  if (!python) throw new Error(reason);
  const o = { size: 'nano', steps: 60, examples: 600, parity: 60, maxNewTokens: 32, tokenizer: 'bpe', ...opts };
  const dir = path.join(os.tmpdir(), `ril-bundle-fixture-${sourceHash(o)}`);
  const done = path.join(dir, 'fixture.json');
  if (!fs.existsSync(done)) {
    const work = `${dir}.tmp-${process.pid}`;
    fs.rmSync(work, { recursive: true, force: true });
    fs.mkdirSync(work, { recursive: true });
    await buildFashionMnistVqa({ out: path.join(work, 'data'), limit: o.examples, samplesPerTeacher: 1 });
    const config = path.join(work, 'config.json');
    const base = JSON.parse(fs.readFileSync(path.join(WORKER, 'configs', `sft_${o.size}.json`), 'utf8'));
    fs.writeFileSync(config, JSON.stringify({ ...base, tokenizer: o.tokenizer, max_steps: o.steps, eval_every: 0, checkpoint_every: o.steps, val_loss_examples: 16, val_accuracy_examples: 8, batch_size: 16, warmup_steps: 5, lr: o.lr ?? 3e-3 }));
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      execFileSync(python, args, { cwd: WORKER, env: { ...process.env, PYTHONPATH: WORKER, ...env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 }).toString();
    run(['-m', 'ril_trainer', 'train', '--config', config, '--data', path.join(work, 'data'), '--out', path.join(work, 'run'), '--threads', '2']);
    const checkpoint = path.join(work, 'run', 'checkpoint.pt');
    run(['-m', 'ril_trainer', 'export', '--checkpoint', checkpoint, '--out', path.join(work, 'bundle'), '--threads', '2']);
    execFileSync('tar', ['-C', path.join(work, 'bundle'), '-czf', path.join(work, 'bundle.tar.gz'), '.']);
    const ref = JSON.parse(run([path.join(ROOT, 'test', 'helpers', 'torch_greedy.py'), '--checkpoint', checkpoint, '--data', path.join(work, 'data'),
      '--n', String(o.parity), '--max-new-tokens', String(o.maxNewTokens), '--threads', '2']));
    fs.writeFileSync(path.join(work, 'fixture.json'), JSON.stringify(ref));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(work, dir);
  }
  const raw = JSON.parse(fs.readFileSync(done, 'utf8')) as { examples: (Omit<TorchExample, 'promptIds'> & { prompt_ids: number[] })[]; pixel_values_0: number[] };
  const ref = { ...raw, examples: raw.examples.map(({ prompt_ids, ...e }) => ({ ...e, promptIds: prompt_ids })) };
  return {
    data: path.join(dir, 'data'), checkpoint: path.join(dir, 'run', 'checkpoint.pt'), bundleDir: path.join(dir, 'bundle'),
    archive: fs.readFileSync(path.join(dir, 'bundle.tar.gz')), torch: ref.examples, pixelValues0: ref.pixel_values_0, python,
  };
}

/** The fixture example whose PyTorch answer has the most tokens (a non-trivial answer to stream or race). */
export function longestAnswer(fx: BundleFixture): TorchExample {
  return fx.torch.reduce((best, e) => (e.tokens.length > best.tokens.length ? e : best));
}
