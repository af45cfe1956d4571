"""ril_trainer.stats: the paired bootstrap over questions and seeds, on hand-computable cases."""
import itertools

import numpy as np
import pytest

from ril_trainer import stats


def test_identical_methods_have_a_zero_difference_exactly():
    rng = np.random.default_rng(3)
    m = (rng.random((3, 40)) < 0.6).astype(int)
    r = stats.paired_bootstrap({"A": m, "B": m.copy()}, pairs=[("A", "B")], B=500, seed=1)
    d = r["pairs"]["A - B"]
    assert (d["diff"], d["lo"], d["hi"]) == (0.0, 0.0, 0.0)
    assert r["methods"]["A"] == r["methods"]["B"]


def test_always_right_and_always_wrong():
    r = stats.paired_bootstrap({"right": np.ones((5, 30)), "wrong": np.zeros((5, 30))},
                               pairs=[("right", "wrong")], B=300)
    assert (r["methods"]["right"]["lo"], r["methods"]["right"]["hi"]) == (1.0, 1.0)
    assert (r["methods"]["wrong"]["lo"], r["methods"]["wrong"]["hi"]) == (0.0, 0.0)
    assert r["pairs"]["right - wrong"] == {"diff": 1.0, "lo": 1.0, "hi": 1.0}


def test_two_questions_one_seed_matches_the_enumerated_distribution():
    # verdicts [1, 0]: the 4 equally likely question draws give means 1, 0.5, 0.5, 0 -> P = 1/4, 1/2, 1/4
    m = np.array([[1, 0]])
    enum = sorted(np.mean([m[0, i], m[0, j]]) for i, j in itertools.product(range(2), repeat=2))
    assert enum == [0.0, 0.5, 0.5, 1.0]
    B = 40_000
    w_q = stats.count_weights(2, B, np.random.default_rng(0))
    w_s = stats.count_weights(1, B, np.random.default_rng(1))
    means = stats.resampled_means(m.astype(float), w_s, w_q)
    for value, p in ((0.0, 0.25), (0.5, 0.5), (1.0, 0.25)):
        assert abs(np.mean(means == value) - p) < 0.01
    r = stats.paired_bootstrap({"A": m}, B=B)
    assert r["methods"]["A"]["mean"] == 0.5
    assert (r["methods"]["A"]["lo"], r["methods"]["A"]["hi"]) == (0.0, 1.0)  # 2.5% and 97.5% fall in the end atoms


def test_count_weights_equal_indexing():
    rng = np.random.default_rng(5)
    m = rng.random((4, 7))
    B = 50
    g = np.random.default_rng(9)
    si, qi = g.integers(0, 4, (B, 4)), g.integers(0, 7, (B, 7))
    ws, wq = np.zeros((B, 4)), np.zeros((B, 7))
    for b in range(B):
        np.add.at(ws[b], si[b], 1)
        np.add.at(wq[b], qi[b], 1)
    direct = np.array([m[si[b]][:, qi[b]].mean() for b in range(B)])
    assert np.allclose(stats.resampled_means(m, ws, wq), direct)


def test_seeds_are_resampled_too():
    # seed 0 always right, seed 1 always wrong: questions alone carry no variance, seeds do
    m = np.array([[1] * 20, [0] * 20])
    r = stats.paired_bootstrap({"A": m}, B=4000, seed=2)["methods"]["A"]
    assert r["mean"] == 0.5 and r["lo"] == 0.0 and r["hi"] == 1.0


def test_pairing_cancels_shared_question_difficulty():
    # B = A except on 2 of 100 questions, where A is right and B wrong: the paired difference stays in [0, 4%]
    rng = np.random.default_rng(0)
    a = (rng.random((3, 100)) < 0.5).astype(int)
    a[:, :2] = 1
    b = a.copy()
    b[:, :2] = 0
    r = stats.paired_bootstrap({"A": a, "B": b}, pairs=[("A", "B")], B=2000)
    d = r["pairs"]["A - B"]
    assert d["diff"] == pytest.approx(0.02)
    assert 0.0 <= d["lo"] <= d["diff"] <= d["hi"] <= 0.06
    assert r["methods"]["A"]["hi"] - r["methods"]["A"]["lo"] > 0.1  # unpaired, each method alone is far wider


def test_deterministic_under_a_seed_and_different_across_seeds():
    rng = np.random.default_rng(1)
    mats = {"A": (rng.random((3, 50)) < 0.5), "B": (rng.random((3, 50)) < 0.5)}
    one = stats.paired_bootstrap(mats, pairs=[("A", "B")], B=300, seed=7)
    assert one == stats.paired_bootstrap(mats, pairs=[("A", "B")], B=300, seed=7)
    assert one != stats.paired_bootstrap(mats, pairs=[("A", "B")], B=300, seed=8)


def test_headroom_subset_and_mixed_seed_counts():
    sft = np.array([1, 1, 0, 0, 1])
    mask = stats.headroom_mask(sft)
    assert mask.tolist() == [False, False, True, True, False]
    method = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 1]])
    r = stats.paired_bootstrap({"SFT": sft, "M": method}, subset=mask, B=200)
    assert r["methods"]["SFT"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0, "n_questions": 2, "n_seeds": 1}
    assert (r["methods"]["M"]["mean"], r["methods"]["M"]["lo"], r["methods"]["M"]["hi"]) == (1.0, 1.0, 1.0)
    empty = stats.paired_bootstrap({"M": method}, subset=[False] * 5, B=10)
    assert stats.fmt_cell(empty["methods"]["M"]) == "n/a"


def test_errors_and_formatting():
    with pytest.raises(ValueError):
        stats.paired_bootstrap({"A": np.ones((1, 3)), "B": np.ones((1, 4))})
    with pytest.raises(ValueError):
        stats.paired_bootstrap({"A": np.ones((2, 3)), "B": np.ones((1, 3))}, pairs=[("A", "B")])
    assert stats.fmt_cell({"mean": 0.5, "lo": 0.25, "hi": 0.75}) == "50.0 [25.0, 75.0]"
    assert stats.fmt_cell({"diff": 0.02, "lo": -0.01, "hi": 0.05}) == "+2.0 [-1.0, +5.0]"
