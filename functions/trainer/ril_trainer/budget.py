"""The response budget: how many tokens a response (+ <eos>) may have, derived from the training targets.

``max_response_tokens = 0`` ("auto"): the smallest budget that covers at least ``budget_coverage`` of
the run's training targets, tokenized with the student's tokenizer (text + <eos>):
- SFT ``target=answer``: the train split's answers;
- SFT ``target=teacher``: the selected teachers' cached responses of the train split;
- RL (grpo | dr_grpo | ril): the selected teachers' cached responses of the train split + its answers.
A positive ``max_response_tokens`` is used as given. Either way nothing is cut silently to fit
``max_seq_len``: n_image_tokens + the longest prompt + the budget > max_seq_len is an error.

The resolved budget is the rollout / evaluation max_new_tokens, the truncation length of teacher
texts and SFT targets, and the Dr.GRPO constant L; runs store it in their checkpoint's config.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import List, Sequence

from . import tokenizer as tok
from .config import ModelConfig, TrainConfig
from .data import VQADataset


def response_budget(lengths: Sequence[int], coverage: float) -> int:
    """The smallest b with |{l in lengths : l <= b}| >= coverage * |lengths| (lengths in tokens, <eos> included)."""
    if not lengths:
        raise ValueError("no training targets to size the response budget from")
    if not 0.0 < coverage <= 1.0:
        raise ValueError(f"budget_coverage must be in (0, 1], got {coverage}")
    ordered = sorted(int(n) for n in lengths)
    k = max(1, math.ceil(coverage * len(ordered) - 1e-9))  # targets that must fit (1e-9: 0.99 * 100 is 99.00000000000001)
    return ordered[k - 1]


def truncated_frac(lengths: Sequence[int], budget: int) -> float:
    """Share of the targets longer than the budget (they lose their tail, <eos> first)."""
    return sum(1 for n in lengths if n > budget) / max(1, len(lengths))


def target_lengths(ds: VQADataset, cfg: TrainConfig, tk: tok.Tokenizer) -> List[int]:
    """Token lengths (+ <eos>) of the training targets the budget is sized on (see the module docstring)."""
    if cfg.algorithm == "sft":
        texts = [text for _, text in ds.sft_pairs(cfg.train_split, cfg.target, cfg.teachers)]
    else:
        idx = ds.split_indices(cfg.train_split)
        cache = ds.teacher_responses(cfg.teachers)
        texts = [ds.examples[i].answer for i in idx] + [t for i in idx for _, t in cache.get(ds.examples[i].id, [])]
    return [len(tk.encode_response(t)) for t in texts]


@dataclass(frozen=True)
class Budget:
    tokens: int
    """The resolved max_response_tokens."""
    truncated_frac: float
    """Share of the training targets longer than ``tokens``."""
    auto: bool
    """Derived from the data (max_response_tokens = 0) rather than given."""
    targets: int
    """Number of training targets it was measured on."""

    def as_dict(self) -> dict:
        return {"tokens": self.tokens, "truncated_frac": self.truncated_frac, "auto": self.auto, "targets": self.targets}


def resolve(cfg: TrainConfig, ds: VQADataset, mcfg: ModelConfig, tk: tok.Tokenizer) -> Budget:
    """The run's response budget; raises ValueError when image + longest prompt + budget exceed max_seq_len."""
    lengths = target_lengths(ds, cfg, tk)
    auto = cfg.max_response_tokens <= 0
    tokens = response_budget(lengths, cfg.budget_coverage) if auto else int(cfg.max_response_tokens)
    longest = max((len(tk.encode_prompt(ex.question)) for ex in ds.examples), default=0)
    need = mcfg.n_image_tokens + longest + tokens
    if need > mcfg.max_seq_len:
        how = (f"the smallest budget covering {cfg.budget_coverage:.0%} of the {len(lengths)} training targets"
               if auto else "max_response_tokens")
        raise ValueError(
            f"responses do not fit: n_image_tokens {mcfg.n_image_tokens} + longest prompt {longest} + response budget "
            f"{tokens} ({how}) = {need} > max_seq_len {mcfg.max_seq_len}. Set model_overrides.max_seq_len >= {need}"
            + (" (or lower budget_coverage)" if auto else " (or lower max_response_tokens)"))
    return Budget(tokens, truncated_frac(lengths, tokens), auto, len(lengths))
