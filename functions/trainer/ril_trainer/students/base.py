"""The interface the training loops (sft.py, rl.py) use: one student = policy + reference + tokenizer + sampler.

A loop never touches a model directly. It asks the student for
- ``inputs(ds, rows)``: the prompts of dataset rows (image + question) in whatever form the family needs,
  sliceable with ``select`` so a minibatch is a subset of the rows already built;
- ``generate``: sampled (or greedy) responses with the KV cache, under a ``SamplingConfig`` and a
  ``torch.Generator`` (rollouts are reproducible from (seed, step)); ``sampling()`` spans several calls;
- ``response_logprobs`` / ``score_responses``: per-token log pi(o_t | image, q, o_<t) of given responses with
  their mask [B,R], under the policy (with gradients) or, scored without gradients, the reference;
- the text codec: ``tokenizer.encode_response`` (text + <eos>, cut to the budget) and ``tokenizer.decode``;
- ``make_optimizer`` (AdamW over the trainable weights), ``trainable_parameters`` (what gradient clipping sees);
- ``make_discriminator``: D's language backbone and scalar head (discriminator.py's contract: ``logits``,
  ``head``, ``parameters``);
- weights for checkpoints: ``weights`` / ``load_weights`` (the trainable state) and ``reference_weights`` (None when
  the reference is not a separate copy), ``optimizer_state`` / ``load_optimizer_state``;
- sharding (sharding.py): ``sharded`` (weights split across the ranks: forwards, ``weights`` and the optimizer state
  are collectives every rank must join), ``gradient_reduction`` (how the backward combines the ranks' gradients).
"""
from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from typing import Any, ContextManager, Dict, List, Optional, Sequence, Tuple

import torch

from ..answers import rule_verdict
from ..config import SamplingConfig, TrainConfig


class StudentError(ValueError):
    """A student that cannot be loaded or trained as configured (the CLI prints the message and exits 2)."""


class Inputs(ABC):
    """The prompts of some dataset rows, ready for the student's forward."""

    @abstractmethod
    def select(self, idx: Sequence[int]) -> "Inputs":
        """The rows at positions ``idx`` (a minibatch)."""

    @abstractmethod
    def __len__(self) -> int:
        ...


class TextCodec(ABC):
    """The student's tokenizer as the loops use it."""

    eos_id: int
    pad_id: int

    @abstractmethod
    def encode_response(self, response: str, max_tokens: int = 0) -> List[int]:
        """ids of the text + <eos>, truncated to max_tokens (0 = no limit; a cut response has no <eos>)."""

    @abstractmethod
    def decode(self, ids: Sequence[int]) -> str:
        """The text of generated ids, stopping at <eos>."""


class Student(ABC):
    family: str
    policy: torch.nn.Module
    """The module that trains (built-in: StudentVLM; hf: the transformers model, or its peft wrapper)."""
    tokenizer: Any  # a TextCodec (the built-in tokenizer has the same methods)
    device: str
    sharded: bool = False
    """Weights split across the ranks (sharding.py): every rank must run the same forwards, weights() and
    optimizer_state() together. False: each rank holds the whole model."""
    image_cfg: Any = None
    """The ModelConfig a dataset decodes images for (the built-in model's size and channels); None: the student reads
    the image files itself (hf: its processor)."""

    # --- data ----------------------------------------------------------------------------------

    def dataset(self, data_dir: str, splits: Sequence[str]) -> Any:
        """The examples of these splits of a dataset directory, as ``inputs`` reads them (a data.VQADataset)."""
        from ..data import VQADataset
        return VQADataset(data_dir, self.image_cfg, splits=splits)

    @abstractmethod
    def inputs(self, ds: Any, rows: Sequence[int]) -> Inputs:
        """The prompts (image + question) of dataset rows."""

    # --- sampling and scoring --------------------------------------------------------------------

    @abstractmethod
    def generate(self, inputs: Inputs, cfg: SamplingConfig, generator: Optional[torch.Generator] = None) -> Any:
        """sampling.Generation: tokens (up to and including <eos>) and the raw model's log-probs per row."""

    def sampling(self) -> ContextManager[None]:
        """A span of ``generate`` calls. Sharded: the weights are gathered once for all of them (all ranks enter
        together; inside, each rank may call ``generate`` a different number of times, e.g. once per question when
        the ranks hold different numbers). Unsharded: nothing."""
        return contextlib.nullcontext()

    @abstractmethod
    def response_logprobs(self, inputs: Inputs, responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Policy log-probs [B,R] (zero at padding) and mask [B,R], with gradients, in the policy's current mode."""

    @abstractmethod
    def score_responses(self, inputs: Inputs, responses: Sequence[Sequence[int]],
                        reference: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        """Like response_logprobs in eval mode without gradients, under the policy or the reference."""

    # --- optimisation ----------------------------------------------------------------------------

    @abstractmethod
    def trainable_parameters(self) -> List[torch.nn.Parameter]:
        ...

    @abstractmethod
    def make_optimizer(self, cfg: TrainConfig) -> torch.optim.Optimizer:
        ...

    @abstractmethod
    def make_discriminator(self, with_question: bool) -> torch.nn.Module:
        ...

    # --- weights ---------------------------------------------------------------------------------

    @abstractmethod
    def weights(self) -> Dict[str, torch.Tensor]:
        """The policy's trainable state (CPU tensors): what a checkpoint stores as "model"."""

    @abstractmethod
    def load_weights(self, weights: Dict[str, torch.Tensor]) -> None:
        ...

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> Dict[str, Any]:
        """What a checkpoint stores as "optimizer" (whole tensors, also when sharded)."""
        return optimizer.state_dict()

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer, state: Dict[str, Any]) -> None:
        optimizer.load_state_dict(state)

    def gradient_reduction(self, mode: str) -> None:
        """Sharded students: "sum" (RL) or "mean" (SFT) of the ranks' gradients in the backward. Unsharded: the loops
        combine gradients themselves (DDP, distributed.all_reduce_grads)."""

    @abstractmethod
    def reset_reference(self) -> None:
        """reference := the policy as it is now (a frozen copy), or nothing when the reference is the policy with its
        adapters switched off."""

    @abstractmethod
    def reference_weights(self) -> Optional[Dict[str, torch.Tensor]]:
        """The reference's state when it is a separate copy, else None."""

    @abstractmethod
    def checkpoint_header(self) -> Dict[str, Any]:
        """What a checkpoint records about the model besides its weights (config, tokenizer or source)."""

    @abstractmethod
    def num_parameters(self) -> Dict[str, int]:
        ...

    @abstractmethod
    def describe(self) -> Dict[str, Any]:
        """The model config for the run's "start" event."""


def adamw(named_parameters: Any, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices only (not on norms, biases, position embeddings), lr = cfg.lr."""
    decay, no_decay = [], []
    for name, p in named_parameters:
        (decay if p.dim() >= 2 and "pos" not in name else no_decay).append(p)
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas))


def greedy_responses(student: Student, ds: Any, rows: Sequence[int], batch_size: int,
                     max_new_tokens: int) -> List[List[int]]:
    """The greedy answer (token ids) to each row, without the repetition penalty: what validation scores."""
    cfg = SamplingConfig(greedy=True, max_new_tokens=max_new_tokens, repetition_penalty=1.0)
    tokens: List[List[int]] = []
    for s in range(0, len(rows), batch_size):
        tokens.extend(student.generate(student.inputs(ds, list(rows[s:s + batch_size])), cfg).tokens)
    return tokens


def greedy_accuracy(student: Student, ds: Any, rows: Sequence[int], batch_size: int, max_new_tokens: int) -> float:
    """Share of rows whose greedy answer the rule judge accepts (evaluate.accuracy's verdicts, any family)."""
    tokens = greedy_responses(student, ds, rows, batch_size, max_new_tokens)
    correct = sum(bool(rule_verdict(ds.examples[i].question, ds.examples[i].answer, student.tokenizer.decode(t)))
                  for i, t in zip(rows, tokens))
    return correct / max(1, len(rows))
