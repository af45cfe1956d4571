"""Student benchmark: batched sampling tokens/s with and without the KV cache, and SFT step time.

  cd functions/trainer && /usr/bin/python3 bench/bench_student.py [--sizes nano,small] [--threads 2]

Untrained weights (speed does not depend on them); <eos> is masked out so every row generates
exactly --new-tokens tokens and both paths do the same work. Prints JSON lines and a table.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ril_trainer import tokenizer as tok  # noqa: E402
from ril_trainer.config import SamplingConfig, TrainConfig, model_config  # noqa: E402
from ril_trainer.model import build_model  # noqa: E402
from ril_trainer.sampling import generate, response_logprobs  # noqa: E402
from ril_trainer.sft import make_optimizer, sft_loss  # noqa: E402


class NoEos(torch.nn.Module):
    """Wraps the model so <eos> is never chosen: fixed-length generations for a fair timing."""

    def __init__(self, m):
        super().__init__()
        self.m, self.cfg = m, m.cfg

    def forward(self, *a):
        logits, past = self.m(*a)
        logits[..., tok.EOS] = float("-inf")
        return logits, past


def best_of(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--sizes", default="nano,small")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--new-tokens", type=int, default=48)
    p.add_argument("--train-batch", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    rows = []
    for size in a.sizes.split(","):
        cfg = model_config(size)
        model = build_model(cfg, seed=0).eval()
        px = torch.randn(a.batch, cfg.channels, cfg.image_size, cfg.image_size)
        prompts = [tok.BYTE.encode_prompt("What item of clothing is shown?")] * a.batch
        m = NoEos(model)
        res = {"size": size, "params": model.num_parameters()["total"], "batch": a.batch, "new_tokens": a.new_tokens}
        for cache in (True, False):
            sc = SamplingConfig(max_new_tokens=a.new_tokens, use_cache=cache)
            g = torch.Generator().manual_seed(0)
            s = best_of(lambda: generate(m, px, prompts, sc, g), a.repeats)
            res["tok_s_cache" if cache else "tok_s_nocache"] = a.batch * a.new_tokens / s
        res["speedup"] = res["tok_s_cache"] / res["tok_s_nocache"]
        # SFT step: forward + backward + AdamW on a batch of answers ("ankle boot" + <eos>)
        model.train()
        opt = make_optimizer(model, TrainConfig())
        tpx = torch.randn(a.train_batch, cfg.channels, cfg.image_size, cfg.image_size)
        tprompts = [tok.BYTE.encode_prompt("What item of clothing is shown?")] * a.train_batch
        tresp = [tok.BYTE.encode_response("ankle boot")] * a.train_batch

        def step():
            lp, mask = response_logprobs(model, tpx, tprompts, tresp)
            opt.zero_grad(set_to_none=True)
            sft_loss(lp, mask).backward()
            opt.step()
        res["train_batch"] = a.train_batch
        res["train_step_s"] = best_of(step, a.repeats)
        rows.append(res)
        print(json.dumps({"event": "bench", **res}), flush=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {a.threads} threads"
    print(f"\n{machine}", file=sys.stderr)
    print(f"{'size':6} {'params':>10} {'cache tok/s':>12} {'no-cache tok/s':>15} {'ratio':>6} {'train step (s)':>15}",
          file=sys.stderr)
    for r in rows:
        print(f"{r['size']:6} {r['params']:>10,} {r['tok_s_cache']:>12.0f} {r['tok_s_nocache']:>15.0f} "
              f"{r['speedup']:>6.2f} {r['train_step_s']:>15.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
