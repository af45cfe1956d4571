"""Shared fixtures: a tiny synthetic dataset directory (never the real data) and a nano model."""
import json
import os
import sys

import numpy as np
import pytest
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
torch.set_num_threads(1)
# ranks launched by a test (and the trainers it runs) inherit it: a collective one rank skips fails in 5 minutes
os.environ.setdefault("RIL_DIST_TIMEOUT_S", "300")

from ril_trainer.config import model_config  # noqa: E402
from ril_trainer.model import build_model  # noqa: E402

SHAPES = ["bar", "square"]


def _image(kind: str, rng: np.random.Generator) -> np.ndarray:
    a = (rng.random((28, 28)) * 40).astype(np.uint8)
    if kind == "bar":
        a[4:24, 12:16] = 230
    else:
        a[8:20, 8:20] = 230
    return a


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> str:
    """12 images x 2 questions; splits train/val/test; two teachers with two samples each."""
    root = str(tmp_path_factory.mktemp("data"))
    os.makedirs(os.path.join(root, "images"))
    os.makedirs(os.path.join(root, "teachers"))
    rng = np.random.default_rng(0)
    examples, teach = [], {"alpha": [], "beta": []}
    for k in range(12):
        kind = SHAPES[k % 2]
        split = "train" if k < 8 else ("val" if k < 10 else "test")
        name = f"images/{k:03d}.png"
        Image.fromarray(_image(kind, rng), mode="L").save(os.path.join(root, name))
        for q, a in (("What shape is shown?", kind), ("Is it a bar?", "yes" if kind == "bar" else "no")):
            eid = f"{k:03d}-{len(examples) % 2}"
            examples.append({"id": eid, "image": name, "question": q, "answer": a, "split": split})
            for s in range(2):
                teach["alpha"].append({"example": eid, "teacher": "alpha", "sample": s, "text": f"The answer is {a}."})
                teach["beta"].append({"example": eid, "teacher": "beta", "sample": s, "text": f"I see: {a}!"})
    with open(os.path.join(root, "examples.jsonl"), "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in examples)
    for t, rows in teach.items():
        with open(os.path.join(root, "teachers", f"{t}.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    return root


@pytest.fixture
def nano():
    return build_model(model_config("nano"), seed=0).eval()
