"""Checkpoints: model, optimizer, RNG states, step and data position, written atomically.

A checkpoint is one ``torch.save`` file written to ``<path>.tmp`` and moved into place with
``os.replace`` (atomic on POSIX), so a crash never leaves a half-written checkpoint behind.
Resuming restores every RNG (python, numpy, torch CPU, CUDA when present) and the data position
(epoch, index into that epoch's permutation), so a resumed run repeats the uninterrupted one.

Checkpoints travel between machines through the platform, so loading one must never run code: it is read
with ``torch.load(weights_only=True)``, whose unpickler builds only tensors and plain containers and refuses
any other class (a pickle with a malicious ``__reduce__`` raises instead of running). torch 1.13's restricted
unpickler knows even fewer opcodes than 2.x's (no floats, no numpy), so the file holds just two things that
every supported torch accepts: a list of tensors, and a JSON text describing everything else (numbers,
strings, tuples, the numpy RNG state, int-keyed optimizer dicts) with ``{"$t": i}`` standing for tensor i.
JSON writes floats with ``repr`` precision, so every value comes back bit-identical and resuming stays exact.
"""
from __future__ import annotations

import inspect
import json
import os
import random
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from .config import ModelConfig, from_dict, to_dict
from .model import StudentVLM
from . import tokenizer as tok

# v1 was a plain pickle of the payload (numpy arrays, tuples, floats): loadable only with weights_only=False.
FORMAT = "ril-trainer-checkpoint-v2"
_LEGACY_FORMAT = "ril-trainer-checkpoint-v1"


class UnsafeCheckpointError(ValueError):
    """The file is not a checkpoint this trainer can load without running code from it."""


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


# ----------------------------------------------------------------------------------------------
# The safe file layout: {"format", "structure": JSON text, "tensors": [Tensor]}
# ----------------------------------------------------------------------------------------------

def _encode(value: Any, tensors: List[torch.Tensor]) -> Any:
    """`value` as JSON data; tensors are appended to `tensors` and replaced by {"$t": index}."""
    if isinstance(value, torch.Tensor):
        tensors.append(value.detach().cpu())
        return {"$t": len(tensors) - 1}
    if isinstance(value, np.ndarray):  # only the numpy RNG state (624 words): small enough for JSON
        return {"$nd": value.tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v, tensors) for k, v in value.items()}
        # optimizer state is keyed by parameter index (int): keep the key types
        return {"$dict": [[_encode(k, tensors), _encode(v, tensors)] for k, v in value.items()]}
    raise TypeError(f"a checkpoint cannot hold a {type(value).__name__}")


def _decode(value: Any, tensors: List[torch.Tensor]) -> Any:
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    if not isinstance(value, dict):
        return value
    if "$t" in value:
        return tensors[value["$t"]]
    if "$nd" in value:
        return np.asarray(value["$nd"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
    if "$tuple" in value:
        return tuple(_decode(v, tensors) for v in value["$tuple"])
    if "$dict" in value:
        return {_decode(k, tensors): _decode(v, tensors) for k, v in value["$dict"]}
    return {k: _decode(v, tensors) for k, v in value.items()}


def pack(payload: Dict[str, Any]) -> Dict[str, Any]:
    """The payload in the form torch.load(weights_only=True) reads on every supported torch."""
    tensors: List[torch.Tensor] = []
    structure = json.dumps(_encode(payload, tensors), allow_nan=True)
    return {"format": FORMAT, "structure": structure, "tensors": tensors}


def unpack(stored: Any, source: str = "checkpoint") -> Dict[str, Any]:
    if not isinstance(stored, dict) or stored.get("format") != FORMAT:
        found = stored.get("format") if isinstance(stored, dict) else None
        if found == _LEGACY_FORMAT:
            raise UnsafeCheckpointError(f"{source} is a {_LEGACY_FORMAT} file; re-train it with this trainer")
        raise UnsafeCheckpointError(f"{source} is not a {FORMAT} file")
    tensors = stored.get("tensors")
    if not isinstance(stored.get("structure"), str) or not isinstance(tensors, list) \
            or not all(isinstance(t, torch.Tensor) for t in tensors):
        raise UnsafeCheckpointError(f"{source} is a malformed {FORMAT} file")
    return _decode(json.loads(stored["structure"]), tensors)


def cpu_state(module: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """A module's state_dict detached and on the CPU: what a checkpoint stores."""
    return {k: v.detach().cpu() for k, v in module.state_dict().items()}


def builtin_header(model: StudentVLM) -> Dict[str, Any]:
    """What a built-in student's checkpoint says about the model beside its weights: its config and tokenizer."""
    return {"model_config": to_dict(model.cfg), "tokenizer": tok.stored(model.tokenizer)}


def save(path: str, model: Any, optimizer: Optional[torch.optim.Optimizer] = None, step: int = 0,
         data_position: Optional[Dict[str, int]] = None, train_config: Optional[Dict[str, Any]] = None,
         extra: Optional[Dict[str, Any]] = None, write: bool = True) -> None:
    """model: a StudentVLM, or a students.Student (its checkpoint_header and trainable weights are stored: a Hugging
    Face student's checkpoint names its source model and holds the trained weights or the LoRA adapters).
    write=False: gather only (a sharded student's weights and moments are collectives every rank joins; rank 0
    writes)."""
    if isinstance(model, StudentVLM):
        header, weights = builtin_header(model), cpu_state(model)
        opt_state = optimizer.state_dict() if optimizer is not None else None
    else:
        header, weights = model.checkpoint_header(), model.weights()
        opt_state = model.optimizer_state(optimizer) if optimizer is not None else None
    if not write:
        return
    payload = {
        "format": FORMAT,
        **header,
        "model": weights,
        "optimizer": opt_state,
        "rng": rng_state(),
        "step": step,
        "data_position": data_position or {},
        "train_config": train_config or {},
        "extra": extra or {},
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        torch.save(pack(payload), f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load(path: str, map_location: str = "cpu") -> Dict[str, Any]:
    """Reads a checkpoint without executing anything from it: weights_only=True on every torch (a torch
    without that option is refused rather than unpickling the file)."""
    if "weights_only" not in inspect.signature(torch.load).parameters:
        raise RuntimeError(f"torch {torch.__version__} cannot load checkpoints safely (weights_only); use torch >= 1.13")
    try:
        stored = torch.load(path, map_location=map_location, weights_only=True)
    except (RuntimeError, ValueError, EOFError, KeyError, AttributeError, TypeError) as err:
        # torch's restricted unpickler raises (Runtime|Unpickling)Error for classes and opcodes it refuses
        raise UnsafeCheckpointError(f"{path} cannot be loaded safely: {err}") from None
    except Exception as err:  # noqa: BLE001 - pickle.UnpicklingError and friends: refused, never run
        raise UnsafeCheckpointError(f"{path} cannot be loaded safely: {err}") from None
    return unpack(stored, path)


def tokenizer_of(payload: Dict[str, Any]) -> "tok.Tokenizer":
    """The tokenizer stored with a loaded checkpoint (byte for files written before tokenizers were stored)."""
    return tok.from_stored(payload.get("tokenizer"))


class UnsupportedCheckpoint(ValueError):
    """The checkpoint holds a student this command cannot use yet."""


def student_family(payload: Dict[str, Any]) -> str:
    """"builtin" or "hf" (a Hugging Face student's checkpoint carries {"student": {"family": "hf", ...}})."""
    return str((payload.get("student") or {}).get("family", "builtin"))


def load_model(path: str, device: str = "cpu") -> StudentVLM:
    """The built-in model of a checkpoint (eval mode). A Hugging Face student's is refused: load any family's student
    with ``students.load.load_student`` (what eval and predict do)."""
    return builtin_model(load(path), path, device)


def builtin_model(payload: Dict[str, Any], path: str, device: str = "cpu") -> StudentVLM:
    """The built-in model of a loaded checkpoint (``path`` names it in errors), in eval mode on ``device``."""
    if student_family(payload) != "builtin":
        raise UnsupportedCheckpoint(
            f"{path} holds a Hugging Face student (family {student_family(payload)!r}), not a built-in model: "
            "this command loads built-in students only (eval, predict and export take both families)")
    model = StudentVLM(from_dict(ModelConfig, payload["model_config"]), tokenizer_of(payload))
    model.load_state_dict(payload["model"])
    return model.to(device).eval()
