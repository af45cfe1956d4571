"""The RIL replication (the paper's Table 1 and Figure 3 at small scale) on Fashion-MNIST VQA, one command.

    cd functions/trainer && python3 -m ril_trainer.replicate --out DIR [--quick | --device cuda] [--jobs N]

What it does (docs/replication.md, "Protocol"):
1. data: the extended Fashion-MNIST VQA set (``ril data fashion-mnist --questions extended``), built when
   --data is missing (needs node; on a machine without it, pass --data of a build made beforehand);
2. the starting students (config dicts in ``SFT``): the *fluent* student (SFT on both teachers' texts:
   the concise teacher's near-bare answers and the verbose teacher's reasoning, subword tokenizer) that
   every RL run starts from, and the answer-only SFT student reported beside it;
3. RL from the fluent student: GRPO, Dr.GRPO, RIL (one teacher), RIL (both teachers), and the ablation
   rows, over the seeds, each for ``rl_epochs`` epochs over the training questions (steps =
   ceil(epochs * train questions / questions_per_step)); each run is ``python3 -m ril_trainer train``
   in a worker process (``--jobs``), finished runs reused when their config is unchanged;
4. a referee discriminator, independent of every run and larger than the student (``REFEREE``);
5. every final student answers the WHOLE test split greedily with a budget from the data (no
   truncation below the longest target); per-question verdicts of the rule judge and the referee;
6. ``stats.paired_bootstrap``: mean [95% CI] per method overall and on the headroom subset (the
   questions the fluent SFT student gets wrong), and the paired difference RIL (both) - Dr.GRPO;
7. ``table.md``, ``results.json`` (every per-question verdict, so the statistics can be recomputed;
   sample answers), and the Figure-3 curves as PNGs.

Every phase's config is built in ONE place: ``SFT``, ``RL_COMMON`` + ``METHODS`` + ``ABLATIONS``,
``REFEREE``, sized by ``BUDGETS``.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import stats

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # functions/trainer
REPO = os.path.dirname(os.path.dirname(HERE))

# ---- the protocol: one dict per phase ------------------------------------------------------------

# name -> (algorithm, teachers, extra config). The RIL rows differ only in the teacher count.
METHODS: Dict[str, Tuple[str, List[str], Dict[str, Any]]] = {
    "GRPO": ("grpo", [], {}),
    "Dr.GRPO": ("dr_grpo", [], {}),
    "RIL (verbose teacher)": ("ril", ["teacher-verbose"], {}),
    "RIL (both teachers)": ("ril", ["teacher-concise", "teacher-verbose"], {}),
}
HEADLINE = ("RIL (both teachers)", "Dr.GRPO")

# Ablations (``--ablations``, default all): each is RIL (both teachers) with the dict's overrides.
# The teacher-count ablation is the pair of RIL rows above.
ABLATIONS: Dict[str, Tuple[str, Dict[str, Any]]] = {
    "kl": ("RIL (both), KL on all tokens", {"kl_tokens": "all"}),
    "weak-disc": ("RIL (both), weak discriminator", {"disc_pretrain_max_epochs": 1, "disc_pretrain_questions": 32,
                                                     "disc_pretrain_target_acc": 1.01}),
    "disc-qr": ("RIL (both), discriminator sees the question", {"disc_input": "question_response"}),
}

# The SFT students. "fluent" (SFT on both teachers' cached texts: 4 concise near-answers + 4 verbose
# reasonings per question, i.e. a mix of answers and teacher text) is where every RL run starts;
# "answer" (SFT on the bare answers) is scored beside it. Size, steps and mix are here to tune.
SFT: Dict[str, Dict[str, Any]] = {
    "fluent": {"algorithm": "sft", "target": "teacher", "teachers": ["teacher-concise", "teacher-verbose"],
               "tokenizer": "bpe", "tokenizer_vocab_size": 512, "batch_size": 32, "lr": 3e-3, "warmup_steps": 50,
               "max_response_tokens": 0, "eval_every": 0, "val_accuracy_examples": 150, "val_loss_examples": 150,
               "log_every": 50},
    "answer": {"algorithm": "sft", "target": "answer", "tokenizer": "bpe", "tokenizer_vocab_size": 512,
               "batch_size": 32, "lr": 3e-3, "warmup_steps": 20, "max_response_tokens": 0, "eval_every": 0,
               "val_accuracy_examples": 150, "val_loss_examples": 150, "log_every": 50},
}

# The RL settings shared by every method (the same budget for all).
RL_COMMON: Dict[str, Any] = {
    "group_size": 4, "mu": 1, "epsilon": 0.2, "beta": 0.01, "lr": 1e-4, "warmup_steps": 0,
    "rl_lr_schedule": "constant", "kl_tokens": "student",
    "max_response_tokens": 0, "budget_coverage": 0.99,            # 0 = auto budget from the data
    "disc_pretrain_questions": 0, "disc_pretrain_samples": 8,     # 0 = every training question
    "disc_pretrain_target_acc": 0.9, "disc_pretrain_max_epochs": 20, "disc_lr": 3e-4,
    "eval_every": 0, "val_accuracy_examples": 50, "checkpoint_every": 100000, "log_every": 1,
}

# The referee: a discriminator on the `small` backbone (about 10x the nano student), initialised from
# its own SFT on both teachers' texts and then trained on starting-student samples (both SFT students,
# T = 1, the distribution RL starts from) vs both teachers' cached texts of the training questions,
# until held-out accuracy >= target_acc or max_epochs. Why this one: it sees no RL run's output, so it
# is one fixed function for every row (the baselines get a number too, and no run can have trained
# against it); larger than the student, so a student cannot pass it by exploiting its capacity; its
# own SFT gives it a language model of teacher text, which a from-scratch classifier on a few thousand
# texts lacks (it would learn length and little else).
REFEREE: Dict[str, Any] = {
    "sft": {"algorithm": "sft", "target": "teacher", "teachers": ["teacher-concise", "teacher-verbose"],
            "tokenizer": "bpe", "tokenizer_vocab_size": 512, "batch_size": 32, "lr": 1e-3, "warmup_steps": 50,
            "max_response_tokens": 0, "eval_every": 0, "val_accuracy_examples": 50, "val_loss_examples": 100,
            "log_every": 50},
    "disc_lr": 1e-4, "batch_size": 64, "target_acc": 0.9, "samples_per_question": 2, "seed": 12345,
}

# Budgets. Sizing of "full" (2 shared CPU cores, --jobs 2, target about two hours), an ESTIMATE from one
# timed --quick run on this branch (byte tokenizer, nano, every rollout at the 126-token cap): GRPO
# 3 steps x 4 questions x G 4 took 6.4 s wall with ~3 s of process start, ~1.1 s per step; RIL runs
# 14-15 s (discriminator pre-training on 24 questions included). Scaled linearly to 16 questions per
# step (an upper bound: generation is batched): ~4.5 s per step, 150 steps (one epoch of 2400 train
# questions) = ~11 min per run; 20 method runs + 6 ablation runs = 26 runs / 2 jobs = ~2.4 h with byte
# tokens. The subword tokenizer cuts a verbose text from ~125 to ~30-40 tokens, so the same runs should
# take roughly half: ~1.2-1.5 h, plus SFT (3 runs, ~15 min), the referee and scoring (~10 min). NOT
# measured: RIL's discriminator pre-training on all 2400 questions to 0.9 held-out accuracy (other
# branch); if it is slow, lower disc_pretrain_questions for the full budget. Resize from
# results.json -> run_wall_s after the first full run. (--quick itself: 3 min 34 s end to end.)
BUDGETS: Dict[str, Dict[str, Any]] = {
    "quick": {"limit": 600, "model": "nano", "sft_steps": {"fluent": 150, "answer": 80}, "referee_sft_steps": 40,
              "referee_max_epochs": 1, "referee_questions": 40, "rl_epochs": None, "rl_steps": 3,
              "questions_per_step": 4, "seeds": [0], "ablation_seeds": [0], "bootstrap": 500,
              "rl_overrides": {"disc_pretrain_questions": 24, "disc_pretrain_max_epochs": 2}},
    # referee_sft_steps 250: the `small` referee's SFT is ~10x a nano step (measured: 600 steps would hold one of
    # the two job slots for ~45 min next to the RL runs); its held-out accuracy as a discriminator is reported
    "full": {"limit": 3000, "model": "nano", "sft_steps": {"fluent": 1500, "answer": 400}, "referee_sft_steps": 250,
             "referee_max_epochs": 4, "referee_questions": 0, "rl_epochs": 1, "rl_steps": None,
             "questions_per_step": 16, "seeds": [0, 1, 2, 3, 4], "ablation_seeds": [0], "bootstrap": 10000,
             # measured: pre-training the discriminator on all 2400 questions x (8 + 8) took ~2.5 min per epoch on
             # the shared cores and stood at 74% held-out after one epoch (the fluent student's samples ARE teacher-
             # like); up to 20 epochs x 19 RIL runs would not fit two hours. On CPU: 4 + 4 responses per question,
             # at most 3 epochs (still every training question; early stop at 0.9; the reached accuracy is reported).
             # A RIL run is then ~10 min on the shared cores, so the ablations get one seed (paired over questions)
             "rl_overrides": {"disc_pretrain_samples": 4, "disc_pretrain_max_epochs": 3}},
    # one H200-class GPU, under 8 minutes with --jobs 8 (scripts/replicate-gpu.sh): the full protocol's
    # shape, a larger student and two RL epochs; every run is small for the GPU, so they share it
    "gpu": {"limit": 3000, "model": "small", "sft_steps": {"fluent": 1500, "answer": 400}, "referee_sft_steps": 600,
            "referee_max_epochs": 6, "referee_questions": 0, "rl_epochs": 2, "rl_steps": None,
            "questions_per_step": 16, "seeds": [0, 1, 2, 3, 4], "ablation_seeds": [0, 1, 2, 3, 4], "bootstrap": 10000},
}
REFEREE_MODEL = "small"  # the student is `nano` on CPU; on the GPU (student `small`) the referee is `base`

# ---- data ------------------------------------------------------------------------------------------

_FACTS: Dict[str, Dict[str, Any]] = {}


def data_facts(data: str) -> Dict[str, Any]:
    """Question counts of a dataset dir."""
    if data in _FACTS:
        return _FACTS[data]
    with open(os.path.join(data, "examples.jsonl")) as f:
        ex = [json.loads(line) for line in f if line.strip()]
    facts = {"train_questions": sum(e["split"] == "train" for e in ex), "test_questions": sum(e["split"] == "test" for e in ex)}
    _FACTS[data] = facts
    return facts


def ensure_data(data: str, limit: int) -> None:
    if os.path.exists(os.path.join(data, "examples.jsonl")):
        return
    cli = os.path.join(REPO, "clients/cli/bin/ril.js")
    if not os.path.exists(cli):
        raise SystemExit(f"no dataset at {data} and no CLI to build it: build it beforehand with "
                         f"`ril data fashion-mnist --questions extended --limit {limit} --seed 1 --out DIR` and pass --data DIR")
    subprocess.check_call(["node", cli, "data", "fashion-mnist", "--out", data, "--limit", str(limit), "--seed", "1",
                           "--questions", "extended"], cwd=REPO)


# ---- runs ------------------------------------------------------------------------------------------


def run_cli(cfg: Dict[str, Any], data: str, out: str) -> List[Dict[str, Any]]:
    """``python3 -m ril_trainer train`` in a subprocess; reused when finished with the same config.

    An interrupted run with the same config resumes from its checkpoint and its events are appended (the curves
    keep their early steps); a run directory left by another config starts clean (resuming another config's
    checkpoint would mix two experiments, and overwriting its stdout once lost the GRPO / Dr.GRPO curves)."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "config.json")
    done = os.path.join(out, "stdout.jsonl")
    same = os.path.exists(path) and json.load(open(path)) == cfg
    if same and os.path.exists(done):
        with open(done) as f:
            ev = [json.loads(line) for line in f if line.startswith("{")]
        if any(e.get("event") == "done" for e in ev):  # finished before: reuse
            return ev
    if not same:
        for name in ("checkpoint.pt", "stdout.jsonl", "stderr.log", "wall_s.json"):
            if os.path.exists(os.path.join(out, name)):
                os.remove(os.path.join(out, name))
    with open(path, "w") as f:
        json.dump(cfg, f, indent=1)
    t0 = time.time()
    with open(done, "a") as so, open(os.path.join(out, "stderr.log"), "a") as se:
        rc = subprocess.call([sys.executable, "-m", "ril_trainer", "train", "--config", path, "--data", data,
                              "--out", out], cwd=HERE, stdout=so, stderr=se)
    if rc:
        raise RuntimeError(f"train failed ({rc}): see {out}/stderr.log")
    wall = (run_wall(out) or 0.0) + time.time() - t0  # an interrupted run's earlier time counts too
    with open(os.path.join(out, "wall_s.json"), "w") as f:
        json.dump({"wall_s": wall}, f)
    with open(done) as f:
        return [json.loads(line) for line in f if line.startswith("{")]


def run_wall(out: str) -> Optional[float]:
    p = os.path.join(out, "wall_s.json")
    return json.load(open(p))["wall_s"] if os.path.exists(p) else None


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# ---- scoring ---------------------------------------------------------------------------------------


def trigrams(text: str) -> List[tuple]:
    w = re.findall(r"[\w-]+", text.lower())
    return [tuple(w[i:i + 3]) for i in range(len(w) - 2)]


def answer_test(path: str, data: str, device: str) -> Dict[str, Any]:
    """Greedy answers of a checkpoint to EVERY test question, budget = the room left in its context
    (at least the data's longest target, so nothing a teacher writes is cut); ``truncated`` counts
    answers that used the whole budget without <eos>."""
    from .checkpoint import load_model
    from .config import SamplingConfig
    from .data import VQADataset, normalise
    from .sampling import generate
    model = load_model(path, device)
    tk = model.tokenizer
    ds = VQADataset(data, model.cfg, splits=["test"])
    rows = ds.split_indices("test")
    texts: List[str] = []
    truncated = 0
    for s in range(0, len(rows), 128):
        part = rows[s:s + 128]
        prompts = [tk.encode_prompt(ds.examples[i].question) for i in part]
        room = model.cfg.max_seq_len - model.cfg.n_image_tokens - max(len(p) for p in prompts)
        cfg = SamplingConfig(greedy=True, max_new_tokens=room, repetition_penalty=1.0)
        gen = generate(model, normalise(ds.images[part].to(device), model.cfg), prompts, cfg).tokens
        truncated += sum(1 for t in gen if tk.eos_id not in t and len(t) >= room)
        texts += [tk.decode(t) for t in gen]
    return {"ids": [ds.examples[i].id for i in rows], "questions": [ds.examples[i].question for i in rows],
            "answers": [ds.examples[i].answer for i in rows], "texts": texts, "truncated": truncated}


def score(ans: Dict[str, Any], referee, verbose_grams: set) -> Dict[str, Any]:
    """Per-question verdicts (rule judge; referee D < 0.5 = teacher-like) and style measures."""
    from .answers import rule_verdict
    from .discriminator import disc_probs
    texts = ans["texts"]
    correct = [rule_verdict(q, a, o) for q, a, o in zip(ans["questions"], ans["answers"], texts)]
    likeness = []
    if referee is not None:  # the text re-encoded with the referee's own tokenizer
        enc = [referee.lm.tokenizer.encode_response(o) for o in texts]
        likeness = (disc_probs(referee, ans["questions"], enc) < 0.5).int().tolist()
    return {"correct": correct, "teacher_like": likeness, "len_chars": float(np.mean([len(o) for o in texts])),
            "verbose_style": float(np.mean([np.mean([g in verbose_grams for g in trigrams(o)]) if trigrams(o) else 0.0
                                            for o in texts])),
            "truncated": ans["truncated"], "texts": texts}


def train_referee(referee_ckpt: str, student_ckpts: Sequence[str], data: str, budget: Dict[str, Any],
                  device: str) -> Tuple[Any, Dict[str, float]]:
    """The referee discriminator (see REFEREE): negatives = starting-student samples, positives = teacher texts."""
    from .checkpoint import load_model
    from .config import SamplingConfig
    from .data import VQADataset, normalise
    from .discriminator import STUDENT, TEACHER, Discriminator, disc_probs, disc_update, make_disc_optimizer
    from .sampling import generate
    torch.manual_seed(REFEREE["seed"])
    backbone = load_model(referee_ckpt, device)
    disc = Discriminator(backbone, False).to(device)
    rtk = backbone.tokenizer
    opt = make_disc_optimizer(disc, REFEREE["disc_lr"])
    ds = VQADataset(data, backbone.cfg, splits=["train"])
    cache = ds.teacher_responses(["teacher-concise", "teacher-verbose"])
    rows = [i for i in ds.split_indices("train") if ds.examples[i].id in cache]
    rng = np.random.default_rng(REFEREE["seed"])
    if budget["referee_questions"]:
        rows = sorted(rng.choice(rows, min(len(rows), budget["referee_questions"]), replace=False).tolist())
    held = set(rows[len(rows) - max(1, len(rows) // 5):])
    items: List[Tuple[int, List[int], float]] = []
    k = REFEREE["samples_per_question"]
    g = torch.Generator(device=device).manual_seed(REFEREE["seed"])
    for ck in student_ckpts:
        student = load_model(ck, device)
        scfg = SamplingConfig(max_new_tokens=student.cfg.max_seq_len - student.cfg.n_image_tokens - 64)
        for s in range(0, len(rows), 64):
            part = [i for i in rows[s:s + 64] for _ in range(k)]
            gen = generate(student, normalise(ds.images[part].to(device), student.cfg),
                           [student.tokenizer.encode_prompt(ds.examples[i].question) for i in part], scfg, g).tokens
            items += [(i, rtk.encode_response(student.tokenizer.decode(t)), STUDENT) for i, t in zip(part, gen)]
    n_student = len(items)
    for i in rows:  # as many teacher texts as student samples, both teachers alike
        texts = [t for _, t in cache[ds.examples[i].id]]
        for t in rng.choice(texts, min(len(texts), k * len(student_ckpts)), replace=False):
            items.append((i, rtk.encode_response(str(t)), TEACHER))
    train = [j for j, it in enumerate(items) if it[0] not in held]
    test = [j for j, it in enumerate(items) if it[0] in held]

    def held_acc() -> float:
        p = disc_probs(disc, [ds.examples[items[j][0]].question for j in test], [items[j][1] for j in test])
        y = torch.tensor([items[j][2] for j in test])
        return float(((p >= 0.5).float() == y).float().mean())

    acc, epochs = held_acc(), 0
    for epoch in range(budget["referee_max_epochs"]):
        if acc >= REFEREE["target_acc"]:
            break
        order = np.random.default_rng([REFEREE["seed"], epoch]).permutation(train)
        for s in range(0, len(order), REFEREE["batch_size"]):
            b = order[s:s + REFEREE["batch_size"]].tolist()
            disc_update(disc, opt, [ds.examples[items[j][0]].question for j in b], [items[j][1] for j in b],
                        [items[j][2] for j in b])
        acc, epochs = held_acc(), epoch + 1
    return disc, {"heldout_acc": acc, "epochs": epochs, "questions": len(rows), "heldout_questions": len(held),
                  "student_samples": n_student, "teacher_texts": len(items) - n_student}


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
        k = max(1, len(steps) // 20)  # light smoothing (moving average over k steps)
        smooth = [float(np.mean(mean[max(0, i - k + 1):i + 1])) for i in range(len(mean))]
        method = label.split(": ")[0]
        ax.plot(steps, smooth, label=label, color=COLOURS.get(method), linestyle="--" if "teacher resp" in label else "-")
    ax.set_xlabel("RL step")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


# ---- the tables --------------------------------------------------------------------------------------


def tables(scores: Dict[str, List[Dict[str, Any]]], start: str, B: int) -> Tuple[str, Dict[str, Any]]:
    """Markdown tables (mean [95% CI] from the paired bootstrap) and the statistics behind them."""
    acc = {k: np.array([r["correct"] for r in rows]) for k, rows in scores.items()}
    like = {k: np.array([r["teacher_like"] for r in rows]) for k, rows in scores.items() if rows[0]["teacher_like"]}
    head = stats.headroom_mask(acc[start])
    pairs = [HEADLINE] if all(h in acc for h in HEADLINE) else []
    pairs += [(k, HEADLINE[1]) for k in acc if k in METHODS and k not in HEADLINE and k.startswith("RIL")
              and HEADLINE[1] in acc]
    # an ablation is compared with the row it changes, RIL (both teachers), on the seeds they share (a prefix)
    ablations = [(k, HEADLINE[0]) for k in acc if k.startswith("RIL") and k not in METHODS and HEADLINE[0] in acc]
    main = [(a, b) for a, b in pairs if acc[a].shape == acc[b].shape]
    st = {"overall": stats.paired_bootstrap(acc, main, B=B),
          "headroom": stats.paired_bootstrap(acc, main, B=B, subset=head),
          "teacher_like": stats.paired_bootstrap(like, [], B=B) if like else None,
          "headroom_questions": int(head.sum()), "questions": int(head.size)}
    for a, b in ablations:
        n = min(len(acc[a]), len(acc[b]))
        sub = {a: acc[a][:n], b: acc[b][:n]}
        for part, mask in (("overall", None), ("headroom", head)):
            st[part]["pairs"][f"{a} - {b}"] = stats.paired_bootstrap(sub, [(a, b)], B=B, subset=mask)["pairs"][f"{a} - {b}"]
    pairs = main + ablations
    cols = ["method", "seeds", "test accuracy", f"headroom accuracy ({int(head.sum())} q.)", "teacher-likeness, referee D",
            "verbose-style trigrams", "length (chars)", "truncated answers"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for k, rows in scores.items():
        tl = stats.fmt_cell(st["teacher_like"]["methods"][k]) if like and k in like else "n/a"
        lines.append(f"| {k} | {len(rows)} | {stats.fmt_cell(st['overall']['methods'][k])} | "
                     f"{stats.fmt_cell(st['headroom']['methods'][k])} | {tl} | "
                     f"{100 * np.mean([r['verbose_style'] for r in rows]):.1f} | {np.mean([r['len_chars'] for r in rows]):.1f} | "
                     f"{int(np.sum([r['truncated'] for r in rows]))} |")
    lines += ["", "| paired difference | test accuracy | headroom accuracy |", "|---|---|---|"]
    for a, b in pairs:
        key = f"{a} - {b}"
        lines.append(f"| {key} | {stats.fmt_cell(st['overall']['pairs'][key])} | {stats.fmt_cell(st['headroom']['pairs'][key])} |")
    lines += ["", f"Cells: mean [95% CI] in %, paired bootstrap over questions and seeds (B = {B}; "
                  "functions/trainer/ril_trainer/stats.py); headroom = the test questions the starting SFT student "
                  f"({start}) gets wrong; style columns are seed means."]
    return "\n".join(lines), st


# ---- main ------------------------------------------------------------------------------------------------


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(REPO, "docs", "replication"))
    p.add_argument("--data", default=None, help="extended Fashion-MNIST VQA dir (default /tmp/fmvqa-x[-quick]; built when missing)")
    p.add_argument("--quick", action="store_true", help="CI smoke: 1 seed, a few steps, a small data subset")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"], help="cuda: the GPU protocol (BUDGETS['gpu'])")
    p.add_argument("--jobs", type=int, default=2, help="training processes at once")
    p.add_argument("--ablations", default="kl,weak-disc,disc-qr", help="comma list of ABLATIONS to run ('' for none)")
    p.add_argument("--runs", default=None, help="run directories (default /tmp/ril-replication-runs-<budget>)")
    a = p.parse_args(argv)
    which = "quick" if a.quick else "gpu" if a.device == "cuda" else "full"
    budget = BUDGETS[which]
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device visible to torch")
    data = a.data or ("/tmp/fmvqa-x-quick" if a.quick else "/tmp/fmvqa-x")
    runs = a.runs or f"/tmp/ril-replication-runs-{which}"
    os.makedirs(a.out, exist_ok=True)
    t_start = time.time()
    ensure_data(data, budget["limit"])
    facts = data_facts(data)
    torch.set_num_threads(1 if a.device == "cpu" else 4)
    device_cfg = {"device": a.device, "num_threads": 1, "model": budget["model"]}
    notes: List[str] = []

    # 1. the starting students (fluent: where RL starts; answer-only: reported beside it); the referee's SFT
    # is only needed for scoring, so it runs beside the RL runs (step 2), not before them
    sft_jobs = [(name, dict(SFT[name], **device_cfg, seed=0, max_steps=budget["sft_steps"][name],
                            checkpoint_every=budget["sft_steps"][name]), os.path.join(runs, f"sft-{name}"))
                for name in SFT]
    ref_model = "base" if budget["model"] == "small" else REFEREE_MODEL
    referee_job = ("referee", dict(REFEREE["sft"], **dict(device_cfg, model=ref_model), seed=0,
                                   max_steps=budget["referee_sft_steps"], checkpoint_every=budget["referee_sft_steps"]),
                   os.path.join(runs, "sft-referee"))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        list(pool.map(lambda j: run_cli(j[1], data, j[2]), sft_jobs))
    sft_jobs.append(referee_job)
    ckpt = {name: os.path.join(out, "checkpoint.pt") for name, _, out in sft_jobs}

    # 2. RL: every method x seed, then the ablations, from the fluent student
    steps = budget["rl_steps"] or math.ceil(budget["rl_epochs"] * facts["train_questions"] / budget["questions_per_step"])
    rl_jobs: List[Tuple[str, int, Dict[str, Any], str]] = []
    seen: Dict[str, str] = {}
    rows: List[Tuple[str, Tuple[str, List[str], Dict[str, Any]], List[int]]] = [
        (name, m, budget["seeds"]) for name, m in METHODS.items()]
    for key in [k for k in a.ablations.split(",") if k]:
        label, extra = ABLATIONS[key]
        algo, teachers, base = METHODS[HEADLINE[0]]
        rows.append((label, (algo, teachers, dict(base, **extra)), budget["ablation_seeds"]))
    for name, (algo, teachers, extra), seeds in rows:
        for seed in seeds:
            cfg = dict(RL_COMMON, **device_cfg, **dict(budget.get("rl_overrides", {}), **extra), algorithm=algo,
                       teachers=teachers, seed=seed, init_checkpoint=ckpt["fluent"], max_steps=steps,
                       questions_per_step=budget["questions_per_step"])
            key = json.dumps(cfg, sort_keys=True)
            if key in seen:  # an ablation that changes nothing is not run twice
                notes.append(f"skipped {name} seed {seed}: same config as {seen[key]}")
                continue
            seen[key] = name
            rl_jobs.append((name, seed, cfg, os.path.join(runs, f"{slug(name)}-s{seed}")))
    with ThreadPoolExecutor(max_workers=max(1, a.jobs)) as pool:
        referee_sft = pool.submit(run_cli, referee_job[1], data, referee_job[2])
        events = list(pool.map(lambda j: run_cli(j[2], data, j[3]), rl_jobs))
        referee_sft.result()

    # 3. the referee, then every final student on the whole test split (no training process runs now: all cores)
    if a.device == "cpu":
        torch.set_num_threads(max(1, min(a.jobs, os.cpu_count() or 1)))
    referee, referee_stats = train_referee(ckpt["referee"], [ckpt["fluent"], ckpt["answer"]], data, budget, a.device)
    verbose_grams: set = set()
    with open(os.path.join(data, "teachers", "teacher-verbose.jsonl")) as f:
        for line in f:
            d = json.loads(line)
            if "-train-" in d["example"]:
                verbose_grams.update(trigrams(d["text"]))
    start = "SFT student (fluent; RL starts here)"
    scores: Dict[str, List[Dict[str, Any]]] = {}
    ids: List[str] = []
    for label, key in ((start, "fluent"), ("SFT student (answers only)", "answer")):
        ans = answer_test(ckpt[key], data, a.device)
        ids = ans["ids"]
        scores[label] = [score(ans, referee, verbose_grams)]
    for name, seed, cfg, out in rl_jobs:
        scores.setdefault(name, []).append(score(answer_test(os.path.join(out, "checkpoint.pt"), data, a.device),
                                                 referee, verbose_grams))

    # 4. tables, curves, results
    table, st = tables(scores, start, budget["bootstrap"])
    for metrics, title, fname in (
            ((("reward/answer_student", ""), ("reward/answer_teacher", ": teacher resp.")),
             "answer reward (solid: student, dashed: teacher resp.)", "answer_reward.png"),
            ((("reward/sim_student", ""), ("reward/sim_teacher", ": teacher resp.")),
             "similarity reward 1[D<0.5] (solid: student, dashed: teacher)", "sim_reward.png"),
            ((("gen/len_mean", ""),), "rollout length (tokens)", "rollout_len.png")):
        series: Dict[str, Dict[int, List[float]]] = {}
        for (name, seed, cfg, out), ev in zip(rl_jobs, events):
            if name not in METHODS:
                continue
            for metric, suffix in metrics:
                for step, v in curves(ev, metric).items():
                    series.setdefault(name + suffix, {}).setdefault(step, []).append(v)
        plot(series, title + ", seed mean", metrics[0][0].split("_")[0], os.path.join(a.out, fname))
    walls = {out: run_wall(out) for _, _, out in sft_jobs} | {out: run_wall(out) for *_, out in rl_jobs}
    summary = {
        "budget_name": which, "budget": budget, "data": data, "data_facts": facts, "rl_steps": steps,
        "sft": {k: c for k, c, _ in sft_jobs}, "rl_common": RL_COMMON, "methods": {k: list(v) for k, v in METHODS.items()},
        "ablations": {k: list(v) for k, v in ABLATIONS.items()}, "referee": {"config": REFEREE, "model": ref_model, **referee_stats},
        "notes": sorted(set(notes)), "question_ids": ids,
        "runs": [{"method": n, "seed": s, "dir": o, "config": c} for n, s, c, o in rl_jobs],
        "verdicts": {k: [{"correct": r["correct"], "teacher_like": r["teacher_like"]} for r in rows] for k, rows in scores.items()},
        "style": {k: [{"len_chars": r["len_chars"], "verbose_style": r["verbose_style"], "truncated": r["truncated"]} for r in rows]
                  for k, rows in scores.items()},
        "samples": {k: [dict(zip(ids[:5], r["texts"][:5])) for r in rows[:1]] for k, rows in scores.items()},
        "stats": st, "table": table, "run_wall_s": walls, "wall_s": time.time() - t_start, "device": a.device}
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(f"<!-- budget {which}, device {a.device}, {steps} RL steps; generated by ril_trainer.replicate -->\n\n{table}\n")
        for n in sorted(set(notes)):
            f.write(f"\nNote: {n}\n")
    print(table)
    print(f"wall {summary['wall_s']:.0f} s; results in {a.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
