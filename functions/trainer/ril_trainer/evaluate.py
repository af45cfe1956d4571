"""Evaluation: greedy answers scored against the ground truth with the trainer's one answer rule
(``answers.rule_verdict``, also the RL rule judge's), so training and evaluation grade answers alike.
``is_correct`` and ``normalise_text`` are re-exported from ``answers`` for callers that used them here.
"""
from __future__ import annotations

import json
import os
from typing import Any, Collection, Dict, List, Optional, Sequence, Union

from . import answers
from . import tokenizer as tok
from .answers import is_correct, normalise_text  # noqa: F401 - re-exported
from .data import VQADataset, normalise
from .model import StudentVLM
from .students.base import Student, greedy_responses


def as_student(model: Union[Student, StudentVLM], device: str = "cpu") -> Student:
    """A Student as it is; a built-in StudentVLM wrapped as one (no reference copy), its inputs put on ``device``."""
    if isinstance(model, Student):
        return model
    from .students.builtin import BuiltinStudent
    return BuiltinStudent(model, device, with_reference=False)


def stop_ids(tokenizer: Any) -> List[int]:
    """The ids that end a response: an hf tokenizer's stop ids (its eos and the generation config's), else <eos>."""
    return list(getattr(tokenizer, "stop_ids", None) or [tokenizer.eos_id])


def response_length(tokens: Sequence[int], stop: Union[int, Collection[int]]) -> int:
    """Tokens of a generated response, its closing <eos> (any id of ``stop``) not counted: the length of the text it
    decodes to."""
    stops = {stop} if isinstance(stop, int) else set(stop)
    return len(tokens) - 1 if tokens and tokens[-1] in stops else len(tokens)


def predict(model: Union[Student, StudentVLM], ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
            max_new_tokens: int = 64, device: str = "cpu") -> List[str]:
    """Greedy predictions (text) for dataset rows ``indices``: ``greedy_responses`` of the student, either family (a
    built-in model is wrapped; ``device`` is where its inputs go). The one decoding every evaluation uses (``eval``,
    ``predict``, suite_eval's RUN subject, training-time suite scoring, validation accuracy)."""
    student = as_student(model, device)
    return [student.tokenizer.decode(t) for t in greedy_responses(student, ds, indices, batch_size, max_new_tokens)]


def accuracy(model: Union[Student, StudentVLM], ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
             max_new_tokens: int = 64, device: str = "cpu") -> Dict[str, object]:
    preds = predict(model, ds, indices, batch_size, max_new_tokens, device)
    correct = [bool(answers.rule_verdict(ds.examples[i].question, ds.examples[i].answer, p)) for p, i in zip(preds, indices)]
    by_q: Dict[str, List[bool]] = {}
    for i, c in zip(indices, correct):
        by_q.setdefault(ds.examples[i].question, []).append(c)
    return {"accuracy": sum(correct) / max(1, len(correct)), "n": len(correct),
            "by_question": {q: {"accuracy": sum(v) / len(v), "n": len(v)} for q, v in sorted(by_q.items())},
            "examples": [{"id": ds.examples[i].id, "question": ds.examples[i].question,
                          "answer": ds.examples[i].answer, "prediction": p, "correct": c}
                         for i, p, c in zip(indices, preds, correct)]}


def checkpoint_budget(train_config: Dict[str, object], default: int = 160) -> int:
    """max_new_tokens for evaluating a checkpoint: the response budget it was trained with (runs store the resolved
    max_response_tokens in the checkpoint's config); ``default`` for a checkpoint without one (0 or missing)."""
    value = train_config.get("max_response_tokens")
    return int(value) if isinstance(value, int) and value > 0 else default


def pick_indices(ds: VQADataset, split: str, limit: Optional[int]) -> List[int]:
    idx = ds.split_indices(split)
    return idx[:limit] if limit else idx


def bundle_tokenizer(bundle_dir: str, manifest: Dict[str, object]) -> tok.Tokenizer:
    """The tokenizer a bundle ships: its tokenizer.json (bpe) or the byte spec."""
    spec = manifest["tokenizer"]
    if isinstance(spec, dict) and spec.get("type") == "hf-tokenizer-json":
        with open(os.path.join(bundle_dir, str(spec["file"]))) as f:
            return tok.from_stored(f.read())
    return tok.from_stored(spec)


def bundle_accuracy(bundle_dir: str, data_dir: str, split: str = "test", limit: Optional[int] = None,
                    max_new_tokens: Optional[int] = None) -> Dict[str, object]:
    """Accuracy of an exported ONNX bundle (what a deployment serves) with the same rule judge as training.

    The graphs run in onnxruntime-node (tools/onnx_greedy.mjs; Python onnxruntime is not a dependency),
    greedy and batch 1 like the serving endpoint; preprocessing and prompts follow the bundle's manifest.
    """
    from .config import ModelConfig, from_dict
    from .export import run_node_greedy
    with open(os.path.join(bundle_dir, "manifest.json")) as f:
        manifest = json.load(f)
    if "hf" in manifest:  # format 3: a Hugging Face student's bundle (docs/hf-bundles.md)
        raise ValueError(f"{bundle_dir} is a Hugging Face bundle: score it with suite_eval.bundle_accuracy_any (the "
                         "endpoint's runtime answers it)")
    mcfg = from_dict(ModelConfig, manifest["model_config"])
    ds = VQADataset(data_dir, mcfg, splits=[split])
    indices = pick_indices(ds, split, limit)
    if not indices:
        raise ValueError(f"split {split!r} of {data_dir} has no examples")
    px = normalise(ds.images[indices], mcfg)
    tk = bundle_tokenizer(bundle_dir, manifest)
    prompts = [tk.encode_prompt(ds.examples[i].question) for i in indices]
    # None: as many tokens as the model's positions allow after each prompt (it stops at <eos>): never a cap that
    # cuts a verbose student's answer before its last word (the answer comes last in the teachers' style)
    out = run_node_greedy(bundle_dir, px, prompts, max_new_tokens if max_new_tokens is not None else mcfg.max_seq_len)
    preds = [tk.decode(r["tokens"]) for r in out["results"]]
    correct = [bool(answers.rule_verdict(ds.examples[i].question, ds.examples[i].answer, p)) for p, i in zip(preds, indices)]
    return {"accuracy": sum(correct) / len(correct), "n": len(correct), "ms_per_token": out.get("ms_per_token")}
