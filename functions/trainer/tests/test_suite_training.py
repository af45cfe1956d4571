"""Training-time suite scoring (`train --eval-suite FILE`): eval/suite/<name>/<key> and /avg at the expected steps,
avg = the mean of the datasets' accuracies (each = evaluate.predict + rule_verdict), the same values after a resume,
and the RL path."""
import json
import os
import subprocess
import sys

import pytest

from ril_trainer import checkpoint as ckpt
from ril_trainer import rl
from ril_trainer.answers import rule_verdict
from ril_trainer.config import TrainConfig
from ril_trainer.data import VQADataset
from ril_trainer.evaluate import pick_indices, predict
from ril_trainer.sft import train
from ril_trainer.suite_eval import TrainingSuite
from suite_helpers import make_dataset

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def events(out: str):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def suite_points(ev, name="fm-bench"):
    """{(step, metric): value} of the suite's metrics."""
    return {(e["step"], e["name"]): e["value"] for e in ev if e["event"] == "metric" and e["name"].startswith(f"eval/suite/{name}/")}


@pytest.fixture(scope="module")
def suite_file(tiny_data, tmp_path_factory):
    root = tmp_path_factory.mktemp("suite")
    # a second dataset of tiny_data's shape question (its images are noise), the first 5 scored
    q = "What shape is shown?"
    make_dataset(str(root / "other"), [("test", q, "square")] * 3 + [("val", q, "bar")] + [("test", q, "bar")] * 3)
    path = root / "eval_suite.json"
    path.write_text(json.dumps({"name": "fm-bench", "version": 1, "datasets": [
        {"key": "0-shapes-v1-test", "data_dir": tiny_data, "split": "test", "limit": None},
        {"key": "1-other-v1-test", "data_dir": "other", "split": "test", "limit": 5}]}))  # relative to the file
    return str(path)


def expected_scores(model, suite_file, max_new_tokens):
    suite = TrainingSuite.read(suite_file)
    out = {}
    for sd in suite.datasets:
        ds = VQADataset(sd.data_dir, model.cfg, splits=[sd.split])
        idx = pick_indices(ds, sd.split, sd.limit)
        preds = predict(model, ds, idx, batch_size=8, max_new_tokens=max_new_tokens)
        out[sd.key] = sum(rule_verdict(ds.examples[i].question, ds.examples[i].answer, p) for i, p in zip(idx, preds)) / len(idx)
    return out


def sft_cfg(**kw) -> TrainConfig:
    base = dict(model="nano", batch_size=8, max_steps=4, warmup_steps=1, eval_every=0, checkpoint_every=100, log_every=2,
                val_loss_examples=4, val_accuracy_examples=0, max_response_tokens=6, device="cpu", num_threads=1,
                eval_suite="fm-bench@1", eval_suite_every=2)
    base.update(kw)
    return TrainConfig(**base)


def test_sft_scores_the_suite_every_n_steps_and_at_the_end(tiny_data, suite_file, tmp_path, capsys):
    train(sft_cfg(max_steps=5), tiny_data, str(tmp_path / "full"), eval_suite=suite_file)
    full = suite_points(events(capsys.readouterr().out))
    keys = ["eval/suite/fm-bench/0-shapes-v1-test", "eval/suite/fm-bench/1-other-v1-test", "eval/suite/fm-bench/avg"]
    assert sorted(full) == sorted((s, k) for s in (2, 4, 5) for k in keys)  # every 2 steps and at the end
    assert 0 < full[(5, keys[0])] != full[(5, keys[1])] > 0  # two different, non-zero columns
    for s in (2, 4, 5):
        assert full[(s, keys[2])] == pytest.approx((full[(s, keys[0])] + full[(s, keys[1])]) / 2)
    model = ckpt.load_model(str(tmp_path / "full" / "checkpoint.pt"))
    want = expected_scores(model, suite_file, 6)
    assert {k: full[(5, f"eval/suite/fm-bench/{k}")] for k in want} == pytest.approx(want)

    # stopped at 3 and resumed: every step's value is the uninterrupted run's (the API keeps one per step)
    train(sft_cfg(max_steps=5, stop_after_step=3), tiny_data, str(tmp_path / "part"), eval_suite=suite_file)
    first = suite_points(events(capsys.readouterr().out))
    train(sft_cfg(max_steps=5), tiny_data, str(tmp_path / "part"), eval_suite=suite_file)
    second = suite_points(events(capsys.readouterr().out))
    assert sorted(first) == [(2, k) for k in sorted(keys)] and sorted(second) == sorted((s, k) for s in (4, 5) for k in keys)
    assert {**first, **second} == full


def test_only_at_the_end_with_every_0_and_through_the_cli(tiny_data, suite_file, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"model": "nano", "batch_size": 8, "max_steps": 3, "warmup_steps": 1, "eval_every": 0,
                               "log_every": 1, "val_accuracy_examples": 0, "max_response_tokens": 6, "num_threads": 1,
                               "eval_suite": "fm-bench", "eval_suite_every": 0}))
    r = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(cfg), "--data", tiny_data,
                        "--out", str(tmp_path / "run"), "--device", "cpu", "--eval-suite", suite_file],
                       cwd=HERE, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    points = suite_points(events(r.stdout))
    assert {s for s, _ in points} == {3} and len(points) == 3


def test_rl_scores_the_suite_in_both_phases(tiny_data, suite_file, tmp_path, capsys):
    cfg = TrainConfig(algorithm="grpo", model="nano", questions_per_step=2, group_size=2, max_response_tokens=6,
                      max_steps=3, sft_steps=1, batch_size=4, val_loss_examples=4, eval_every=0, val_accuracy_examples=0,
                      checkpoint_every=100, warmup_steps=0, lr=1e-3, device="cpu", num_threads=1, eval_suite_every=1)
    rl.train(cfg, tiny_data, str(tmp_path), eval_suite=suite_file)
    points = suite_points(events(capsys.readouterr().out))
    assert {s for s, _ in points} == {1, 2, 3}  # step 1 in the SFT warm start, 2 and 3 in the RL phase
    model = ckpt.load_model(str(tmp_path / "checkpoint.pt"))
    want = expected_scores(model, suite_file, 6)
    assert {k: points[(3, f"eval/suite/fm-bench/{k}")] for k in want} == pytest.approx(want)
    assert points[(3, "eval/suite/fm-bench/avg")] == pytest.approx(sum(want.values()) / 2)


def test_a_bad_suite_file_is_refused_before_training(tiny_data, tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"name": "s", "datasets": [{"key": "avg", "data_dir": tiny_data, "split": "test"}]}))
    with pytest.raises(ValueError, match="not 'avg'"):
        train(sft_cfg(), tiny_data, str(tmp_path / "run"), eval_suite=str(path))
