"""SFT: resumed == uninterrupted, seeded runs repeat, schedule/loss/data order by hand."""
import math

import pytest
import torch

from ril_trainer import checkpoint as ckpt
from ril_trainer.config import TrainConfig
from ril_trainer.sft import Batches, learning_rate, sft_loss, train


def nano_cfg(**kw) -> TrainConfig:
    base = dict(model="nano", model_overrides={"dropout": 0.1}, batch_size=5, max_steps=6, warmup_steps=2,
                eval_every=0, checkpoint_every=100, log_every=2, val_loss_examples=4, val_accuracy_examples=2,
                max_response_tokens=24, device="cpu", num_threads=1)
    base.update(kw)
    return TrainConfig(**base)


def assert_same_state(a: dict, b: dict) -> None:
    assert a["step"] == b["step"] and a["data_position"] == b["data_position"]
    for k in a["model"]:
        assert torch.equal(a["model"][k], b["model"][k]), k
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for k in sa:
        for name in ("exp_avg", "exp_avg_sq"):
            assert torch.equal(sa[k][name], sb[k][name])
    assert torch.equal(a["rng"]["torch"], b["rng"]["torch"])


@pytest.mark.parametrize("target", ["answer", "teacher"])
def test_resumed_run_equals_uninterrupted_run(tiny_data, tmp_path, capsys, target):
    # dropout 0.1 makes the torch RNG matter; 6 steps of 5 over 16 (or 64) pairs cross an epoch boundary
    full = tmp_path / "full"
    train(nano_cfg(target=target), tiny_data, str(full))
    part = tmp_path / "part"
    train(nano_cfg(target=target, stop_after_step=3), tiny_data, str(part))
    assert ckpt.load(str(part / "checkpoint.pt"))["step"] == 3
    train(nano_cfg(target=target), tiny_data, str(part))  # resumes from part/checkpoint.pt
    assert_same_state(ckpt.load(str(full / "checkpoint.pt")), ckpt.load(str(part / "checkpoint.pt")))
    assert '"event": "resumed"' in capsys.readouterr().out


def test_seeded_runs_repeat_and_seeds_differ(tiny_data, tmp_path):
    train(nano_cfg(max_steps=3), tiny_data, str(tmp_path / "a"))
    train(nano_cfg(max_steps=3), tiny_data, str(tmp_path / "b"))
    train(nano_cfg(max_steps=3, seed=1), tiny_data, str(tmp_path / "c"))
    a, b, c = (ckpt.load(str(tmp_path / d / "checkpoint.pt"))["model"] for d in "abc")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_sft_lowers_the_validation_loss_on_the_training_set(tiny_data, tmp_path):
    """Overfit 16 train pairs: the final train-split loss must fall well below the initial ln(V)."""
    res = train(nano_cfg(max_steps=60, lr=3e-3, model_overrides={}, val_split="train", val_loss_examples=16,
                         val_accuracy_examples=16, batch_size=16), tiny_data, str(tmp_path / "o"))
    assert res["val/loss"] < 0.5 * math.log(261)


def test_batches_equal_a_loop_over_epoch_permutations():
    b = Batches(n=7, batch_size=3, seed=5)
    got = [b.next() for _ in range(5)]  # 15 items: two full epochs + 1
    import numpy as np
    flat = [int(i) for e in range(3) for i in np.random.default_rng([5, e]).permutation(7)]
    assert sum(got, []) == flat[:15]
    assert b.position() == {"epoch": 2, "index": 1}


def test_learning_rate_schedule_by_hand():
    cfg = TrainConfig(lr=1.0, warmup_steps=4, max_steps=14, min_lr_ratio=0.1)
    assert [learning_rate(s, cfg) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert learning_rate(9, cfg) == pytest.approx(0.1 + 0.9 * 0.5)  # halfway through the decay
    assert learning_rate(14, cfg) == pytest.approx(0.1)


def test_sft_loss_by_hand():
    lp = torch.tensor([[-1.0, -2.0, 0.0], [-3.0, 0.0, 0.0]])
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    assert sft_loss(lp, mask).item() == pytest.approx(2.0)


def test_checkpoint_write_is_atomic(tmp_path, nano):
    path = str(tmp_path / "c.pt")
    ckpt.save(path, nano, step=7, data_position={"epoch": 1, "index": 2})
    assert not (tmp_path / "c.pt.tmp").exists()
    m = ckpt.load_model(path)
    assert all(torch.equal(a, b) for a, b in zip(m.state_dict().values(), nano.state_dict().values()))
