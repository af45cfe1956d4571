"""replicate.run_cli: a finished run is reused, an interrupted one resumes with its early events kept, and a run
directory left by another config starts clean (the bug that once lost the GRPO / Dr.GRPO curves: the old stdout was
overwritten, and another config's checkpoint resumed)."""
import json
import os

from ril_trainer import replicate

BASE = {"model": "nano", "algorithm": "sft", "batch_size": 8, "warmup_steps": 1, "eval_every": 0, "log_every": 1,
        "checkpoint_every": 2, "val_accuracy_examples": 0, "val_loss_examples": 4, "num_threads": 1, "device": "cpu",
        "max_steps": 4}


def losses(events):
    return [e["step"] for e in events if e.get("event") == "metric" and e["name"] == "train/loss"]


def test_finished_reused_interrupted_resumed_other_config_clean(tiny_data, tmp_path):
    out = str(tmp_path / "run")
    # a run of BASE interrupted after its step-2 checkpoint: what a killed replication leaves (its config, its
    # checkpoint, its events so far, no "done")
    replicate.run_cli({**BASE, "stop_after_step": 2}, tiny_data, out)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(BASE, f)
    with open(os.path.join(out, "stdout.jsonl")) as f:
        kept = [line for line in f if '"event": "done"' not in line and '"event":"done"' not in line]
    with open(os.path.join(out, "stdout.jsonl"), "w") as f:
        f.writelines(kept)
    assert losses([json.loads(line) for line in kept if line.startswith("{")]) == [1, 2]

    resumed = replicate.run_cli(BASE, tiny_data, out)
    assert losses(resumed) == [1, 2, 3, 4], "the early steps are kept, the run resumed at its checkpoint"
    assert resumed[-1]["event"] == "done"
    # finished: reused as it is (nothing runs: the events file is not touched)
    mtime = os.path.getmtime(os.path.join(out, "stdout.jsonl"))
    assert replicate.run_cli(BASE, tiny_data, out) == resumed
    assert os.path.getmtime(os.path.join(out, "stdout.jsonl")) == mtime
    # another config in the same directory: a clean run of 3 steps, not a resume of the finished 4-step checkpoint
    other = replicate.run_cli({**BASE, "max_steps": 3, "lr": 0.002}, tiny_data, out)
    assert losses(other) == [1, 2, 3]
    assert other[-1]["event"] == "done" and other[-1]["step"] == 3
