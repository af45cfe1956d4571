"""The built-in compact family (model.py) as a Student: the functions of sampling.py on a StudentVLM.

Nothing here changes the numbers: the loops call exactly what they called before the interface existed
(sampling.generate, sampling.response_logprobs / score_responses, the Discriminator copy, AdamW groups), so a
built-in run is bit-identical to one from before the refactor.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from .. import tokenizer as tok
from ..checkpoint import builtin_header, cpu_state
from ..config import SamplingConfig, TrainConfig, to_dict
from ..data import VQADataset, normalise
from ..discriminator import Discriminator
from ..model import StudentVLM
from ..sampling import Generation, generate, response_logprobs, score_responses
from .base import Inputs, Student, adamw


@dataclass
class BuiltinInputs(Inputs):
    pixels: torch.Tensor
    """Normalised images [B,C,H,W] on the model's device."""
    prompts: List[List[int]]
    """Prompt ids per row (<bos> question <sep>)."""

    def select(self, idx: Sequence[int]) -> "BuiltinInputs":
        return BuiltinInputs(self.pixels[list(idx)], [self.prompts[i] for i in idx])

    def __len__(self) -> int:
        return len(self.prompts)


class BuiltinStudent(Student):
    family = "builtin"

    def __init__(self, policy: StudentVLM, device: str, with_reference: bool = True):
        self.policy, self.device = policy, device
        self.tokenizer: tok.Tokenizer = policy.tokenizer
        self.image_cfg = policy.cfg
        self.reference: Optional[StudentVLM] = copy.deepcopy(policy).eval() if with_reference else None
        self.forward_module: torch.nn.Module = policy
        """What response_logprobs runs through: the policy, or its DistributedDataParallel wrapper (sft.py)."""

    def inputs(self, ds: VQADataset, rows: Sequence[int]) -> BuiltinInputs:
        pixels = normalise(ds.images[list(rows)].to(self.device), self.policy.cfg)  # [B,C,H,W]
        return BuiltinInputs(pixels, [self.tokenizer.encode_prompt(ds.examples[i].question) for i in rows])

    def generate(self, inputs: Inputs, cfg: SamplingConfig, generator: Optional[torch.Generator] = None) -> Generation:
        assert isinstance(inputs, BuiltinInputs)
        return generate(self.policy, inputs.pixels, inputs.prompts, cfg, generator)

    def response_logprobs(self, inputs: Inputs, responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
        assert isinstance(inputs, BuiltinInputs)
        return response_logprobs(self.forward_module, inputs.pixels, inputs.prompts, responses)

    def score_responses(self, inputs: Inputs, responses: Sequence[Sequence[int]],
                        reference: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        assert isinstance(inputs, BuiltinInputs)
        model = self.reference if reference else self.policy
        assert model is not None, "this student was built without a reference"
        return score_responses(model, inputs.pixels, inputs.prompts, responses)

    def trainable_parameters(self) -> List[torch.nn.Parameter]:
        return list(self.policy.parameters())

    def make_optimizer(self, cfg: TrainConfig) -> torch.optim.Optimizer:
        return adamw(self.policy.named_parameters(), cfg)

    def make_discriminator(self, with_question: bool) -> torch.nn.Module:
        return Discriminator(self.policy, with_question).to(self.device)

    def weights(self) -> Dict[str, torch.Tensor]:
        return cpu_state(self.policy)

    def load_weights(self, weights: Dict[str, torch.Tensor]) -> None:
        self.policy.load_state_dict(weights)

    def reset_reference(self) -> None:
        assert self.reference is not None
        self.reference.load_state_dict(self.policy.state_dict())

    def reference_weights(self) -> Optional[Dict[str, torch.Tensor]]:
        assert self.reference is not None
        return cpu_state(self.reference)

    def checkpoint_header(self) -> Dict[str, Any]:
        return builtin_header(self.policy)

    def num_parameters(self) -> Dict[str, int]:
        return self.policy.num_parameters()

    def describe(self) -> Dict[str, Any]:
        return to_dict(self.policy.cfg)
