"""Dataset directories, image preprocessing and batch building.

Dataset directory (what ``ril datasets export`` / ``ril data fashion-mnist`` write)::

    DIR/dataset.json               optional {"name", "version", "teachers": [...]}
    DIR/examples.jsonl             {"id", "image": "images/x.png", "question", "answer", "split"}
    DIR/images/*.png
    DIR/teachers/<teacher>.jsonl   {"example": id, "teacher": name, "sample": 0, "text": "..."}

Image preprocessing (reproduced exactly by the serving side; also written into the manifest):
decode the PNG to 8-bit, convert to ``channels`` (1: PIL mode "L", 3: "RGB"), require
``image_size`` x ``image_size`` (no resize: an image of another size is an error), scale by
1/255, subtract ``mean[c]``, divide by ``std[c]``, layout CHW float32, batch first.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from PIL import Image

from .config import ModelConfig


# ----------------------------------------------------------------------------------------------
# Preprocessing
# ----------------------------------------------------------------------------------------------


def preprocessing_spec(cfg: ModelConfig) -> dict:
    return {
        "image_size": [cfg.image_size, cfg.image_size],
        "channels": cfg.channels,
        "colour": "grayscale (PIL 'L')" if cfg.channels == 1 else "RGB",
        "resize": "none: images must already be image_size (the trainer rejects other sizes)",
        "scale": 1.0 / 255.0,
        "mean": list(cfg.mean),
        "std": list(cfg.std),
        "formula": "x[c,h,w] = float32((pixel[h,w,c] / 255 - mean[c]) / std[c]) computed in float64",
        "layout": "NCHW float32",
        "alpha": "dropped",
        "sharp": ("sharp(png).removeAlpha()" + (".grayscale().extractChannel(0)" if cfg.channels == 1
                                                   else ".toColourspace('srgb')") + ".raw()  (bytes are HWC)"),
        "reference": "functions/trainer/tools/preprocess.mjs (bit-identical to the trainer, tested)",
    }


def load_image_u8(path: str, cfg: ModelConfig) -> np.ndarray:
    """PNG -> uint8 [C,H,W] at the configured channel count (no resize)."""
    with Image.open(path) as im:
        im = im.convert("L" if cfg.channels == 1 else "RGB")
        if im.size != (cfg.image_size, cfg.image_size):
            raise ValueError(f"{path}: image is {im.size[0]}x{im.size[1]}, model expects "
                             f"{cfg.image_size}x{cfg.image_size} (no resize by design)")
        a = np.array(im, dtype=np.uint8)  # a writable copy
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)  # [C,H,W]


def normalise(images_u8: torch.Tensor, cfg: ModelConfig) -> torch.Tensor:
    """uint8 [B,C,H,W] -> float32 [B,C,H,W] per the preprocessing spec.

    Computed in float64 and rounded once to float32, so a JavaScript implementation (float64
    numbers stored into a Float32Array) produces bit-identical inputs.
    """
    mean = torch.tensor(cfg.mean, dtype=torch.float64, device=images_u8.device).view(1, -1, 1, 1)
    std = torch.tensor(cfg.std, dtype=torch.float64, device=images_u8.device).view(1, -1, 1, 1)
    return ((images_u8.double() / 255.0 - mean) / std).float()


# ----------------------------------------------------------------------------------------------
# Dataset directory
# ----------------------------------------------------------------------------------------------


@dataclass
class Example:
    id: str
    image: str
    question: str
    answer: str
    split: str


def read_examples(root: str) -> List[Example]:
    """The examples of ``root/examples.jsonl`` in file order."""
    out: List[Example] = []
    with open(os.path.join(root, "examples.jsonl")) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(Example(str(d["id"]), d["image"], d["question"], d["answer"], d.get("split", "train")))
            except (ValueError, KeyError) as e:
                raise ValueError(f"{root}/examples.jsonl line {lineno}: {e}") from e
    return out


class VQADataset:
    """All examples of a dataset directory, images decoded once into a uint8 tensor [N,C,H,W].

    cfg None: the images are not decoded here (``images`` is None): a Hugging Face student's processor reads them.
    examples: these examples instead of ``root/examples.jsonl`` (image paths relative to root, or absolute: the cases
    of the ``predict`` command)."""

    def __init__(self, root: str, cfg: Optional[ModelConfig], splits: Optional[Sequence[str]] = None,
                 examples: Optional[Sequence[Example]] = None):
        self.root, self.cfg = root, cfg
        self.examples: List[Example] = [ex for ex in (read_examples(root) if examples is None else examples)
                                        if splits is None or ex.split in splits]
        self.index: Dict[str, int] = {ex.id: i for i, ex in enumerate(self.examples)}
        self.images: Optional[torch.Tensor] = None
        if cfg is None:
            return
        cache: Dict[str, np.ndarray] = {}  # many questions share an image
        arrays = []
        for ex in self.examples:
            if ex.image not in cache:
                cache[ex.image] = load_image_u8(os.path.join(root, ex.image), cfg)
            arrays.append(cache[ex.image])
        shape = (0, cfg.channels, cfg.image_size, cfg.image_size)
        self.images = torch.from_numpy(np.stack(arrays)) if arrays else torch.zeros(shape, dtype=torch.uint8)

    def split_indices(self, split: str) -> List[int]:
        return [i for i, ex in enumerate(self.examples) if ex.split == split]

    def teacher_responses(self, teachers: Sequence[str] = ()) -> Dict[str, List[Tuple[str, str]]]:
        """example id -> [(teacher, text), ...] in file order, for the selected teachers (empty = all)."""
        tdir = os.path.join(self.root, "teachers")
        out: Dict[str, List[Tuple[str, str]]] = {}
        if not os.path.isdir(tdir):
            return out
        names = sorted(n[:-6] for n in os.listdir(tdir) if n.endswith(".jsonl"))
        for name in names:
            if teachers and name not in teachers:
                continue
            with open(os.path.join(tdir, name + ".jsonl")) as f:
                for lineno, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    d = json.loads(line)
                    if d["example"] in self.index:
                        out.setdefault(d["example"], []).append((d.get("teacher", name), d["text"]))
        missing = set(teachers) - set(names)
        if missing:
            raise ValueError(f"teacher cache missing for {sorted(missing)} under {tdir}")
        return out

    def sft_pairs(self, split: str, target: str, teachers: Sequence[str] = ()) -> List[Tuple[int, str]]:
        """(example index, response text) pairs of a split: the answer, or every cached teacher response."""
        idx = self.split_indices(split)
        if target == "answer":
            return [(i, self.examples[i].answer) for i in idx]
        if target == "teacher":
            resp = self.teacher_responses(teachers)
            pairs = [(i, text) for i in idx for _, text in resp.get(self.examples[i].id, [])]
            if not pairs and idx:
                raise ValueError(f"target=teacher but no teacher responses for split {split!r}")
            return pairs
        raise ValueError(f"unknown SFT target {target!r} (answer | teacher)")


def split_texts(root: str, split: str) -> List[str]:
    """Every text of a split without decoding an image: questions, answers and all cached teacher responses
    (what a subword tokenizer is trained on)."""
    ids, texts = set(), []
    with open(os.path.join(root, "examples.jsonl")) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                if d.get("split", "train") == split:
                    ids.add(str(d["id"]))
                    texts += [d["question"], d["answer"]]
    tdir = os.path.join(root, "teachers")
    for name in sorted(os.listdir(tdir)) if os.path.isdir(tdir) else []:
        if name.endswith(".jsonl"):
            with open(os.path.join(tdir, name)) as f:
                texts += [d["text"] for d in map(json.loads, filter(str.strip, f)) if str(d["example"]) in ids]
    return texts


# ----------------------------------------------------------------------------------------------
# Batches
# ----------------------------------------------------------------------------------------------


def pad_prompts(prompts: Sequence[Sequence[int]], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Left-pad prompt ids with pad_id: -> ids [B,L], mask [B,L] (1 = real)."""
    L = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(prompts), L), dtype=torch.long)
    for b, p in enumerate(prompts):
        if p:
            ids[b, L - len(p):] = torch.tensor(list(p), dtype=torch.long)
            mask[b, L - len(p):] = 1
    return ids, mask


def pad_responses(responses: Sequence[Sequence[int]], pad_id: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Right-pad response ids with pad_id: -> ids [B,R], mask [B,R] (1 = real)."""
    R = max(1, max(len(r) for r in responses))
    ids = torch.full((len(responses), R), pad_id, dtype=torch.long)
    mask = torch.zeros((len(responses), R), dtype=torch.long)
    for b, r in enumerate(responses):
        if r:
            ids[b, :len(r)] = torch.tensor(list(r), dtype=torch.long)
            mask[b, :len(r)] = 1
    return ids, mask
