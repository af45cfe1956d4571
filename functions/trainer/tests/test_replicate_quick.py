"""The replication's --quick variant end to end (CI runs it): data, the SFT students, every method and ablation,
the referee, scoring of the whole (small) test split, the paired bootstrap, the tables and the curves; then
checks that what it wrote is consistent with its own per-question verdicts."""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ril_trainer import replicate

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEEDS = [p for p in ("/usr/share/datasets/fashion-mnist",) if not os.path.isdir(os.environ.get("RIL_FASHION_MNIST_DIR", p))]


@pytest.mark.skipif(bool(NEEDS) or shutil.which("node") is None, reason="needs node and Debian's dataset-fashion-mnist")
def test_quick_replication_writes_consistent_tables(tmp_path):
    out, runs, data = tmp_path / "out", tmp_path / "runs", tmp_path / "data"
    r = subprocess.run([sys.executable, "-m", "ril_trainer.replicate", "--quick", "--out", str(out), "--runs", str(runs),
                        "--data", str(data)], cwd=HERE, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    n_test = res["data_facts"]["test_questions"]
    assert len(res["question_ids"]) == n_test  # the whole test split, not a prefix

    methods = list(replicate.METHODS) + [label for label, _ in replicate.ABLATIONS.values()]
    for m in methods:
        assert len(res["verdicts"][m]) == len(replicate.BUDGETS["quick"]["seeds"]), m
        for v in res["verdicts"][m]:
            assert len(v["correct"]) == n_test and set(v["correct"]) <= {0, 1}
            assert len(v["teacher_like"]) == n_test  # the referee scored every answer of every row

    # the bootstrap's point estimates are the plain means of the verdicts, and the headline difference is paired
    st = res["stats"]["overall"]
    mean = {m: float(np.mean(res["verdicts"][m][0]["correct"])) for m in res["verdicts"]}
    for m, cell in st["methods"].items():
        assert cell["mean"] == pytest.approx(mean[m]) and cell["lo"] <= cell["mean"] <= cell["hi"]
    head = " - ".join(replicate.HEADLINE)
    assert st["pairs"][head]["diff"] == pytest.approx(mean[replicate.HEADLINE[0]] - mean[replicate.HEADLINE[1]])
    start = [m for m in res["verdicts"] if m.startswith("SFT student (fluent")][0]
    assert res["stats"]["headroom_questions"] == n_test - sum(res["verdicts"][start][0]["correct"])

    # every RL run started from the fluent BPE student, for one budget of steps, with the paper's constant lr
    assert res["sft"]["fluent"]["tokenizer"] == "bpe" and res["sft"]["fluent"]["target"] == "teacher"
    for run in res["runs"]:
        c = run["config"]
        assert c["init_checkpoint"].endswith(os.path.join("sft-fluent", "checkpoint.pt"))
        assert c["max_steps"] == res["rl_steps"] and c["rl_lr_schedule"] == "constant"
    table = (out / "table.md").read_text()
    assert f"| {head} |" in table and "headroom accuracy" in table
    for png in ("answer_reward.png", "sim_reward.png", "rollout_len.png"):
        assert (out / png).stat().st_size > 1000
