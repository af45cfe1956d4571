"""Checkpoints: model, optimizer, RNG states, step and data position, written atomically.

A checkpoint is one ``torch.save`` file written to ``<path>.tmp`` and moved into place with
``os.replace`` (atomic on POSIX), so a crash never leaves a half-written checkpoint behind.
Resuming restores every RNG (python, numpy, torch CPU, CUDA when present) and the data position
(epoch, index into that epoch's permutation), so a resumed run repeats the uninterrupted one.
"""
from __future__ import annotations

import inspect
import os
import random
from typing import Any, Dict, Optional

import numpy as np
import torch

from .config import ModelConfig, from_dict, to_dict
from .model import StudentVLM
from . import tokenizer as tok

FORMAT = "ril-trainer-checkpoint-v1"


def rng_state() -> Dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"].cpu())
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.cpu() for s in state["cuda"]])


def save(path: str, model: StudentVLM, optimizer: Optional[torch.optim.Optimizer] = None, step: int = 0,
         data_position: Optional[Dict[str, int]] = None, train_config: Optional[Dict[str, Any]] = None,
         extra: Optional[Dict[str, Any]] = None) -> None:
    payload = {
        "format": FORMAT,
        "model_config": to_dict(model.cfg),
        "tokenizer": tok.SPEC,
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer": optimizer.state_dict() if optimizer is not None else None,
        "rng": rng_state(),
        "step": step,
        "data_position": data_position or {},
        "train_config": train_config or {},
        "extra": extra or {},
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: str, map_location: str = "cpu") -> Dict[str, Any]:
    # torch >= 2.6 defaults to weights_only=True, which refuses the pickled RNG states.
    kwargs: Dict[str, Any] = {"map_location": map_location}
    if "weights_only" in inspect.signature(torch.load).parameters:
        kwargs["weights_only"] = False
    payload = torch.load(path, **kwargs)
    if payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a {FORMAT} file")
    return payload


def load_model(path: str, device: str = "cpu") -> StudentVLM:
    payload = load(path)
    model = StudentVLM(from_dict(ModelConfig, payload["model_config"]))
    model.load_state_dict(payload["model"])
    return model.to(device).eval()
