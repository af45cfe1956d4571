"""The manifest's preprocessing, run by sharp in Node, gives bit-identical pixel_values to the trainer."""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

from ril_trainer.config import model_config
from ril_trainer.data import load_image_u8, normalise, preprocessing_spec

TOOLS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools")


def sharp_reason():
    if shutil.which("node") is None:
        return "node is not on PATH"
    r = subprocess.run(["node", "--input-type=module", "-e", "await import('sharp')"], cwd=TOOLS,
                       capture_output=True, text=True)
    return None if r.returncode == 0 else "sharp cannot be imported: " + r.stderr[-200:]


REASON = sharp_reason()


@pytest.mark.skipif(REASON is not None, reason=f"needs node + sharp: {REASON}")
@pytest.mark.parametrize("channels", [1, 3])
def test_sharp_preprocessing_is_bit_identical(tmp_path, channels):
    cfg = model_config("nano", channels=channels, mean=(0.3,) * channels if channels == 1 else (0.48, 0.45, 0.40),
                       std=(0.35,) if channels == 1 else (0.27, 0.26, 0.28))
    (tmp_path / "manifest.json").write_text(json.dumps({"preprocessing": preprocessing_spec(cfg)}))
    rng = np.random.default_rng(channels)
    paths = []
    for k, mode in enumerate(["L", "RGB", "RGBA"]):  # stored formats differ from the model's channels
        shape = (28, 28) if mode == "L" else (28, 28, len(mode))
        arr = rng.integers(0, 256, shape, dtype=np.uint8)
        if mode == "RGB" and channels == 1:
            arr[..., 1] = arr[..., 2] = arr[..., 0]  # grey stored as RGB: colour->grey formulas agree only on grey
        if mode == "RGBA":
            arr[..., 3] = 255
            if channels == 1:
                arr[..., 1] = arr[..., 2] = arr[..., 0]
        p = str(tmp_path / f"{k}.png")
        Image.fromarray(arr, mode=mode).save(p)
        paths.append(p)
    r = subprocess.run(["node", os.path.join(TOOLS, "preprocess.mjs"), "--bundle", str(tmp_path), *paths],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    node = torch.tensor([im["pixel_values"] for im in json.loads(r.stdout)["images"]], dtype=torch.float32)
    ours = normalise(torch.from_numpy(np.stack([load_image_u8(p, cfg) for p in paths])), cfg).reshape(3, -1)
    assert torch.equal(node, ours)
