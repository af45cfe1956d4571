"""#1: checkpoints load with torch.load(weights_only=True), so a planted file cannot run code, and the safe
layout (tensors + JSON) still restores every state bit for bit."""
import os
import pickle
import random

import numpy as np
import pytest
import torch

from ril_trainer import checkpoint as ckpt


class Planted:
    """What an attacker pickles: unpickling it would call os.system (here: create a marker file)."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_1_a_checkpoint_with_a_malicious_reduce_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    planted = tmp_path / "planted.pt"
    # the shape of a real checkpoint, with the payload hidden where the old loader unpickled everything
    torch.save({"format": ckpt.FORMAT, "structure": "{}", "tensors": [], "x": Planted(str(marker))}, str(planted))
    with pytest.raises(ckpt.UnsafeCheckpointError):
        ckpt.load(str(planted))
    assert not marker.exists(), "the planted __reduce__ ran"
    # the control: the same file loaded the way the trainer used to (weights_only=False) does run it
    torch.load(str(planted), weights_only=False)
    assert marker.exists()


def test_1_a_raw_pickle_and_a_legacy_pickled_checkpoint_are_refused(tmp_path):
    marker = tmp_path / "pwned"
    raw = tmp_path / "raw.pt"
    with open(raw, "wb") as f:
        pickle.dump({"format": ckpt.FORMAT, "x": Planted(str(marker))}, f, protocol=2)
    with pytest.raises(ckpt.UnsafeCheckpointError):
        ckpt.load(str(raw))
    assert not marker.exists()
    legacy = tmp_path / "legacy.pt"  # v1: numpy RNG state pickled as an ndarray, a global weights_only refuses
    torch.save({"format": "ril-trainer-checkpoint-v1", "rng": {"numpy": np.random.get_state()}}, str(legacy))
    with pytest.raises(ckpt.UnsafeCheckpointError):
        ckpt.load(str(legacy))


def test_1_the_safe_layout_restores_optimizer_and_rng_states_exactly(tmp_path, nano):
    opt = torch.optim.AdamW(nano.parameters(), lr=1e-3, betas=(0.9, 0.95), weight_decay=0.01)
    loss = sum(p.float().pow(2).sum() for p in nano.parameters())
    loss.backward()
    opt.step()
    random.seed(3), np.random.seed(4), torch.manual_seed(5)
    path = str(tmp_path / "c.pt")
    ckpt.save(path, nano, opt, step=9, data_position={"epoch": 2, "index": 5}, train_config={"lr": 0.1 + 0.2, "nan": float("nan")},
              extra={"disc_pretrain": {"loss": 1 / 3}})
    # readable by the strict loader directly, not only through ckpt.load
    assert isinstance(torch.load(path, weights_only=True)["structure"], str)
    expected = (random.random(), np.random.random(), torch.rand(3))
    state = ckpt.load(path)
    ckpt.set_rng_state(state["rng"])
    assert random.random() == expected[0] and np.random.random() == expected[1] and torch.equal(torch.rand(3), expected[2])
    assert state["step"] == 9 and state["data_position"] == {"epoch": 2, "index": 5}
    assert state["train_config"]["lr"] == 0.1 + 0.2 and np.isnan(state["train_config"]["nan"])
    assert state["extra"]["disc_pretrain"]["loss"] == 1 / 3
    saved = opt.state_dict()
    restored = state["optimizer"]
    assert restored["param_groups"] == saved["param_groups"]
    assert restored["state"].keys() == saved["state"].keys()
    for k, v in saved["state"].items():
        for name, value in v.items():
            assert torch.equal(torch.as_tensor(restored["state"][k][name]), torch.as_tensor(value)), name
    opt2 = torch.optim.AdamW(nano.parameters(), lr=1e-3)
    opt2.load_state_dict(restored)  # the optimizer accepts it as saved
    assert opt2.state_dict()["param_groups"][0]["betas"] == (0.9, 0.95)
