"""Equivalences: cached vs uncached, batched vs one-by-one, generation vs teacher-forced scoring."""
import math

import pytest
import torch
import torch.nn.functional as F

from ril_trainer import tokenizer as tok
from ril_trainer.config import SamplingConfig
from ril_trainer.sampling import (apply_repetition_penalty, filter_top_k_top_p, generate, response_logprobs,
                                  score_responses)

PROMPTS = [tok.BYTE.encode_prompt("What shape is shown?"), tok.BYTE.encode_prompt("Bar?"), tok.BYTE.encode_prompt("")]


def pixels(n=3, seed=0):
    return torch.randn(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_incremental_logits_equal_full_forward(nano):
    px = pixels(1)
    ids = torch.tensor([PROMPTS[0] + [65, 66, 67, 68]])
    full, _ = nano(px, ids)  # [1,N+T,V]
    n_prefix = nano.cfg.n_image_tokens + len(PROMPTS[0])
    logits, past = nano(px, ids[:, :len(PROMPTS[0])])
    steps = [logits[:, -1]]
    for t in range(4):
        pos = torch.tensor([[n_prefix + t]])
        logits, past = nano(None, ids[:, len(PROMPTS[0]) + t:len(PROMPTS[0]) + t + 1], None, pos, past)
        steps.append(logits[:, -1])
    cached = torch.stack(steps, 1)  # [1,5,V]
    assert torch.allclose(cached, full[:, n_prefix - 1:], atol=1e-5)


def test_cached_and_uncached_greedy_tokens_are_equal(nano):
    px = pixels()
    a = generate(nano, px, PROMPTS, SamplingConfig(greedy=True, max_new_tokens=20, use_cache=True))
    b = generate(nano, px, PROMPTS, SamplingConfig(greedy=True, max_new_tokens=20, use_cache=False))
    assert a.tokens == b.tokens
    assert all(len(t) == 20 for t in a.tokens)  # untrained nano never says <eos>: full length compared
    for x, y in zip(a.logprobs, b.logprobs):
        assert max(abs(p - q) for p, q in zip(x, y)) < 1e-5


def test_cached_and_uncached_sampling_agree_with_the_same_seed(nano):
    px = pixels()
    cfg = dict(max_new_tokens=16, temperature=1.3, top_p=0.9, top_k=40, repetition_penalty=1.2)
    a = generate(nano, px, PROMPTS, SamplingConfig(**cfg), torch.Generator().manual_seed(3))
    b = generate(nano, px, PROMPTS, SamplingConfig(use_cache=False, **cfg), torch.Generator().manual_seed(3))
    assert a.tokens == b.tokens


def test_batched_generation_equals_one_by_one(nano):
    px = pixels()
    sc = SamplingConfig(greedy=True, max_new_tokens=12)
    batched = generate(nano, px, PROMPTS, sc)
    for b in range(3):
        single = generate(nano, px[b:b + 1], [PROMPTS[b]], sc)
        assert single.tokens[0] == batched.tokens[b]
        assert max(abs(p - q) for p, q in zip(single.logprobs[0], batched.logprobs[b])) < 1e-5


def test_generation_logprobs_equal_teacher_forced_scores(nano):
    px = pixels()
    gen = generate(nano, px, PROMPTS, SamplingConfig(max_new_tokens=10, temperature=1.5, top_k=20),
                   torch.Generator().manual_seed(1))
    lp, mask = score_responses(nano, px, PROMPTS, gen.tokens)
    for b in range(3):
        n = len(gen.tokens[b])
        assert mask[b].sum() == n
        assert torch.allclose(lp[b, :n], torch.tensor(gen.logprobs[b]), atol=1e-5)


def test_stops_at_eos():
    # A model whose logits always favour <eos> after the first token: force via a hand-built module.
    class Fixed(torch.nn.Module):
        def __init__(self, cfg):
            super().__init__()
            self.cfg, self.tokenizer = cfg, tok.BYTE

        def forward(self, px, ids, mask=None, pos=None, past=None):
            B, T = ids.shape
            T = T + (self.cfg.n_image_tokens if px is not None else 0)
            logits = torch.zeros(B, T, self.cfg.vocab_size)
            logits[..., tok.EOS] = 5.0
            logits[0, ..., 65] = 10.0  # row 0 keeps saying "A"
            return logits, [(torch.zeros(B, 1, T, 1), torch.zeros(B, 1, T, 1))]

    from ril_trainer.config import model_config
    m = Fixed(model_config("nano"))
    g = generate(m, pixels(2), PROMPTS[:2], SamplingConfig(greedy=True, max_new_tokens=5))
    assert g.tokens == [[65] * 5, [tok.EOS]]
    assert g.logprobs[1][0] == pytest.approx(-math.log1p((tok.VOCAB_SIZE - 1) * math.exp(-5.0)), abs=1e-5)


def test_response_logprobs_are_a_loop_over_positions(nano):
    px = pixels(2)
    prompts, responses = PROMPTS[:2], [[65, 66, tok.EOS], [67]]
    lp, mask = response_logprobs(nano, px, prompts, responses)
    for b in range(2):
        for t, token in enumerate(responses[b]):
            ids = torch.tensor([prompts[b] + responses[b][:t]])
            logits, _ = nano(px[b:b + 1], ids)
            expected = F.log_softmax(logits[0, -1], -1)[token]
            assert lp[b, t].item() == pytest.approx(expected.item(), abs=1e-5)
    assert mask.tolist() == [[1, 1, 1], [1, 0, 0]] and lp[1, 1:].abs().sum() == 0


def test_top_k_top_p_against_a_hand_case():
    logits = torch.log(torch.tensor([[0.5, 0.2, 0.15, 0.1, 0.05]]))
    kept = filter_top_k_top_p(logits, top_k=0, top_p=0.8)  # 0.5+0.2 < 0.8 <= 0.5+0.2+0.15
    assert torch.isfinite(kept).tolist() == [[True, True, True, False, False]]
    kept = filter_top_k_top_p(logits, top_k=2, top_p=1.0)
    assert torch.isfinite(kept).tolist() == [[True, True, False, False, False]]
    kept = filter_top_k_top_p(logits, top_k=0, top_p=0.3)  # the most likely token always stays
    assert torch.isfinite(kept).tolist() == [[True, False, False, False, False]]


def test_top_p_vectorised_equals_loop():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(8, 50, generator=g) * 2
    kept = torch.isfinite(filter_top_k_top_p(logits, 0, 0.7))
    for b in range(8):
        probs = F.softmax(logits[b], -1).tolist()
        order = sorted(range(50), key=lambda i: -probs[i])
        mass, keep = 0.0, set()
        for i in order:
            if mass >= 0.7:
                break
            keep.add(i)
            mass += probs[i]
        assert set(torch.nonzero(kept[b]).flatten().tolist()) == keep


def test_repetition_penalty_hand_case():
    logits = torch.tensor([[2.0, -2.0, 1.0]])
    seen = torch.tensor([[True, True, False]])
    assert apply_repetition_penalty(logits, seen, 2.0).tolist() == [[1.0, -4.0, 1.0]]
