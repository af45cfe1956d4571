"""A trained student from its checkpoint, either family, ready to answer (what eval, predict and the worker's RUN
subject score): the one place that branches on the checkpoint's family.

- built-in: the StudentVLM of the checkpoint (checkpoint.builtin_model);
- hf: the base model named by the checkpoint's config (``student.model``: a save_pretrained directory or a hub id in
  the local Hugging Face cache, never downloaded) with the checkpoint's trained weights loaded into it: the LoRA
  adapters (kept as adapters, not merged: the same forward as in training) or, with full fine-tuning, every weight.
  Needs transformers and peft (the trainer's [hf] extra).
"""
from __future__ import annotations

from typing import Any, Dict, Tuple

from .. import checkpoint as ckpt
from .base import Student


def load_student(path: str, device: str = "cpu") -> Tuple[Student, Dict[str, Any]]:
    """(the checkpoint's student in eval mode on ``device``, without a reference; the checkpoint's payload)."""
    payload = ckpt.load(path)
    family = ckpt.student_family(payload)
    student: Student
    if family == "hf":
        student = hf_student(payload, device)
    elif family == "builtin":
        from .builtin import BuiltinStudent
        student = BuiltinStudent(ckpt.builtin_model(payload, path, device), device, with_reference=False)
    else:
        raise ckpt.UnsupportedCheckpoint(f"{path} holds a student of unknown family {family!r}: builtin | hf")
    student.policy.eval()
    return student, payload


def hf_student(payload: Dict[str, Any], device: str = "cpu") -> Student:
    """The Hugging Face student of a loaded hf checkpoint: its config's base model + the trained weights."""
    from ..config import TrainConfig, from_dict
    from .hf import HFStudent
    student = HFStudent.load(from_dict(TrainConfig, payload["train_config"]), device, with_reference=False)
    student.load_weights(payload["model"])
    return student
