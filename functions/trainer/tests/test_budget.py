"""The response budget: derived from the training targets' lengths, never silently cut to fit max_seq_len."""
import pytest

from ril_trainer import tokenizer as tok
from ril_trainer import budget
from ril_trainer.config import TrainConfig, model_config
from ril_trainer.data import VQADataset
from ril_trainer.evaluate import checkpoint_budget


def test_response_budget_is_the_smallest_covering_length_by_hand():
    lengths = [3, 5, 5, 7, 10, 2, 4, 6, 8, 9]  # sorted: 2 3 4 5 5 6 7 8 9 10
    assert budget.response_budget(lengths, 1.0) == 10
    assert budget.response_budget(lengths, 0.9) == 9  # 9 of 10 fit
    assert budget.response_budget(lengths, 0.5) == 5  # 5 of 10 fit (both 5s)
    assert budget.response_budget(lengths, 0.01) == 2
    assert budget.truncated_frac(lengths, 9) == 0.1 and budget.truncated_frac(lengths, 5) == 0.5
    # 0.99 * 100 is 99.00000000000001 in floating point: 99 targets must fit, not 100
    assert budget.response_budget(list(range(1, 101)), 0.99) == 99
    with pytest.raises(ValueError):
        budget.response_budget([], 0.99)


def cfg(**kw) -> TrainConfig:
    return TrainConfig(**{"model": "nano", "max_response_tokens": 0, **kw})


def lengths_and_budget(data, **kw):
    c = cfg(**kw)
    mcfg = model_config("nano", **c.model_overrides)
    ds = VQADataset(data, mcfg, splits=[c.train_split, c.val_split])
    return sorted(budget.target_lengths(ds, c, tok.BYTE)), budget.resolve(c, ds, mcfg, tok.BYTE)  # byte: lengths by hand


def test_auto_budget_from_the_fixture_targets(tiny_data):
    # train split: 16 questions; answers bar/square/yes/no (+ <eos>): 4, 7, 4, 3 tokens, 4 of each
    lengths, b = lengths_and_budget(tiny_data, algorithm="sft", target="answer")
    assert lengths == [3] * 4 + [4] * 8 + [7] * 4 and b.tokens == 7 and b.truncated_frac == 0.0 and b.auto
    _, b = lengths_and_budget(tiny_data, algorithm="sft", target="answer", budget_coverage=0.75)
    assert (b.tokens, b.truncated_frac) == (4, 0.25)  # 12 of 16 fit in 4 tokens
    # RL: the 16 answers + 64 teacher responses: "The answer is X." (19, 22, 19, 18) and "I see: X!" (12, 15, 12, 11)
    lengths, b = lengths_and_budget(tiny_data, algorithm="ril")
    assert len(lengths) == 80 and lengths[-8:] == [22] * 8 and lengths.count(19) == 16
    assert (b.tokens, b.truncated_frac, b.targets) == (22, 0.0, 80)
    _, b = lengths_and_budget(tiny_data, algorithm="dr_grpo", budget_coverage=0.9)
    assert (b.tokens, b.truncated_frac) == (19, 0.1)  # 72 of 80 fit; the 8 "The answer is square." do not
    _, b = lengths_and_budget(tiny_data, algorithm="ril", teachers=["beta"])
    assert b.tokens == 15  # only the selected teacher's responses count
    _, b = lengths_and_budget(tiny_data, algorithm="ril", max_response_tokens=12)
    assert (b.tokens, b.truncated_frac, b.auto) == (12, 40 / 80, False)  # given: 40 of 80 (15, 18, 19, 22 tokens) longer than 12


def test_a_budget_that_does_not_fit_is_an_error_not_a_silent_cut(tiny_data):
    # nano: 16 image tokens; the longest prompt is "<bos>What shape is shown?<sep>" = 22 tokens
    with pytest.raises(ValueError, match=r"16 \+ longest prompt 22 \+ response budget 22 .* = 60 > max_seq_len 50.*"
                                         r"model_overrides.max_seq_len >= 60"):
        lengths_and_budget(tiny_data, algorithm="ril", model_overrides={"max_seq_len": 50})
    _, b = lengths_and_budget(tiny_data, algorithm="ril", model_overrides={"max_seq_len": 60})
    assert b.tokens == 22  # exactly fits
    with pytest.raises(ValueError, match=r"max_seq_len >= 193"):  # 16 + 22 + 155 > 192: was silently capped to 154
        lengths_and_budget(tiny_data, algorithm="sft", max_response_tokens=155)


def test_eval_of_a_checkpoint_uses_its_stored_budget():
    assert checkpoint_budget({"max_response_tokens": 22}) == 22
    assert checkpoint_budget({"max_response_tokens": 0}) == 160 and checkpoint_budget({}) == 160
