"""Paired bootstrap over questions and seeds, for the replication's tables (pure numpy).

Input: per method, a correctness matrix ``M[s, q]`` in {0, 1} (seeds x questions: the rule judge's
verdict for the final student of seed s on test question q). Every method is scored on the SAME
questions, in the same column order; methods with the same number of rows share their seeds (row s =
seed s for all of them).

One bootstrap resample b draws, jointly and independently:
- Q question indices with replacement from the Q columns (the same draw for every method), and
- S seed indices with replacement from the S rows (the same draw for every method with S rows; a
  method with a different row count, e.g. the single SFT student with S = 1, gets its own draw for
  its row count, made from the same generator seed so it is reproducible).
The resampled accuracy is the mean of the S x Q resampled cells. It is computed exactly with count
weights: mean_b = (w_s . M . w_q) / (S Q), where w_s[s] (w_q[q]) counts how often row s (column q) was
drawn, which equals indexing M[rows][:, cols] and averaging.

The 95% interval is the percentile interval: the 2.5th and 97.5th percentiles of the B resampled
values (``np.percentile``, linear interpolation). For a pair (A, B) the difference A - B is taken
resample by resample on the SAME draws (paired), so the question difficulty and seed effects the
two methods share cancel. The point estimate is the statistic on the observed matrices, not the
mean of the resamples.

A subset (e.g. the "headroom" questions the starting SFT student gets wrong) restricts the columns
first; the questions are then resampled within the subset.
"""
from __future__ import annotations

from typing import Dict, Iterable, Mapping, Optional, Sequence, Tuple

import numpy as np

DEFAULT_B = 10_000
LEVEL = 0.95


def _as_matrix(m) -> np.ndarray:
    a = np.asarray(m, dtype=np.float64)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError(f"a correctness matrix is seeds x questions, got shape {a.shape}")
    return a


def count_weights(n: int, B: int, rng: np.random.Generator) -> np.ndarray:
    """[B, n] counts: row b says how often each of the n items was drawn in resample b (n draws
    with replacement, uniform)."""
    idx = rng.integers(0, n, size=(B, n))
    w = np.zeros((B, n), dtype=np.float64)
    np.add.at(w, (np.repeat(np.arange(B), n), idx.ravel()), 1.0)
    return w


def resampled_means(m: np.ndarray, w_seeds: np.ndarray, w_questions: np.ndarray) -> np.ndarray:
    """[B] resampled accuracies of matrix m [S, Q] under seed weights [B, S] and question weights [B, Q]."""
    S, Q = m.shape
    return np.einsum("bs,sq,bq->b", w_seeds, m, w_questions) / (S * Q)


def interval(values: np.ndarray, level: float = LEVEL) -> Tuple[float, float]:
    """The percentile interval of the resampled values."""
    lo, hi = np.percentile(values, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


def paired_bootstrap(matrices: Mapping[str, Sequence], pairs: Iterable[Tuple[str, str]] = (),
                     B: int = DEFAULT_B, seed: int = 0, subset: Optional[Sequence[bool]] = None,
                     level: float = LEVEL) -> Dict[str, Dict]:
    """Mean and percentile CI per method, and paired differences A - B with their CIs.

    matrices: name -> [S, Q] 0/1 verdicts (a 1-d array is one seed). Every matrix has the same Q.
    pairs: (A, B) names; A and B must have the same number of seeds (the rows are paired).
    subset: optional boolean mask over the Q questions: only those columns are used (and resampled).
    Returns {"methods": {name: {"mean", "lo", "hi", "n_questions", "n_seeds"}},
             "pairs": {"A - B": {"diff", "lo", "hi"}}, "B": B, "seed": seed, "level": level}.
    The same (B, seed) gives the same numbers.
    """
    mats = {k: _as_matrix(v) for k, v in matrices.items()}
    Qs = {m.shape[1] for m in mats.values()}
    if len(Qs) != 1:
        raise ValueError(f"every method must be scored on the same questions, got column counts {sorted(Qs)}")
    if subset is not None:
        mask = np.asarray(subset, dtype=bool)
        if mask.shape != (Qs.pop(),):
            raise ValueError("subset must be one boolean per question")
        mats = {k: m[:, mask] for k, m in mats.items()}
    Q = next(iter(mats.values())).shape[1]
    out: Dict[str, Dict] = {"methods": {}, "pairs": {}, "B": B, "seed": seed, "level": level}
    if Q == 0:
        nan = float("nan")
        out["methods"] = {k: {"mean": nan, "lo": nan, "hi": nan, "n_questions": 0, "n_seeds": m.shape[0]}
                          for k, m in mats.items()}
        out["pairs"] = {f"{a} - {b}": {"diff": nan, "lo": nan, "hi": nan} for a, b in pairs}
        return out
    w_q = count_weights(Q, B, np.random.default_rng([seed, 0]))
    w_s: Dict[int, np.ndarray] = {}
    for S in sorted({m.shape[0] for m in mats.values()}):
        w_s[S] = count_weights(S, B, np.random.default_rng([seed, 1, S]))
    samples = {k: resampled_means(m, w_s[m.shape[0]], w_q) for k, m in mats.items()}
    for k, m in mats.items():
        lo, hi = interval(samples[k], level)
        out["methods"][k] = {"mean": float(m.mean()), "lo": lo, "hi": hi, "n_questions": Q, "n_seeds": m.shape[0]}
    for a, b in pairs:
        if mats[a].shape != mats[b].shape:
            raise ValueError(f"paired difference needs the same seeds and questions: {a} {mats[a].shape} vs {b} {mats[b].shape}")
        lo, hi = interval(samples[a] - samples[b], level)
        out["pairs"][f"{a} - {b}"] = {"diff": float(mats[a].mean() - mats[b].mean()), "lo": lo, "hi": hi}
    return out


def headroom_mask(reference: Sequence) -> np.ndarray:
    """Questions the reference (the starting SFT student; [Q] or [1, Q] verdicts) gets wrong."""
    r = _as_matrix(reference)
    return r.mean(axis=0) < 0.5


def fmt_cell(stat: Mapping[str, float], scale: float = 100.0, digits: int = 1) -> str:
    """'mean [lo, hi]' in percent (scale 100) for a table cell; 'n/a' for an empty subset."""
    key = "mean" if "mean" in stat else "diff"
    if not np.isfinite(stat[key]):
        return "n/a"
    f = lambda v: f"{scale * v:+.{digits}f}" if key == "diff" else f"{scale * v:.{digits}f}"  # noqa: E731
    return f"{f(stat[key])} [{f(stat['lo'])}, {f(stat['hi'])}]"
