"""Sharded data parallelism (student.sharding: fsdp, sharding.py) on 2 gloo ranks equals one process.

The same claims as tests/test_distributed.py, now with every rank holding half of each weight: RIL with full
fine-tuning (the sharded reference copy, the sharded copy discriminator) and RIL with LoRA give the single process's
losses, gradient norms and weights; a sharded run stopped and resumed equals the uninterrupted one bit for bit, and
its checkpoint resumes in one process; SFT of an hf student on 2 ranks (sharded and not) equals one process; and the
shards are real (each rank holds about half of the parameters).
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

pytest.importorskip("transformers", reason="Hugging Face students need transformers (.venv-hf: scripts/ensure-hf.sh)")
pytest.importorskip("peft", reason="Hugging Face students' LoRA needs peft (.venv-hf)")
try:
    from torch.distributed.fsdp import fully_shard  # noqa: F401
except ImportError:
    pytest.skip("FSDP's fully_shard needs torch >= 2.6", allow_module_level=True)

import hf_tiny  # noqa: E402
from ril_trainer import checkpoint as ckpt  # noqa: E402

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOL = 1e-6  # losses and metrics (test_distributed.py's)
WEIGHT_TOL = 5e-5  # weights (test_distributed.py's: AdamW turns 1e-9 summation noise on ~0 gradients into <= lr steps)


@pytest.fixture(scope="module")
def smolvlm(tmp_path_factory) -> str:
    return hf_tiny.smolvlm(str(tmp_path_factory.mktemp("hf") / "smolvlm"))


def _cfg(model: str, algorithm: str, r: int, sharding: str, **over) -> dict:
    # 4 questions x 2 minibatches on 2 ranks; mu 2 (the second pass clips); seeded per question as the ranks must
    return {"algorithm": algorithm, "questions_per_step": 4, "group_size": 2, "max_response_tokens": 6,
            "disc_pretrain_questions": 4, "disc_pretrain_samples": 2, "disc_pretrain_max_epochs": 1,
            "disc_batch_size": 8, "max_steps": 2, "sft_steps": 0, "eval_every": 0, "val_accuracy_examples": 0,
            "checkpoint_every": 100, "warmup_steps": 0, "lr": 1e-3, "policy_minibatches": 2, "mu": 2,
            "num_threads": 1, "rollout_seeding": "per_question",
            "student": {"family": "hf", "model": model, "sharding": sharding,
                        "lora": {"r": r, "alpha": 8, "dropout": 0.0}}, **over}


def _train(tmp_path, cfg: dict, data: str, out: str, nproc: int) -> list:
    path = tmp_path / f"{out}.json"
    path.write_text(json.dumps(cfg))
    res = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(path), "--data", data,
                          "--out", str(tmp_path / out), "--device", "cpu", "--threads", "1", "--nproc", str(nproc)],
                         capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=HERE,
                         timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]


def _metric(ev: list, name: str) -> list:
    return [e["value"] for e in ev if e.get("event") == "metric" and e["name"] == name]


def _worst(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


def _state(tmp_path, out: str) -> dict:
    return ckpt.load(str(tmp_path / out / "checkpoint.pt"))


@pytest.mark.parametrize("algorithm,r,questions", [("ril", 0, 4), ("ril", 4, 3)])
def test_fsdp_on_two_ranks_equals_one_process(smolvlm, tiny_data, tmp_path, algorithm, r, questions):
    """Full fine-tuning: policy, reference and the copy discriminator sharded (D's pre-training averages equal
    gradients, its RL updates sum shares). LoRA: the frozen base and the adapters sharded together (mixed
    requires_grad in one unit), the reference = adapters off. Validation at step 2: every rank samples and scores
    with D (collectives), rank 0 judges. 3 questions on 2 ranks: the ranks sample a different number of times
    (one gather for all of them) and one rank has no question in the second minibatch.
    (ril, not dr_grpo: from random weights dr_grpo's groups all score 0, so every advantage is 0 and the update is
    float noise that AdamW inflates; the teachers in ril's groups give real advantages.)"""
    # no clipping: a clipped gradient hides its scale, and a sum where a mean belongs (D's pre-training) doubles it
    val = {"eval_every": 2, "val_accuracy_examples": 3, "grad_clip": 0.0, "questions_per_step": questions}
    one_ev = _train(tmp_path, _cfg(smolvlm, algorithm, r, "none", **val), tiny_data, "one", 1)
    two_ev = _train(tmp_path, _cfg(smolvlm, algorithm, r, "fsdp", **val), tiny_data, "two", 2)
    names = ["policy/loss", "policy/kl", "policy/clip_frac", "reward/total", "gen/len_mean"]
    names += ["disc/loss", "disc/acc", "reward/sim_student"] if algorithm == "ril" else []
    for name in names:
        a, b = _metric(one_ev, name), _metric(two_ev, name)
        assert len(a) == len(b) == 2 and np.allclose(a, b, rtol=0, atol=TOL), (name, a, b)
    for name in ["disc/pretrain_loss", "disc/pretrain_acc", "eval/val/len_mean", "eval/val/teacher_likeness"]:
        a, b = _metric(one_ev, name), _metric(two_ev, name)
        assert len(a) == len(b) == 1 and np.allclose(a, b, rtol=0, atol=TOL), (name, a, b)
    # the gradient norm checks the reduction: FSDP's default (a mean over ranks) would halve it
    gn1, gn2 = np.array(_metric(one_ev, "policy/grad_norm")), np.array(_metric(two_ev, "policy/grad_norm"))
    assert np.allclose(gn1, gn2, rtol=1e-5) and (gn1 > 1e-4).all(), (gn1, gn2)
    one, two = _state(tmp_path, "one"), _state(tmp_path, "two")
    assert _worst(one["model"], two["model"]) < WEIGHT_TOL
    assert all(not k.startswith("_fsdp") and "_checkpoint_wrapped" not in k for k in two["model"])  # plain names
    if r:  # LoRA's B starts at 0: |B| is how far the adapters moved
        assert all(".lora_" in k for k in two["model"])
        assert max(float(two["model"][k].abs().max()) for k in two["model"] if "lora_B" in k) > 100 * WEIGHT_TOL
    else:
        assert _worst(one["extra"]["reference"], two["extra"]["reference"]) == 0.0  # gathered whole, unchanged
        assert _worst(two["model"], two["extra"]["reference"]) > 100 * WEIGHT_TOL
    if algorithm == "ril":  # D gathered whole, its moments too
        assert _worst(one["extra"]["disc"], two["extra"]["disc"]) < WEIGHT_TOL
        # AdamW's steps hardly see a gradient's scale; its first moment does
        d1, d2 = one["extra"]["disc_optimizer"]["state"], two["extra"]["disc_optimizer"]["state"]
        assert d1.keys() == d2.keys()
        for k in d1:
            assert torch.allclose(d1[k]["exp_avg"], d2[k]["exp_avg"], rtol=1e-3, atol=1e-7), k
    # AdamW's moments were gathered whole: the same shapes as one process's
    m1, m2 = one["optimizer"]["state"], two["optimizer"]["state"]
    assert m1.keys() == m2.keys() and all(m1[k]["exp_avg"].shape == m2[k]["exp_avg"].shape for k in m1)


def test_fsdp_resume_is_exact_and_the_checkpoint_is_portable(smolvlm, tiny_data, tmp_path):
    cfg = _cfg(smolvlm, "ril", 0, "fsdp", max_steps=3)
    _train(tmp_path, cfg, tiny_data, "whole", 2)
    _train(tmp_path, dict(cfg, stop_after_step=2), tiny_data, "resumed", 2)
    assert _state(tmp_path, "resumed")["step"] == 2
    ev = _train(tmp_path, cfg, tiny_data, "resumed", 2)
    assert any(e.get("event") == "resumed" for e in ev)
    whole, resumed = _state(tmp_path, "whole"), _state(tmp_path, "resumed")
    assert resumed["step"] == 3 and _worst(resumed["model"], whole["model"]) == 0.0
    assert _worst(resumed["extra"]["disc"], whole["extra"]["disc"]) == 0.0
    # the same checkpoint (stopped at 2) continues in one process, unsharded: same next step up to summation order
    _train(tmp_path, dict(cfg, stop_after_step=2), tiny_data, "alone", 2)
    _train(tmp_path, dict(cfg, student=dict(cfg["student"], sharding="none")), tiny_data, "alone", 1)
    assert _worst(_state(tmp_path, "alone")["model"], whole["model"]) < WEIGHT_TOL


@pytest.mark.parametrize("sharding", ["none", "fsdp"])
def test_hf_sft_on_two_ranks_equals_one_process(smolvlm, tmp_path, sharding):
    """Each rank's loss is a token mean and the gradients are averaged (DDP's convention), so with the same token
    count on every rank a step equals one process's on the whole batch: answers of one token each here."""
    from transformers import AutoTokenizer
    tk = AutoTokenizer.from_pretrained(smolvlm)
    words = [w for w in ("bar", "square", "yes", "no") if len(tk(w, add_special_tokens=False)["input_ids"]) == 1]
    assert len(words) >= 2, "the tiny tokenizer should spell these answers as one token each"
    data = tmp_path / "data"
    os.makedirs(data / "images")
    from PIL import Image
    rng = np.random.default_rng(1)
    with open(data / "examples.jsonl", "w") as f:
        for k in range(12):
            Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8), mode="L").save(data / "images" / f"{k}.png")
            f.write(json.dumps({"id": f"e{k}", "image": f"images/{k}.png", "question": "Which?",
                                "answer": words[k % len(words)], "split": "train" if k < 10 else "val"}) + "\n")
    cfg = {"algorithm": "sft", "batch_size": 4, "max_steps": 3, "lr": 3e-3, "warmup_steps": 0, "eval_every": 0,
           "val_loss_examples": 2, "val_accuracy_examples": 2, "checkpoint_every": 3, "log_every": 1,
           "num_threads": 1, "max_response_tokens": 4,
           "student": {"family": "hf", "model": smolvlm, "sharding": sharding, "lora": {"r": 0}}}
    one_ev = _train(tmp_path, cfg, str(data), "sft1", 1)
    two_ev = _train(tmp_path, cfg, str(data), "sft2", 2)
    for name in ("train/loss", "train/grad_norm", "val/loss", "eval/val/accuracy"):
        a, b = _metric(one_ev, name), _metric(two_ev, name)
        assert len(a) == len(b) > 0 and np.allclose(a, b, rtol=1e-5, atol=TOL), (name, a, b)
    one, two = _state(tmp_path, "sft1"), _state(tmp_path, "sft2")
    assert _worst(one["model"], two["model"]) < WEIGHT_TOL
    moved = max(float((one["model"][k] - v).abs().max()) for k, v in _base_weights(smolvlm, one["model"]).items())
    assert moved > 100 * WEIGHT_TOL


def _base_weights(model_dir: str, like: dict) -> dict:
    from transformers import AutoModelForImageTextToText
    base = dict(AutoModelForImageTextToText.from_pretrained(model_dir, local_files_only=True).named_parameters())
    return {k: base[k].detach() for k in like if k in base}


def _shard_sizes(model_dir: str, out: str) -> None:
    """One rank: build a sharded full-fine-tuning student and report what this rank holds."""
    from ril_trainer import distributed, sharding
    from ril_trainer.config import LoraConfig, StudentConfig, TrainConfig
    from ril_trainer.students.hf import HFStudent
    torch.set_num_threads(1)
    distributed.init_from_env("cpu")
    cfg = TrainConfig(algorithm="ril", device="cpu",
                      student=StudentConfig(family="hf", model=model_dir, sharding="fsdp", lora=LoraConfig(r=0)))
    st = HFStudent.load(cfg, "cpu")
    local = sum(p.to_local().numel() for p in st.hf.parameters())
    ref_local = sum(p.to_local().numel() for p in st.reference.parameters())
    total = st.num_parameters()["total"]
    full = st.weights()  # a collective: every rank gets the whole tensors
    with sharding.discarding(distributed.world()[0] != 0):  # as a checkpoint save runs on the ranks that do not write
        kept = sum(v.numel() for v in st.weights().values()) + sum(v.numel() for v in st.reference_weights().values())
    disc = st.make_discriminator(False)
    disc_local = sum(p.to_local().numel() for p in disc.parameters())
    disc_total = sum(v.numel() for v in sharding.full_state(disc).values())
    torch.save({"local": local, "ref_local": ref_local, "total": total, "full": sum(v.numel() for v in full.values()),
                "sharded": st.sharded, "disc_local": disc_local, "disc_total": disc_total,
                "disc_sharded": sharding.is_sharded(disc), "kept": kept}, os.path.join(out, f"{distributed.world()[0]}.pt"))


def test_each_rank_holds_half_of_the_weights(smolvlm, tmp_path):
    from ril_trainer import distributed
    distributed.launch(2, _shard_sizes, smolvlm, str(tmp_path))
    r0, r1 = (torch.load(str(tmp_path / f"{r}.pt")) for r in (0, 1))
    for r in (r0, r1):
        assert r["sharded"] and r["full"] == r["total"]
        # dim-0 chunks: a tensor with an odd first dim leaves one row more on rank 0
        assert 0.4 * r["total"] < r["local"] < 0.6 * r["total"], r
        assert r["ref_local"] == r["local"]  # the reference copy is sharded the same way
        assert r["disc_sharded"] and 0.4 * r["disc_total"] < r["disc_local"] < 0.6 * r["disc_total"], r
    assert r0["local"] + r1["local"] == r0["total"]
    # a checkpoint's whole copies in host memory: on the writing rank only
    assert r0["kept"] == 2 * r0["total"] and r1["kept"] == 0
    assert r0["disc_local"] + r1["disc_local"] == r0["disc_total"]


def _uneven_disc_probs(model_dir: str, out: str) -> None:
    """One rank: a sharded discriminator scores 5 responses on rank 0 and 1 on rank 1, 2 per batch."""
    from ril_trainer import distributed, sharding
    from ril_trainer.config import LoraConfig, StudentConfig, TrainConfig
    from ril_trainer.discriminator import disc_probs
    from ril_trainer.students.hf import HFStudent
    torch.set_num_threads(1)
    distributed.init_from_env("cpu")
    cfg = TrainConfig(algorithm="ril", device="cpu",
                      student=StudentConfig(family="hf", model=model_dir, sharding="fsdp", lora=LoraConfig(r=0)))
    disc = HFStudent.load(cfg, "cpu").make_discriminator(False)
    rank = distributed.world()[0]
    n = 5 if rank == 0 else 1
    p = disc_probs(disc, ["q"] * n, [[5, 6, 7]] * n, batch_size=2)  # rank 0: 3 batches, rank 1: 1 (+ 2 throwaway)
    torch.save({"p": p, "sharded_after": all(sharding.is_dtensor(q) for q in disc.parameters())},
               os.path.join(out, f"{rank}.pt"))


def test_a_sharded_discriminator_scores_different_counts_on_each_rank(smolvlm, tmp_path):
    """Forwards are collectives: the rank with fewer batches joins the other's with throwaway ones (no deadlock),
    the answers are the same for the same response on both ranks, and the weights are sharded again after."""
    from ril_trainer import distributed
    distributed.launch(2, _uneven_disc_probs, smolvlm, str(tmp_path))
    r0, r1 = (torch.load(str(tmp_path / f"{r}.pt")) for r in (0, 1))
    assert r0["p"].shape == (5,) and r1["p"].shape == (1,)
    assert torch.allclose(r0["p"], r1["p"].expand(5), atol=1e-6) and 0 < float(r1["p"][0]) < 1
    assert r0["sharded_after"] and r1["sharded_after"]


def test_unsupported_combinations_are_refused_clearly(smolvlm, tiny_data, tmp_path):
    cfg = _cfg(smolvlm, "ril", 4, "fsdp")
    cfg["student"]["disc_backbone"] = "lora"
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(cfg))
    res = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(path), "--data", tiny_data,
                          "--out", str(tmp_path / "o"), "--threads", "1"], capture_output=True, text=True, cwd=HERE,
                         timeout=300)
    assert res.returncode == 2 and "sharding fsdp with disc_backbone lora is not supported" in res.stderr
