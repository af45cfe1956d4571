"""Batched generation with a KV cache, and teacher-forced scoring of given responses.

Choices:
- Sequence layout per row: [image (N)] [left-padded prompt] [generated]. Pads sit between image
  and prompt; the key mask hides them and positions skip them (see model.py), so a batched row
  decodes exactly like the same example alone.
- Logit processing order (as in Hugging Face): repetition penalty (over the prompt's text tokens
  and the tokens generated so far; specials excluded) -> temperature -> top-k -> top-p -> sample.
  Greedy is the argmax after the repetition penalty.
- **Returned log-probs are the raw model's**: log_softmax of the unprocessed logits (temperature 1,
  no top-k/top-p/penalty) at the chosen token. That is pi(o_t | q, o_<t) as RL's ratio and KL need
  (pi_old); ``score_responses`` recomputes the same numbers teacher-forced.
- A row stops at its first <eos> (kept in its tokens); later steps of that row are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F

from .config import SamplingConfig
from .data import pad_prompts, pad_responses
from .model import StudentVLM


@dataclass
class Generation:
    tokens: List[List[int]]
    """Generated ids per row, up to and including <eos> when it was produced."""
    logprobs: List[List[float]]
    """Raw-model log pi(token) per generated token (see module docstring)."""


# ----------------------------------------------------------------------------------------------
# Logit processing
# ----------------------------------------------------------------------------------------------


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    # logits [B,V]; seen [B,V] bool
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def filter_top_k_top_p(logits: torch.Tensor, top_k: int, top_p: float) -> torch.Tensor:
    # logits [B,V] -> logits with removed tokens at -inf
    V = logits.shape[-1]
    if 0 < top_k < V:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # [B,1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)  # [B,V]
        probs = F.softmax(sorted_logits, dim=-1)
        mass_before = probs.cumsum(-1) - probs  # mass of the strictly more likely tokens
        remove_sorted = mass_before >= top_p  # the most likely token is always kept
        remove = torch.zeros_like(remove_sorted).scatter(1, order, remove_sorted)
        logits = logits.masked_fill(remove, float("-inf"))
    return logits


def choose_tokens(raw: torch.Tensor, seen: torch.Tensor, cfg: SamplingConfig,
                  generator: Optional[torch.Generator]) -> torch.Tensor:
    # raw [B,V] -> next ids [B]
    logits = apply_repetition_penalty(raw.float(), seen, cfg.repetition_penalty)
    if cfg.greedy:
        return logits.argmax(-1)
    logits = filter_top_k_top_p(logits / max(cfg.temperature, 1e-6), cfg.top_k, cfg.top_p)
    probs = F.softmax(logits, dim=-1)  # [B,V]
    if generator is not None and generator.device != probs.device:  # e.g. a CPU generator, CUDA model
        return torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(probs.device)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


# ----------------------------------------------------------------------------------------------
# Generation
# ----------------------------------------------------------------------------------------------


@torch.no_grad()
def generate(model: StudentVLM, pixel_values: torch.Tensor, prompts: Sequence[Sequence[int]],
             cfg: SamplingConfig, generator: Optional[torch.Generator] = None) -> Generation:
    """Sample responses for a batch. pixel_values [B,C,H,W] normalised; prompts: ids per row."""
    was_training = model.training
    model.eval()
    device = pixel_values.device
    B, N = len(prompts), model.cfg.n_image_tokens
    tk = model.tokenizer
    ids, mask = pad_prompts(prompts, tk.pad_id)
    ids, mask = ids.to(device), mask.to(device)  # [B,L]
    full_mask = torch.cat([torch.ones(B, N, dtype=torch.long, device=device), mask], dim=1)  # [B,N+L]
    budget = model.cfg.max_seq_len - full_mask.shape[1]
    if budget <= 0:
        raise ValueError(f"prompt too long: {full_mask.shape[1]} positions, max_seq_len {model.cfg.max_seq_len}")
    steps = min(cfg.max_new_tokens, budget)

    is_text = torch.ones(model.cfg.vocab_size, dtype=torch.bool, device=device)  # [V] the penalty spares specials
    is_text[tk.special_ids()] = False
    seen = torch.zeros(B, model.cfg.vocab_size, dtype=torch.bool, device=device)  # [B,V]
    seen.scatter_(1, ids, is_text[ids])  # text tokens of the prompt

    logits, past = model(pixel_values, ids, full_mask)  # prefill: [B,N+L,V]
    last = logits[:, -1]  # [B,V] (prompts are left-padded: the last position is real in every row)
    out_ids = torch.zeros(B, steps, dtype=torch.long, device=device)
    out_lp = torch.zeros(B, steps, device=device)
    done = torch.zeros(B, dtype=torch.bool, device=device)
    lengths = torch.full((B,), steps, dtype=torch.long, device=device)
    text_ids = ids
    for t in range(steps):
        nxt = choose_tokens(last, seen, cfg, generator)  # [B]
        out_ids[:, t] = nxt
        out_lp[:, t] = F.log_softmax(last.float(), dim=-1).gather(1, nxt[:, None]).squeeze(1)
        newly = (nxt == tk.eos_id) & ~done
        lengths = torch.where(newly, torch.full_like(lengths, t + 1), lengths)
        done = done | newly
        if bool(done.all()) or t == steps - 1:
            break
        seen.scatter_(1, nxt[:, None], is_text[nxt][:, None])
        pos = full_mask.sum(1, keepdim=True)  # [B,1] number of real tokens so far = next position
        full_mask = torch.cat([full_mask, torch.ones(B, 1, dtype=torch.long, device=device)], dim=1)
        if cfg.use_cache:
            logits, past = model(None, nxt[:, None], full_mask, pos, past)  # [B,1,V]
        else:
            text_ids = torch.cat([text_ids, nxt[:, None]], dim=1)
            logits, _ = model(pixel_values, text_ids, full_mask)  # [B,N+L+t+1,V]
        last = logits[:, -1]
    if was_training:
        model.train()
    ids_l, lp_l, n_l = out_ids.tolist(), out_lp.tolist(), lengths.tolist()
    return Generation(tokens=[ids_l[b][:n_l[b]] for b in range(B)],
                      logprobs=[lp_l[b][:n_l[b]] for b in range(B)])


# ----------------------------------------------------------------------------------------------
# Teacher-forced scoring
# ----------------------------------------------------------------------------------------------


def response_logprobs(model: StudentVLM, pixel_values: torch.Tensor, prompts: Sequence[Sequence[int]],
                      responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """log pi(response token | image, prompt, earlier response tokens), teacher-forced, with gradients.

    Returns logprobs [B,R] and mask [B,R] (1 = real response token). Runs in the model's current
    mode (call model.eval() for dropout-free scores). SFT's loss and RL's ratios both use this.
    """
    device = pixel_values.device
    B, N = len(prompts), model.cfg.n_image_tokens
    p_ids, p_mask = pad_prompts(prompts, model.tokenizer.pad_id)  # [B,L]
    r_ids, r_mask = pad_responses(responses, model.tokenizer.pad_id)  # [B,R]
    L, R = p_ids.shape[1], r_ids.shape[1]
    ids = torch.cat([p_ids, r_ids], dim=1).to(device)  # [B,L+R]
    mask = torch.cat([torch.ones(B, N, dtype=torch.long), p_mask, r_mask], dim=1).to(device)  # [B,N+L+R]
    if mask.shape[1] > model.cfg.max_seq_len:
        raise ValueError(f"sequence of {mask.shape[1]} positions exceeds max_seq_len {model.cfg.max_seq_len}")
    logits, _ = model(pixel_values, ids, mask)  # [B,N+L+R,V]
    # the token at sequence position s is predicted by the logits at s-1
    pred = logits[:, N + L - 1: N + L + R - 1].float()  # [B,R,V]
    r_ids, r_mask = r_ids.to(device), r_mask.to(device)
    lp = F.log_softmax(pred, dim=-1).gather(2, r_ids[:, :, None]).squeeze(2)  # [B,R]
    return lp * r_mask, r_mask


@torch.no_grad()
def score_responses(model: StudentVLM, pixel_values: torch.Tensor, prompts: Sequence[Sequence[int]],
                    responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
    """``response_logprobs`` in eval mode without gradients (pi_old / reference scores)."""
    was_training = model.training
    model.eval()
    try:
        return response_logprobs(model, pixel_values, prompts, responses)
    finally:
        if was_training:
            model.train()
