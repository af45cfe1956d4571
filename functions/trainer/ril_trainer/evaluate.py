"""Evaluation: greedy answers scored against the ground truth with the trainer's one answer rule
(``answers.rule_verdict``, also the RL rule judge's), so training and evaluation grade answers alike.
``is_correct`` and ``normalise_text`` are re-exported from ``answers`` for callers that used them here.
"""
from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence

import torch

from . import answers
from . import tokenizer as tok
from .answers import is_correct, normalise_text  # noqa: F401 - re-exported
from .config import SamplingConfig
from .data import VQADataset, normalise
from .model import StudentVLM
from .sampling import generate


@torch.no_grad()
def greedy_tokens(model: StudentVLM, images_u8: torch.Tensor, questions: Sequence[str], max_new_tokens: int = 64,
                  device: str = "cpu") -> List[List[int]]:
    """Greedy token ids (up to and including <eos>) for one batch: uint8 images [B,C,H,W] and their questions.
    The one decoding every evaluation uses (``predict``, suite_eval's RUN subject, training-time suite scoring)."""
    cfg = SamplingConfig(greedy=True, max_new_tokens=max_new_tokens, repetition_penalty=1.0)
    px = normalise(images_u8.to(device), model.cfg)
    prompts = [model.tokenizer.encode_prompt(q) for q in questions]
    return generate(model, px, prompts, cfg).tokens


def response_length(tokens: Sequence[int], eos_id: int) -> int:
    """Tokens of a generated response, its closing <eos> not counted (the length of the text it decodes to)."""
    return len(tokens) - 1 if tokens and tokens[-1] == eos_id else len(tokens)


def predict(model: StudentVLM, ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
            max_new_tokens: int = 64, device: str = "cpu") -> List[str]:
    """Greedy predictions (text) for dataset rows ``indices``."""
    preds: List[str] = []
    for s in range(0, len(indices), batch_size):
        chunk = list(indices[s:s + batch_size])
        tokens = greedy_tokens(model, ds.images[chunk], [ds.examples[i].question for i in chunk], max_new_tokens, device)
        preds.extend(model.tokenizer.decode(t) for t in tokens)
    return preds


def accuracy(model: StudentVLM, ds: VQADataset, indices: Sequence[int], batch_size: int = 64,
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
