"""Data-parallel SFT (2 gloo ranks, spawned) equals single-process SFT on the whole batch.

With every answer the same length, each rank's token-mean loss has the same weight, so DDP's gradient
average equals the single-process gradient: the weights after a few steps must match to float tolerance.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from ril_trainer import checkpoint as ckpt

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _dataset(root: str) -> str:
    os.makedirs(os.path.join(root, "images"))
    rng = np.random.default_rng(1)
    rows = []
    for k in range(16):
        a = (rng.random((28, 28)) * 255).astype(np.uint8)
        Image.fromarray(a, mode="L").save(os.path.join(root, "images", f"{k}.png"))
        rows.append({"id": f"e{k}", "image": f"images/{k}.png", "question": "Which?", "answer": ["bar", "box", "yes", "not"][k % 4],
                     "split": "train" if k < 12 else "val"})
    with open(os.path.join(root, "examples.jsonl"), "w") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    return root


def _train(data: str, out: str, config: str, *extra: str) -> list:
    r = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", config, "--data", data, "--out", out,
                        "--threads", "1", *extra], cwd=HERE, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def test_two_gloo_ranks_match_one_process(tmp_path):
    data = _dataset(str(tmp_path / "data"))
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"algorithm": "sft", "model": "nano", "batch_size": 8, "max_steps": 4, "lr": 0.003,
                                  "warmup_steps": 0, "eval_every": 0, "val_loss_examples": 4, "val_accuracy_examples": 0,
                                  "checkpoint_every": 4, "log_every": 1}))
    single = _train(data, str(tmp_path / "one"), str(config))
    ddp = _train(data, str(tmp_path / "two"), str(config), "--nproc", "2")
    a = ckpt.load(str(tmp_path / "one" / "checkpoint.pt"))["model"]
    b = ckpt.load(str(tmp_path / "two" / "checkpoint.pt"))["model"]
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst < 1e-5, f"largest weight difference {worst}"
    loss = lambda evs: [e["value"] for e in evs if e.get("event") == "metric" and e["name"] == "train/loss"]  # noqa: E731
    assert len(loss(ddp)) == 4, "rank 0 alone reports, once per step"
    assert np.allclose(loss(single), loss(ddp), atol=1e-5), (loss(single), loss(ddp))
    assert sum(1 for e in ddp if e.get("event") == "checkpoint") == 1


def test_rl_algorithms_refuse_data_parallel(tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"algorithm": "dr_grpo", "model": "nano"}))
    r = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(config), "--data", str(tmp_path),
                        "--out", str(tmp_path / "o"), "--nproc", "2"], cwd=HERE, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "sft only" in r.stderr
