"""The RIL discriminator: is this response the student's (1) or a teacher's (0)?

RIL (Unified Reinforcement and Imitation Learning, NeurIPS 2025): a copy of the student's
language model, initialised from the student's weights, whose LM head is replaced by a scalar
head on the last token's final hidden state with a sigmoid. Choices where the paper is silent,
or where we deviate:

- **Labels: student = 1, teacher = 0**, so D(o) is P(student | o) and the similarity reward is
  ``r_sim = 1[D(o) < 0.5]`` ("looks like a teacher").
- The copy is the decoder only (token/position embeddings, blocks, final LayerNorm); the vision
  encoder and projector are dropped: the paper's prompt shows the response text alone.
  ``disc_input="question_response"`` also shows the question (no image either way).
- Input ids: ``[<bos>] + response`` or ``[<bos>] + question + [<sep>] + response``, where the
  response is the token list that was scored (generated ids up to and including ``<eos>``; cached
  teacher text tokenized with the student's tokenizer + ``<eos>``, truncated to the same budget).
  The last token is the last real one of each right-padded row.
- The scalar head is a fresh ``Linear(d_model, 1)`` (normal(0, 0.02) weights, zero bias), so an
  untrained discriminator outputs about 0.5.
- Loss: mean binary cross-entropy on logits (``binary_cross_entropy_with_logits``).
- Pre-training (``rl.RLRun.pretrain_discriminator``): per question, k = min(N, cached) student samples
  (the policy's rollouts with the RL sampling settings) vs k cached teacher responses (the paper:
  16 + 16), drawn round-robin over the selected teachers; every training question by default. 20% of
  the questions are held out; epochs run until the held-out accuracy (``disc/pretrain_heldout_acc``)
  reaches ``disc_pretrain_target_acc``, at most ``disc_pretrain_max_epochs`` (a warning if not reached).

Hugging Face students build theirs in students/hf.py (the same contract: ``logits``, ``head``, ``parameters``),
so ``disc_update`` / ``disc_probs`` below serve both families.

Run: built and pre-trained by ``python3 -m ril_trainer train`` with ``algorithm: ril`` (rl.py).
"""
from __future__ import annotations

import copy
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import distributed, sharding
from .data import pad_responses
from .model import StudentVLM

STUDENT, TEACHER = 1.0, 0.0  # the label convention


class Discriminator(nn.Module):
    def __init__(self, student: StudentVLM, with_question: bool = False):
        super().__init__()
        lm = copy.deepcopy(student)
        del lm.vision, lm.projector  # the language model only (the image is never shown)
        lm.lm_head = nn.Identity()  # type: ignore[assignment]  # the LM head is replaced by ``head``
        self.lm = lm
        self.with_question = with_question
        self.head = nn.Linear(student.cfg.d_model, 1)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)

    def input_ids(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> List[List[int]]:
        tk = self.lm.tokenizer
        if self.with_question:
            return [tk.encode_prompt(q) + list(r) for q, r in zip(questions, responses)]
        return [[tk.bos_id] + list(r) for r in responses]

    def logits(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> torch.Tensor:
        """Logit of P(student) per response, [B]."""
        device = self.head.weight.device
        ids, mask = pad_responses(self.input_ids(questions, responses), self.lm.tokenizer.pad_id)  # right-padded [B,T]
        ids, mask = ids.to(device), mask.to(device)
        limit = self.lm.cfg.max_seq_len
        if ids.shape[1] > limit:  # keep the end of long inputs (the last token is what the head reads)
            raise ValueError(f"discriminator input of {ids.shape[1]} tokens exceeds max_seq_len {limit}")
        h, _ = self.lm.hidden_states(None, ids, mask)  # [B,T,D]
        last = mask.sum(1) - 1  # [B] index of the last real token
        h_last = h[torch.arange(h.shape[0], device=device), last]  # [B,D]
        return self.head(h_last).squeeze(-1)  # [B]

    def forward(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> torch.Tensor:
        """D(o) = sigmoid(logit) = P(student | o), [B]."""
        return torch.sigmoid(self.logits(questions, responses))


def disc_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy; logits, labels [B] with student = 1, teacher = 0."""
    return F.binary_cross_entropy_with_logits(logits, labels)


def disc_update(disc: Discriminator, optimizer: torch.optim.Optimizer, questions: Sequence[str],
                responses: Sequence[Sequence[int]], labels: Sequence[float], grad_clip: float = 1.0,
                total: Optional[int] = None) -> Tuple[float, float]:
    """One gradient step of BCE on a batch; returns (loss, accuracy) measured before the step.

    total: the global batch's size when this batch is one rank's share of it (data parallel, rl.py): the loss is
    the share's BCE sum / total, the gradients are summed over the ranks before clipping, and (loss, accuracy)
    are the global batch's, so the step equals one process's step on the whole batch."""
    disc.train()
    y = torch.tensor(list(labels), dtype=torch.float32, device=disc.head.weight.device)  # [b]
    z = disc.logits(questions, responses)  # [b]
    loss = disc_loss(z, y) if total is None else disc_loss(z, y) * (len(y) / total)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if total is not None:
        distributed.all_reduce_grads(disc.parameters())
    if grad_clip > 0:
        torch.nn.utils.clip_grad_norm_(disc.parameters(), grad_clip)
    optimizer.step()
    correct = float(((z.detach() > 0).float() == y).float().sum())
    if total is None:
        return float(loss.detach()), correct / len(y)
    loss_sum, correct_sum = distributed.sum_across_ranks([float(loss.detach()), correct])
    return loss_sum, correct_sum / total


@torch.no_grad()
def disc_probs(disc: Discriminator, questions: Sequence[str], responses: Sequence[Sequence[int]],
               batch_size: int = 256) -> torch.Tensor:
    """D(o) for many responses in eval mode, [B] on the CPU.

    A sharded D (an hf student's with student.sharding fsdp): its forwards are collectives, so every rank runs as
    many as the rank with the most batches (a rank with fewer runs throwaway ones on a one-token response)."""
    was = disc.training
    disc.eval()
    starts = range(0, len(responses), batch_size)
    sharded = sharding.is_sharded(disc)
    n = distributed.max_across_ranks(len(starts)) if sharded else len(starts)  # before any forward: a collective
    out = [disc(questions[s:s + batch_size], responses[s:s + batch_size]).cpu() for s in starts]
    for _ in range(n - len(starts)):
        disc([""], [[0]])
    if sharded:
        sharding.reshard(disc)  # no backward follows: free the root's gathered weights
    if was:
        disc.train()
    return torch.cat(out) if out else torch.zeros(0)


def make_disc_optimizer(disc: Discriminator, lr: float) -> torch.optim.AdamW:
    return torch.optim.AdamW(disc.parameters(), lr=lr, betas=(0.9, 0.95), weight_decay=0.0)
