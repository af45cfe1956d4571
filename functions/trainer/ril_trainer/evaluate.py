"""Evaluation: greedy answers scored against the ground truth with a normalised match.

The match (``is_correct``) is the core of the rule judge (``judges.rule_verdict``, which adds a
number rule); ``accuracy`` grades with ``rule_verdict``, so training and evaluation grade answers
with one implementation. It agrees with the TypeScript reference matcher
``mentionsAnswer`` (api/services/fashionMnist/questions.ts): whole words, case-insensitive,
runs of whitespace equal, and **a hyphen is part of a word** ("shirt" is not in "t-shirt").
- normalise both texts: lowercase, every character that is not a letter, digit, hyphen or
  whitespace -> space, collapse whitespace;
- correct if the answer is a yes/no and the prediction's first "yes"/"no" word equals it;
- otherwise correct if the normalised answer occurs in the normalised prediction as a
  whole-word phrase (so "This is an ankle boot." matches "ankle boot"; exact equality is the
  special case of a one-phrase prediction).
"""
from __future__ import annotations

import json
import os
import re
from typing import Dict, List, Optional, Sequence

import torch

from . import tokenizer as tok
from .config import SamplingConfig
from .data import VQADataset, normalise
from .model import StudentVLM
from .sampling import generate

_PUNCT = re.compile(r"[^\w\s-]|_", re.UNICODE)  # keeps letters, digits, "-", whitespace


def normalise_text(s: str) -> str:
    return " ".join(_PUNCT.sub(" ", s.lower()).split())


def is_correct(prediction: str, answer: str) -> bool:
    p, a = normalise_text(prediction), normalise_text(answer)
    if not a:
        return not p
    if p == a:
        return True
    words = p.split()
    if a in ("yes", "no"):
        first = next((w for w in words if w in ("yes", "no")), None)
        return first == a
    return f" {a} " in f" {p} "


@torch.no_grad()
def predict(model: StudentVLM, ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
            max_new_tokens: int = 64, device: str = "cpu") -> List[str]:
    """Greedy predictions (text) for dataset rows ``indices``."""
    cfg = SamplingConfig(greedy=True, max_new_tokens=max_new_tokens, repetition_penalty=1.0)
    preds: List[str] = []
    for s in range(0, len(indices), batch_size):
        chunk = list(indices[s:s + batch_size])
        px = normalise(ds.images[chunk].to(device), model.cfg)
        prompts = [tok.encode_prompt(ds.examples[i].question) for i in chunk]
        gen = generate(model, px, prompts, cfg)
        preds.extend(tok.decode(t) for t in gen.tokens)
    return preds


def accuracy(model: StudentVLM, ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
             max_new_tokens: int = 64, device: str = "cpu") -> Dict[str, object]:
    from .judges import rule_verdict  # the one answer rule, shared with the RL judge (judges.py imports us)
    preds = predict(model, ds, indices, batch_size, max_new_tokens, device)
    correct = [bool(rule_verdict(ds.examples[i].question, ds.examples[i].answer, p)) for p, i in zip(preds, indices)]
    by_q: Dict[str, List[bool]] = {}
    for i, c in zip(indices, correct):
        by_q.setdefault(ds.examples[i].question, []).append(c)
    return {"accuracy": sum(correct) / max(1, len(correct)), "n": len(correct),
            "by_question": {q: {"accuracy": sum(v) / len(v), "n": len(v)} for q, v in sorted(by_q.items())},
            "examples": [{"id": ds.examples[i].id, "question": ds.examples[i].question,
                          "answer": ds.examples[i].answer, "prediction": p, "correct": c}
                         for i, p, c in zip(indices, preds, correct)]}


def pick_indices(ds: VQADataset, split: str, limit: Optional[int]) -> List[int]:
    idx = ds.split_indices(split)
    return idx[:limit] if limit else idx


def bundle_accuracy(bundle_dir: str, data_dir: str, split: str = "test", limit: Optional[int] = None,
                    max_new_tokens: int = 64) -> Dict[str, object]:
    """Accuracy of an exported ONNX bundle (what a deployment serves) with the same rule judge as training.

    The graphs run in onnxruntime-node (tools/onnx_greedy.mjs; Python onnxruntime is not a dependency),
    greedy and batch 1 like the serving endpoint; preprocessing and prompts follow the bundle's manifest.
    """
    from .config import ModelConfig, from_dict
    from .export import run_node_greedy
    from .judges import rule_verdict
    with open(os.path.join(bundle_dir, "manifest.json")) as f:
        manifest = json.load(f)
    mcfg = from_dict(ModelConfig, manifest["model_config"])
    ds = VQADataset(data_dir, mcfg, splits=[split])
    indices = pick_indices(ds, split, limit)
    if not indices:
        raise ValueError(f"split {split!r} of {data_dir} has no examples")
    px = normalise(ds.images[indices], mcfg)
    prompts = [tok.encode_prompt(ds.examples[i].question) for i in indices]
    out = run_node_greedy(bundle_dir, px, prompts, max_new_tokens)
    preds = [tok.decode(r["tokens"]) for r in out["results"]]
    correct = [bool(rule_verdict(ds.examples[i].question, ds.examples[i].answer, p)) for p, i in zip(preds, indices)]
    return {"accuracy": sum(correct) / len(correct), "n": len(correct), "ms_per_token": out.get("ms_per_token")}
