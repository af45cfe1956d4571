"""Data parallelism (2 gloo ranks, spawned) equals one process on the whole batch: SFT and RL.

SFT: with every answer the same length, each rank's token-mean loss has the same weight, so DDP's gradient
average equals the single-process gradient: the weights after a few steps must match to float tolerance.
RL (dr_grpo, ril): each rank takes whole groups and its share of the global loss; the summed gradients, the
losses, the discriminator and the weights must match one process on the same global batches.
"""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
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


# ----------------------------------------------------------------------------------------------
# Data-parallel RL: the questions of a step are sharded (whole groups), the gradients summed
# ----------------------------------------------------------------------------------------------

TOL = 1e-6  # on losses and metrics: float summation order differs (local vs global batches, the all-reduce)
WEIGHT_TOL = 5e-5  # on weights: AdamW divides by sqrt(v), so an element whose gradient is ~0 turns 1e-9 noise into
# steps of up to lr; 5e-5 is still 1/100 of the weights' movement, asserted below


@pytest.fixture(scope="module")
def warm_start(tiny_data, tmp_path_factory) -> str:
    """40 SFT steps (one process) so that rollouts are sometimes right: dr_grpo's groups get unequal rewards.
    From scratch every reward is 0, every advantage 0, and the gradient is float noise (see WEIGHT_TOL)."""
    root = tmp_path_factory.mktemp("warm")
    config = root / "sft.json"
    config.write_text(json.dumps({"algorithm": "sft", "model": "nano", "batch_size": 8, "max_steps": 40, "lr": 0.003,
                                  "warmup_steps": 0, "eval_every": 0, "val_loss_examples": 0,
                                  "val_accuracy_examples": 0, "checkpoint_every": 40, "log_every": 40}))
    _train(tiny_data, str(root / "sft"), str(config))
    return str(root / "sft" / "checkpoint.pt")


def _rl_run(tmp_path, data: str, init: str, algorithm: str, nproc: int, out: str = "", **over) -> tuple:
    config = tmp_path / f"{algorithm}{'-'.join(map(str, over.values()))}.json"
    # 4 questions x 2 minibatches on 2 ranks: every minibatch is split across the ranks (questions 0, 2 | 1, 3);
    # mu 2: the second pass has pi != pi_old, so the clip and the ratio act
    config.write_text(json.dumps({"algorithm": algorithm, "model": "nano", "init_checkpoint": init,
                                  "questions_per_step": 4, "group_size": 4, "policy_minibatches": 2, "mu": 2,
                                  "max_response_tokens": 16, "max_steps": 3, "sft_steps": 0, "lr": 0.001,
                                  "warmup_steps": 0, "eval_every": 0, "val_accuracy_examples": 0,
                                  "checkpoint_every": 100, "disc_pretrain_questions": 4, "disc_pretrain_samples": 2,
                                  "disc_batch_size": 8, "disc_pretrain_max_epochs": 2,
                                  # one process seeds its rollouts per question as the ranks must (rollout_seeding)
                                  "rollout_seeding": "per_question", **over}))
    where = tmp_path / (out or f"{algorithm}-{nproc}")
    ev = _train(data, str(where), str(config), *(["--nproc", str(nproc)] if nproc > 1 else []))
    return ev, ckpt.load(str(where / "checkpoint.pt"))


def _metric(ev: list, name: str) -> list:
    return [e["value"] for e in ev if e.get("event") == "metric" and e["name"] == name]


def _worst(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


@pytest.mark.parametrize("algorithm", ["dr_grpo", "ril"])
def test_rl_on_two_gloo_ranks_equals_one_process(tiny_data, warm_start, tmp_path, algorithm):
    """Same global batches, same rollouts (seeded per question): same losses, gradients and weights.

    The gradient norm is the check on the normalisers: a per-rank one (this rank's responses x L) would make each
    share twice as large and the summed gradient 2x the single-process one; AdamW alone would hide that from the
    weights (it is nearly scale-invariant), so the norm is compared, not only the weights.
    """
    one_ev, one = _rl_run(tmp_path, tiny_data, warm_start, algorithm, 1)
    two_ev, two = _rl_run(tmp_path, tiny_data, warm_start, algorithm, 2)
    for name in ("policy/loss", "policy/kl", "policy/clip_frac", "reward/total", "gen/len_mean"):
        a, b = _metric(one_ev, name), _metric(two_ev, name)
        assert len(b) == 3, f"rank 0 alone reports {name}, once per step"
        assert np.allclose(a, b, rtol=0, atol=TOL), (name, a, b)
    assert max(_metric(one_ev, "policy/clip_frac")) > 0, "the second pass should clip somewhere"
    gn1, gn2 = np.array(_metric(one_ev, "policy/grad_norm")), np.array(_metric(two_ev, "policy/grad_norm"))
    assert np.allclose(gn1, gn2, rtol=1e-5) and (gn1 > 1e-3).all(), (gn1, gn2)
    assert _worst(one["model"], two["model"]) < WEIGHT_TOL
    moved = _worst(one["model"], one["extra"]["reference"])  # the reference = the weights at the RL start
    assert moved > 100 * WEIGHT_TOL, f"the weights barely moved ({moved}): the comparison would prove nothing"
    if algorithm == "ril":
        for name in ("disc/loss", "disc/acc", "reward/sim_student"):
            assert np.allclose(_metric(one_ev, name), _metric(two_ev, name), rtol=0, atol=TOL), name
        assert _worst(one["extra"]["disc"], two["extra"]["disc"]) < WEIGHT_TOL
    assert sum(1 for e in two_ev if e.get("event") == "checkpoint") == 2  # the RL start and the end, rank 0 only
    if algorithm == "ril":  # stopped after step 2 and resumed on 2 ranks: the uninterrupted 2-rank run, bit for bit
        _, part = _rl_run(tmp_path, tiny_data, warm_start, algorithm, 2, out="resumed", stop_after_step=2)
        assert part["step"] == 2
        _, resumed = _rl_run(tmp_path, tiny_data, warm_start, algorithm, 2, out="resumed")
        assert resumed["step"] == 3 and _worst(resumed["model"], two["model"]) == 0.0
        assert _worst(resumed["extra"]["disc"], two["extra"]["disc"]) == 0.0


def test_rl_needs_a_question_per_rank(tmp_path):
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"algorithm": "dr_grpo", "model": "nano", "questions_per_step": 1}))
    r = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(config), "--data", str(tmp_path),
                        "--out", str(tmp_path / "o"), "--nproc", "2"], cwd=HERE, capture_output=True, text=True, timeout=240)
    assert r.returncode == 2 and "questions_per_step (1) must be at least the number of ranks (2)" in r.stderr


def _collectives(out: str) -> None:
    """One rank of test_gradient_sum_and_broadcast: rank-dependent gradients and weights."""
    from ril_trainer import distributed
    torch.set_num_threads(1)
    distributed.init_from_env("cpu")
    rank = distributed.world()[0]
    a, b, c = (torch.nn.Parameter(torch.zeros(3)) for _ in range(3))
    a.grad = torch.full((3,), float(rank + 1))  # ranks 0, 1: 1 + 2 = 3
    if rank == 1:
        b.grad = torch.ones(3)  # only rank 1 has one: rank 0 gets zeros, the sum is 1
    distributed.all_reduce_grads([a, b, c])  # nobody has c's: it stays None (AdamW skips it, as in one process)
    lin = torch.nn.Linear(2, 2)
    torch.nn.init.constant_(lin.weight, float(rank))
    opt = torch.optim.AdamW(lin.parameters())
    lin(torch.ones(1, 2)).sum().backward()
    opt.step()
    distributed.broadcast_state(lin, opt)
    torch.save({"a": a.grad, "b": b.grad, "c": c.grad, "w": lin.weight.detach(),
                "m": opt.state[lin.weight]["exp_avg"]}, os.path.join(out, f"{rank}.pt"))


def test_gradient_sum_and_broadcast(tmp_path):
    from ril_trainer import distributed
    distributed.launch(2, _collectives, str(tmp_path))
    r0, r1 = (torch.load(str(tmp_path / f"{r}.pt")) for r in (0, 1))
    for r in (r0, r1):
        assert r["a"].tolist() == [3.0] * 3 and r["b"].tolist() == [1.0] * 3 and r["c"] is None
    assert torch.equal(r0["w"], r1["w"]) and torch.equal(r0["m"], r1["m"])  # rank 0's weights and moments


def _children(pid: int) -> list:
    """Live processes whose parent is `pid` (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            kids.append(int(entry))
    return kids


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signals are Linux's")
def test_a_terminated_launcher_takes_its_ranks_with_it(tmp_path):
    # the worker stops a cancelled --nproc job with SIGTERM to the launcher; before, the ranks were orphaned and
    # trained on (holding their GPUs, writing checkpoints into a run another attempt may own)
    import signal
    import time
    data = _dataset(str(tmp_path / "data"))
    config = tmp_path / "cfg.json"
    config.write_text(json.dumps({"algorithm": "sft", "model": "nano", "batch_size": 8, "max_steps": 100000, "lr": 0.003,
                                  "warmup_steps": 0, "eval_every": 0, "val_loss_examples": 0, "val_accuracy_examples": 0,
                                  "checkpoint_every": 0, "log_every": 1}))
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    launcher = subprocess.Popen([sys.executable, "-m", "ril_trainer", "train", "--config", str(config), "--data", data,
                                 "--out", str(tmp_path / "o"), "--threads", "1", "--nproc", "2"], cwd=HERE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, "TMPDIR": str(tmpdir)})
    ranks: list = []
    try:
        for line in launcher.stdout:  # training has started on both ranks once rank 0 logs a step
            if '"train/loss"' in line:
                break
        ranks = [p for p in _children(launcher.pid) if "spawn" in open(f"/proc/{p}/cmdline").read()]
        assert len(ranks) == 2, ranks
        launcher.send_signal(signal.SIGTERM)
        assert launcher.wait(60) == 128 + signal.SIGTERM, "the launcher ran its cleanup and exited"
        deadline = time.monotonic() + 30
        while any(_alive(p) for p in ranks) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in ranks if _alive(p)], "no rank outlives its launcher"
        assert not [f for f in os.listdir(tmpdir) if f.startswith("ril-dist-")], "the rendezvous folder is removed"
    finally:
        for p in [launcher.pid, *ranks]:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
