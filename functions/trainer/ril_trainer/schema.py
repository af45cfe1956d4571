"""The trainer's config contract as JSON, for the platform (``python3 -m ril_trainer.schema``).

Writes the fields of ``TrainConfig`` with their types, defaults (the paper's), ranges and docstrings.
The platform validates experiment configs against the committed ``functions/trainer/config.schema.json``;
``tests/test_schema.py`` fails when that file is out of date with the dataclasses. Ranges live in
``RANGES`` below (or a field's ``metadata``), next to the fields they constrain.
"""
from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import sys
import typing
from typing import Any, Dict

from . import config as config_module

# Keys the platform sets from the experiment / run, not from the experiment's config.
PLATFORM_KEYS = ["algorithm", "model", "teachers", "seed", "device", "stop_after_step", "init_checkpoint"]

# field -> JSON-schema-style bounds. Anything numeric not listed must merely be a number of the right type.
RANGES: Dict[str, Dict[str, Any]] = {
    "batch_size": {"minimum": 1},
    "max_steps": {"minimum": 1, "maximum": 10_000_000},
    "lr": {"exclusiveMinimum": 0, "maximum": 1},
    "min_lr_ratio": {"minimum": 0, "maximum": 1},
    "warmup_steps": {"minimum": 0},
    "weight_decay": {"minimum": 0, "maximum": 1},
    "grad_clip": {"minimum": 0},
    "max_response_tokens": {"minimum": 0, "maximum": 4096},
    "budget_coverage": {"exclusiveMinimum": 0, "maximum": 1},
    "eval_every": {"minimum": 0},
    "val_loss_examples": {"minimum": 0},
    "val_accuracy_examples": {"minimum": 0},
    "checkpoint_every": {"minimum": 0},
    "log_every": {"minimum": 1},
    "num_threads": {"minimum": 0, "maximum": 256},
    "target": {"enum": ["answer", "teacher"]},
    "train_split": {"enum": ["train", "val", "test"]},
    "val_split": {"enum": ["train", "val", "test"]},
    "algorithm": {"enum": ["sft", "grpo", "dr_grpo", "ril"]},
    "sft_steps": {"minimum": 0},
    "sft_lr": {"exclusiveMinimum": 0, "maximum": 1},
    "rl_lr_schedule": {"enum": ["constant", "cosine"]},
    "questions_per_step": {"minimum": 1},
    "group_size": {"minimum": 2, "maximum": 256},
    "mu": {"minimum": 1, "maximum": 16},
    "policy_minibatches": {"minimum": 1},
    "epsilon": {"exclusiveMinimum": 0, "maximum": 1},
    "beta": {"minimum": 0},
    "kl_tokens": {"enum": ["student", "all"]},
    "rollout_seeding": {"enum": ["auto", "per_question"]},
    "temperature": {"exclusiveMinimum": 0, "maximum": 10},
    "top_p": {"exclusiveMinimum": 0, "maximum": 1},
    "top_k": {"minimum": 0},
    "repetition_penalty": {"exclusiveMinimum": 0, "maximum": 10},
    "disc_input": {"enum": ["response", "question_response"]},
    "disc_lr": {"exclusiveMinimum": 0, "maximum": 1},
    "disc_pretrain_questions": {"minimum": 0},
    "disc_pretrain_samples": {"minimum": 1},
    "disc_pretrain_target_acc": {"minimum": 0, "maximum": 1},
    "disc_pretrain_max_epochs": {"minimum": 0},
    "disc_batch_size": {"minimum": 1},
    "judge": {"enum": ["rule", "llm"]},
    "judge_concurrency": {"minimum": 1, "maximum": 256},
    "judge_retries": {"minimum": 0, "maximum": 20},
    "gpus": {"minimum": 0, "maximum": 64},
    "family": {"enum": ["builtin", "hf"]},
    "dtype": {"enum": ["auto", "bf16", "fp32"]},
    "disc_backbone": {"enum": ["copy", "lora"]},
    "sharding": {"enum": ["none", "fsdp"]},
    "r": {"minimum": 0, "maximum": 1024},
    "alpha": {"minimum": 1},
    "dropout": {"minimum": 0, "maximum": 1},
}


def _field_docs(cls: type) -> Dict[str, str]:
    """Docstrings written under each dataclass field (the attribute-docstring convention)."""
    try:
        tree = ast.parse(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: Dict[str, str] = {}
    for node, nxt in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and isinstance(nxt, ast.Expr) \
                and isinstance(getattr(nxt, "value", None), ast.Constant) and isinstance(nxt.value.value, str):
            docs[node.target.id] = " ".join(nxt.value.value.split())
    return docs


def _json_type(tp: Any) -> Dict[str, Any]:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union and type(None) in args:
        inner = [a for a in args if a is not type(None)][0]
        return {**_json_type(inner), "nullable": True}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if tp is str:
        return {"type": "string"}
    if origin in (list, tuple, typing.List, typing.Tuple):
        item = args[0] if args else Any
        out: Dict[str, Any] = {"type": "array"}
        simple = _json_type(item).get("type")
        if simple in ("integer", "number", "string", "boolean"):
            out["items"] = simple
        return out
    if origin in (dict, typing.Dict):
        return {"type": "object"}
    if dataclasses.is_dataclass(tp):
        return {"type": "object", "fields": describe(tp)}
    return {"type": "string"}


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        value = f.default
    elif f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
        value = f.default_factory()  # type: ignore[misc]
    else:
        return None
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return list(value) if isinstance(value, tuple) else value


def describe(cls: type) -> Dict[str, Any]:
    hints = typing.get_type_hints(cls)
    docs = _field_docs(cls)
    out: Dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        spec = _json_type(hints[f.name])
        if "fields" not in spec:
            spec["default"] = _default(f)
        spec.update(RANGES.get(f.name, {}))
        spec.update({k: v for k, v in f.metadata.items() if k in ("minimum", "maximum", "exclusiveMinimum", "enum")})
        if f.name in docs:
            spec["doc"] = docs[f.name]
        out[f.name] = spec
    return out


def schema() -> Dict[str, Any]:
    return {
        "$comment": "GENERATED by `python3 -m ril_trainer.schema` from ril_trainer/config.py: do not edit",
        "fields": describe(config_module.TrainConfig),
        "platformKeys": PLATFORM_KEYS,
        "sizes": sorted(config_module.SIZES),
    }


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
