import json
import os

import numpy as np
import pytest
import torch
from PIL import Image

from ril_trainer import tokenizer as tok
from ril_trainer.config import TrainConfig, from_dict, model_config
from ril_trainer.data import VQADataset, load_image_u8, normalise, pad_prompts, pad_responses

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_prompt_and_response_ids_follow_the_spec():
    assert tok.BYTE.encode_prompt("Hé?") == [tok.BOS, 72, 0xC3, 0xA9, 63, tok.SEP]
    assert tok.BYTE.encode_response("ok") == [111, 107, tok.EOS]
    assert tok.BYTE.encode_response("abcdef", max_tokens=3) == [97, 98, 99]
    assert tok.BYTE.decode([72, 0xC3, 0xA9, tok.PAD, tok.EOS, 65]) == "Hé"


def test_tokenizer_json_is_the_spec():
    with open(os.path.join(HERE, "tokenizer.json")) as f:
        assert json.load(f) == json.loads(json.dumps(tok.SPEC))


def test_preprocessing_matches_the_formula(tmp_path):
    cfg = model_config("nano")
    a = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28) % 256
    Image.fromarray(a.astype(np.uint8), mode="L").save(tmp_path / "x.png")
    u8 = load_image_u8(str(tmp_path / "x.png"), cfg)
    assert u8.shape == (1, 28, 28)
    x = normalise(torch.from_numpy(u8)[None], cfg)
    expected = (a.astype(np.float64) / 255.0 - cfg.mean[0]) / cfg.std[0]
    assert np.allclose(x[0, 0].numpy(), expected, atol=1e-6)


def test_wrong_image_size_is_rejected(tmp_path):
    Image.fromarray(np.zeros((32, 32), np.uint8), mode="L").save(tmp_path / "y.png")
    with pytest.raises(ValueError, match="no resize"):
        load_image_u8(str(tmp_path / "y.png"), model_config("nano"))


def test_dataset_pairs(tiny_data):
    ds = VQADataset(tiny_data, model_config("nano"))
    assert ds.images.shape == (24, 1, 28, 28) and ds.images.dtype == torch.uint8
    answers = ds.sft_pairs("train", "answer")
    assert len(answers) == 16 and all(ds.examples[i].answer == a for i, a in answers)
    teacher = ds.sft_pairs("train", "teacher")
    assert len(teacher) == 16 * 4
    only_beta = ds.sft_pairs("train", "teacher", ["beta"])
    assert len(only_beta) == 16 * 2 and all(t.startswith("I see") for _, t in only_beta)
    with pytest.raises(ValueError):
        ds.sft_pairs("train", "teacher", ["gamma"])


def test_padding():
    ids, mask = pad_prompts([[1, 2, 3], [4]], tok.PAD)
    assert ids.tolist() == [[1, 2, 3], [tok.PAD, tok.PAD, 4]] and mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    ids, mask = pad_responses([[1], [2, 3]], tok.PAD)
    assert ids.tolist() == [[1, tok.PAD], [2, 3]] and mask.tolist() == [[1, 0], [1, 1]]


def test_config_files_load_and_unknown_keys_fail():
    for name in os.listdir(os.path.join(HERE, "configs")):
        with open(os.path.join(HERE, "configs", name)) as f:
            cfg = from_dict(TrainConfig, json.load(f))
        model_config(cfg.model, **cfg.model_overrides)
    with pytest.raises(ValueError, match="unknown"):
        from_dict(TrainConfig, {"learning_rate": 1.0})
