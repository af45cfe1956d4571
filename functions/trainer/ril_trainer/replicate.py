"""Small-scale replication of the RIL paper's comparison (Table 1, Figure 3) on Fashion-MNIST VQA.

From ONE SFT student (nano, trained on the dataset's answers) and the same budget (RL steps,
questions per step, G, lr, beta), runs GRPO, Dr.GRPO, RIL with one teacher (teacher-verbose)
and RIL with both stand-in teachers, over several seeds, each as the platform runs it
(``python3 -m ril_trainer train`` in a subprocess, JSON lines parsed). Then, on the test split,
greedy answers of every final student are scored:

- accuracy: the rule judge (answers.rule_verdict, the same rule as ``eval``);
- teacher-likeness (D_final): share of answers the run's own final discriminator scores below
  0.5 (RIL rows only: the baselines have no discriminator);
- teacher-likeness (referee): share scored below 0.5 by ONE referee discriminator, pre-trained
  once (seed 0) on SFT-student samples vs both teachers' cached responses, the same for every
  row (so the baselines get a number too);
- style without a discriminator: mean response length (characters), and the verbose-style
  score: share of a response's word trigrams that occur in teacher-verbose's cached train
  responses (0 for responses of fewer than 3 words);
- curves (the paper's Figure 3): reward/answer_student and reward/sim_student per step, the
  mean over seeds, written as PNGs (matplotlib).

Choices: nano student (seconds per step on 2 CPU cores), the same lr for every method (the
paper's protocol; the value is in ``BUDGETS`` with why), Fashion-MNIST built by the repo's
``ril data fashion-mnist`` when --data is missing.

Run: cd functions/trainer && python3 -m ril_trainer.replicate --out ../../docs/replication [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List

import numpy as np
import torch

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # functions/trainer
REPO = os.path.dirname(os.path.dirname(HERE))

METHODS = {  # name -> (algorithm, teachers)
    "GRPO": ("grpo", []),
    "Dr.GRPO": ("dr_grpo", []),
    "RIL (verbose teacher)": ("ril", ["teacher-verbose"]),
    "RIL (both teachers)": ("ril", ["teacher-concise", "teacher-verbose"]),
}

BUDGETS: Dict[str, Dict[str, Any]] = {
    # why each value: see docs/replication.md and docs/LOG.md
    # full: sized to about 15 minutes on 2 shared CPU cores (load average 5-10 from other jobs while it ran)
    "full": {"sft_steps": 400, "rl_steps": 15, "questions_per_step": 8, "seeds": [0, 1, 2], "eval_examples": 200,
             "referee_questions": 48},
    # long: the full budget with 3x the RL steps (about 20 minutes when the cores are less loaded)
    "long": {"sft_steps": 400, "rl_steps": 45, "questions_per_step": 8, "seeds": [0, 1, 2], "eval_examples": 200,
             "referee_questions": 48},
    "quick": {"sft_steps": 120, "rl_steps": 6, "questions_per_step": 4, "seeds": [0], "eval_examples": 60,
              "referee_questions": 16},
}

COMMON = {  # the RL settings shared by every method (the same budget)
    "model": "nano", "group_size": 4, "mu": 1, "epsilon": 0.2, "beta": 0.01, "lr": 1e-4, "warmup_steps": 0,
    "max_response_tokens": 96, "disc_pretrain_questions": 32, "disc_pretrain_samples": 8, "disc_lr": 3e-4,
    "eval_every": 0, "val_accuracy_examples": 50, "checkpoint_every": 1000, "num_threads": 1, "device": "cpu",
}


def run_cli(cfg: Dict[str, Any], data: str, out: str) -> List[Dict[str, Any]]:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "config.json")
    done = os.path.join(out, "stdout.jsonl")
    if os.path.exists(done) and os.path.exists(path) and json.load(open(path)) == cfg:  # finished before: reuse
        with open(done) as f:
            ev = [json.loads(line) for line in f if line.startswith("{")]
        if any(e.get("event") == "done" for e in ev):
            return ev
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    with open(os.path.join(out, "stdout.jsonl"), "w") as so, open(os.path.join(out, "stderr.log"), "w") as se:
        rc = subprocess.call([sys.executable, "-m", "ril_trainer", "train", "--config", path, "--data", data,
                              "--out", out], cwd=HERE, stdout=so, stderr=se)
    if rc:
        raise RuntimeError(f"train failed ({rc}): see {out}/stderr.log")
    with open(os.path.join(out, "stdout.jsonl")) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def trigrams(text: str) -> List[tuple]:
    w = re.findall(r"[\w-]+", text.lower())
    return [tuple(w[i:i + 3]) for i in range(len(w) - 2)]


def score_checkpoint(path: str, data: str, n: int, referee, verbose_grams: set) -> Dict[str, float]:
    from .checkpoint import load, load_model
    from .config import SamplingConfig
    from .data import VQADataset, normalise
    from .discriminator import Discriminator, disc_probs
    from .answers import rule_verdict
    from .sampling import generate
    model = load_model(path)
    ds = VQADataset(data, model.cfg, splits=["test"])
    rows = ds.split_indices("test")[:n]
    cfg = SamplingConfig(greedy=True, max_new_tokens=96, repetition_penalty=1.0)
    tokens: List[List[int]] = []
    for s in range(0, len(rows), 100):
        part = rows[s:s + 100]
        tokens += generate(model, normalise(ds.images[part], model.cfg),
                           [model.tokenizer.encode_prompt(ds.examples[i].question) for i in part], cfg).tokens
    texts = [model.tokenizer.decode(t) for t in tokens]
    qs = [ds.examples[i].question for i in rows]
    res = {"accuracy": float(np.mean([rule_verdict(q, ds.examples[i].answer, o) for q, i, o in zip(qs, rows, texts)])),
           "len_chars": float(np.mean([len(o) for o in texts])),
           "verbose_style": float(np.mean([np.mean([g in verbose_grams for g in trigrams(o)]) if trigrams(o) else 0.0
                                           for o in texts])),
           "teacher_likeness_referee": float((disc_probs(referee, qs, tokens) < 0.5).float().mean())}
    extra = load(path)["extra"]
    if extra.get("disc"):
        disc = Discriminator(model, load(path)["train_config"].get("disc_input") == "question_response")
        disc.load_state_dict(extra["disc"])
        res["teacher_likeness_final_d"] = float((disc_probs(disc, qs, tokens) < 0.5).float().mean())
    res["sample"] = texts[:3]  # type: ignore[assignment]
    return res


def build_referee(sft_ckpt: str, data: str, questions: int):
    from .config import TrainConfig
    from .rl import RLRun
    from .checkpoint import load
    cfg = TrainConfig(algorithm="ril", model="nano", disc_pretrain_questions=questions, disc_pretrain_samples=8,
                      disc_pretrain_max_epochs=2, disc_lr=3e-4, max_response_tokens=96, device="cpu", seed=0)
    run = RLRun(cfg, data, "cpu")
    run.start_from(load(sft_ckpt)["model"])
    stats = run.pretrain_discriminator()
    return run.disc, stats


def curves(events: List[Dict[str, Any]], name: str) -> Dict[int, float]:
    return {e["step"]: e["value"] for e in events if e.get("event") == "metric" and e["name"] == name}


COLOURS = {"GRPO": "tab:blue", "Dr.GRPO": "tab:orange", "RIL (verbose teacher)": "tab:green",
           "RIL (both teachers)": "tab:red"}


def plot(series: Dict[str, Dict[int, List[float]]], title: str, ylabel: str, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=110)
    for label, by_step in series.items():
        if not by_step:
            continue
        steps = sorted(by_step)
        mean = [float(np.mean(by_step[s])) for s in steps]
        k = 3 if len(steps) >= 9 else 1  # light smoothing (moving average over k steps)
        smooth = [float(np.mean(mean[max(0, i - k + 1):i + 1])) for i in range(len(mean))]
        method = label.split(": ")[0]
        ax.plot(steps, smooth, label=label, color=COLOURS.get(method), linestyle="--" if "teacher resp" in label else "-")
    ax.set_xlabel("RL step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main(argv: List[str] = None) -> int:  # type: ignore[assignment]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(REPO, "docs", "replication"))
    p.add_argument("--data", default="/tmp/fmvqa", help="Fashion-MNIST VQA dir (built with ril data fashion-mnist if missing)")
    p.add_argument("--quick", action="store_true", help="1 seed, a few steps: a smoke run of the whole pipeline")
    p.add_argument("--long", action="store_true", help="45 RL steps instead of 15 (same seeds and questions per step)")
    p.add_argument("--jobs", type=int, default=2, help="training processes at once (1 torch thread each)")
    p.add_argument("--student", default="answer", choices=["answer", "teacher"],
                   help="SFT target of the shared student: the answers, or both teachers' cached responses")
    p.add_argument("--runs", default=None, help="where run directories go (default /tmp/ril-replication-runs[-quick]: checkpoints stay out of docs/)")
    a = p.parse_args(argv)
    budget = BUDGETS["quick" if a.quick else "long" if a.long else "full"]
    os.makedirs(a.out, exist_ok=True)
    runs = a.runs or ("/tmp/ril-replication-runs" + ("-quick" if a.quick else "-long" if a.long else "")
                      + ("-teacher" if a.student == "teacher" else ""))
    t_start = time.time()
    if not os.path.exists(os.path.join(a.data, "examples.jsonl")):
        subprocess.check_call(["node", os.path.join(REPO, "clients/cli/bin/ril.js"), "data", "fashion-mnist",
                               "--out", a.data, "--limit", "3000", "--seed", "1"], cwd=REPO)
    torch.set_num_threads(2)

    # 1. one SFT student for every method
    sft_out = os.path.join(runs, "sft")
    if not os.path.exists(os.path.join(sft_out, "checkpoint.pt")):
        sft_cfg = {"algorithm": "sft", "model": "nano", "batch_size": 32, "max_steps": budget["sft_steps"], "lr": 3e-3,
                   "warmup_steps": 20, "eval_every": 100, "val_accuracy_examples": 150, "val_loss_examples": 150,
                   "checkpoint_every": 400, "log_every": 50, "max_response_tokens": 48, "num_threads": 1, "device": "cpu"}
        if a.student == "teacher":  # imitate both teachers' text first (19,200 pairs); verbose texts need 96 tokens
            sft_cfg.update(target="teacher", max_steps=budget["sft_steps"] + 200, eval_every=200,
                           checkpoint_every=600, max_response_tokens=96)
        run_cli(sft_cfg, a.data, sft_out)
    sft_ckpt = os.path.join(sft_out, "checkpoint.pt")

    # 2. every method x seed from it, as the platform runs them
    jobs = []
    for seed in budget["seeds"]:
        for name, (algo, teachers) in METHODS.items():
            cfg = dict(COMMON, algorithm=algo, teachers=teachers, seed=seed, init_checkpoint=sft_ckpt,
                       max_steps=budget["rl_steps"], questions_per_step=budget["questions_per_step"])
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            jobs.append((name, seed, cfg, os.path.join(runs, f"{slug}-s{seed}")))
    with ThreadPoolExecutor(max_workers=a.jobs) as pool:
        events = list(pool.map(lambda j: run_cli(j[2], a.data, j[3]), jobs))

    # 3. score every final student on the test split
    referee, referee_stats = build_referee(sft_ckpt, a.data, budget["referee_questions"])
    verbose_grams = set()
    with open(os.path.join(a.data, "teachers", "teacher-verbose.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            if "-train-" in d["example"]:
                verbose_grams.update(trigrams(d["text"]))
    scores = {"SFT student": [score_checkpoint(sft_ckpt, a.data, budget["eval_examples"], referee, verbose_grams)]}
    for (name, seed, cfg, out), ev in zip(jobs, events):
        scores.setdefault(name, []).append(score_checkpoint(os.path.join(out, "checkpoint.pt"), a.data,
                                                            budget["eval_examples"], referee, verbose_grams))

    # 4. table + curves
    cols = [("accuracy", "test accuracy (judge)"), ("teacher_likeness_final_d", "teacher-likeness, final D"),
            ("teacher_likeness_referee", "teacher-likeness, referee D"), ("verbose_style", "verbose-style trigrams"),
            ("len_chars", "length (chars)")]

    def cell(vals: List[float], pct: bool) -> str:
        if not vals:
            return "n/a"
        m, s = float(np.mean(vals)), float(np.std(vals))
        f = (lambda v: f"{100 * v:.1f}") if pct else (lambda v: f"{v:.1f}")
        return f"{f(m)} ± {f(s)}" if len(vals) > 1 else f(m)

    lines = ["| method | " + " | ".join(c[1] for c in cols) + " |", "|---|" + "---|" * len(cols)]
    for name, rows in scores.items():
        lines.append(f"| {name} | " + " | ".join(cell([r[k] for r in rows if k in r], k != "len_chars")
                                                  for k, _ in cols) + " |")
    table = "\n".join(lines)
    for metrics, title, fname in (
            ((("reward/answer_student", ""), ("reward/answer_teacher", ": teacher resp.")),
             "answer reward (solid: student, dashed: teacher resp.)", "answer_reward.png"),
            ((("reward/sim_student", ""), ("reward/sim_teacher", ": teacher resp.")),
             "similarity reward 1[D<0.5] (solid: student, dashed: teacher)", "sim_reward.png"),
            ((("gen/len_mean", ""),), "rollout length (tokens)", "rollout_len.png")):
        series: Dict[str, Dict[int, List[float]]] = {}
        for (name, seed, cfg, out), ev in zip(jobs, events):
            for metric, suffix in metrics:
                for step, v in curves(ev, metric).items():
                    series.setdefault(name + suffix, {}).setdefault(step, []).append(v)
        plot(series, title + ", seed mean", metrics[0][0].split("_")[0], os.path.join(a.out, fname))
    summary = {"student": a.student, "long": a.long, "budget": budget, "common": COMMON, "methods": {k: list(v) for k, v in METHODS.items()},
               "referee_pretrain": referee_stats, "scores": scores, "table": table,
               "wall_s": time.time() - t_start, "quick": a.quick}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    print(f"wall {summary['wall_s']:.0f} s; results in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
