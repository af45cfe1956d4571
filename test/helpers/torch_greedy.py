"""PyTorch reference for the inference tests and benchmark: the trainer's own generation.

  python3 test/helpers/torch_greedy.py --checkpoint C --data DIR [--split test] [--n 60] [--max-new-tokens 32]
      -> {"examples": [{"id", "image", "question", "prompt_ids", "tokens", "text"}], "pixel_values_0": [...]}   (greedy, batch 1)
  python3 test/helpers/torch_greedy.py --checkpoint C --data DIR --bench --n 16 --max-new-tokens 16 --threads 2
      -> {"latency_ms": [...], "tokens": [...]}   per-request eager generation time (preprocess excluded)

Runs with PYTHONPATH pointing at functions/trainer (the trainer package).
"""
import argparse
import json
import time

import torch

from ril_trainer import checkpoint as ckpt
from ril_trainer.config import SamplingConfig
from ril_trainer.data import VQADataset, normalise
from ril_trainer.sampling import generate


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--max-new-tokens", type=int, default=32)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--bench", action="store_true")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--no-eos", action="store_true", help="mask <eos> so every answer has max-new-tokens tokens")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    model = ckpt.load_model(a.checkpoint)
    tokenizer = model.tokenizer
    if a.no_eos:
        inner = model

        class NoEos(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.m, self.cfg, self.tokenizer = inner, inner.cfg, inner.tokenizer

            def forward(self, *args):
                logits, past = self.m(*args)
                logits[..., tokenizer.eos_id] = float("-inf")
                return logits, past
        model = NoEos().eval()
    ds = VQADataset(a.data, inner.cfg if a.no_eos else model.cfg, splits=[a.split])
    idx = ds.split_indices(a.split)[:a.n]
    cfg = model.cfg
    px = normalise(ds.images[idx], cfg)
    sc = SamplingConfig(greedy=True, max_new_tokens=a.max_new_tokens, repetition_penalty=1.0)
    out = []
    latencies = []
    for _ in range(a.repeats):
        for k, i in enumerate(idx):
            ex = ds.examples[i]
            t = time.perf_counter()
            prompt = tokenizer.encode_prompt(ex.question)
            g = generate(model, px[k:k + 1], [prompt], sc)
            latencies.append((time.perf_counter() - t) * 1000)
            if len(out) < len(idx):
                out.append({"id": ex.id, "image": ex.image, "question": ex.question, "prompt_ids": prompt,
                            "tokens": g.tokens[0], "text": tokenizer.decode(g.tokens[0])})
    if a.bench:
        print(json.dumps({"latency_ms": latencies, "tokens": [len(e["tokens"]) for e in out], "threads": torch.get_num_threads()}))
    else:
        print(json.dumps({"examples": out, "pixel_values_0": px[0].reshape(-1).tolist()}))


if __name__ == "__main__":
    torch.set_grad_enabled(False)
    main()
