// Database: none (this file runs once, in the SQLite pass of scripts/test.sh)
// The subword tokenizer made by the trainer (Python `tokenizers`) and the endpoint's (@huggingface/tokenizers)
// give the same ids and the same text for the same strings, including strings the BPE never saw (Unicode,
// emoji, whitespace runs). The trainer learns the BPE from a Fashion-MNIST VQA dataset's texts, as a run does.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildFashionMnistVqa } from '../clients/cli/src/data/fashionMnist/index.js';
import { findTrainerPython, TRAINER_DIR } from '../api/_lib/jobs/python.js';
import { loadTokenizer, type StudentTokenizer } from '../api/_lib/inference/tokenizer.js';

const { python, reason } = findTrainerPython();
const FASHION = process.env.RIL_FASHION_MNIST_DIR ?? '/usr/share/datasets/fashion-mnist';

const PROBES = [
  'What item of clothing is shown?', 'Is this worn on the feet?', 'Ankle boot.',
  'It has a heel and thin straps, so it is a sandal.', 'No, it isn\'t.', '', ' ', '  two  spaces ',
  'Größe 38 ✓ 👟 – “quoted”', 'tab\tand\nnewline', 'UPPER lower MiXeD 12345', 'ünïcödé façade naïve',
  '日本語のテキスト', 'a'.repeat(300), 'emoji 🧥👗👠 in a row',
];

interface Reference { tokenizer_json: string; spec: Parameters<typeof loadTokenizer>[0]; probes: { text: string; prompt: number[]; response: number[]; decoded: string }[] }

describe('tokenizer parity (trainer vs endpoint)', { skip: reason ?? (!fs.existsSync(FASHION) && 'dataset-fashion-mnist not installed') }, () => {
  let ref: Reference;
  let tk: StudentTokenizer;

  before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ril-tok-'));
    await buildFashionMnistVqa({ out: path.join(dir, 'data'), limit: 300, samplesPerTeacher: 2 });
    fs.writeFileSync(path.join(dir, 'probes.json'), JSON.stringify(PROBES));
    const script = `
import json, sys
from ril_trainer import tokenizer as tok
from ril_trainer.data import split_texts
t = tok.build("bpe", 512, split_texts(sys.argv[1], "train"))
probes = json.load(open(sys.argv[2]))
print(json.dumps({"tokenizer_json": t.to_json(), "spec": t.spec(), "probes": [
    {"text": p, "prompt": t.encode_prompt(p), "response": t.encode_response(p), "decoded": t.decode(t.encode_response(p))}
    for p in probes]}))`;
    const out = execFileSync(python!, ['-c', script, path.join(dir, 'data'), path.join(dir, 'probes.json')], { cwd: TRAINER_DIR, maxBuffer: 64 << 20 });
    ref = JSON.parse(out.toString());
    tk = loadTokenizer(ref.spec, (f) => { assert.equal(f, 'tokenizer.json'); return ref.tokenizer_json; });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the same prompt ids for every probe', () => {
    for (const p of ref.probes) assert.deepEqual(tk.encodePrompt(p.text), p.prompt, JSON.stringify(p.text));
  });

  test('the same text back from the trainer\'s response ids (stopping at <eos>), whole and streamed', () => {
    for (const p of ref.probes) {
      assert.equal(p.decoded, p.text, 'the trainer round-trips');
      assert.equal(tk.decode([...p.response, 7, 8]), p.text, JSON.stringify(p.text));
      const push = tk.streamDecoder();
      const eos = p.response.length - 1;
      assert.equal(p.response.slice(0, eos).map(push).join(''), p.text, `streamed ${JSON.stringify(p.text)}`);
    }
  });

  test('dataset text is a few tokens per word, and specials are never text', () => {
    const q = ref.probes[0];
    assert.ok(q.prompt.length <= q.text.split(' ').length + 3, JSON.stringify(q));
    for (const id of [ref.spec.bos_id, ref.spec.eos_id, ref.spec.sep_id, ref.spec.pad_id]) assert.equal(tk.isText(id), false);
    assert.equal(tk.isText(q.prompt[1]), true);
  });
});
