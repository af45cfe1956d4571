"""Evaluating Hugging Face students' checkpoints in PyTorch: ``eval`` and ``predict`` (students/load.py restores the base
model + the checkpoint's LoRA adapters or weights) and evaluation suites scored during training (suite_eval.TrainingSuite
through the Student interface).

A tiny random SmolVLM (hf_tiny.py) trains a few SFT steps into a checkpoint; its answers through the CLI must be the
answers of an HFStudent rebuilt here from the base model and the checkpoint's weights. Needs transformers + peft
(.venv-hf): skipped with the reason under Debian's torch 1.13.
"""
import json
import os

import pytest

pytest.importorskip("transformers", reason="Hugging Face students need transformers (.venv-hf: scripts/ensure-hf.sh); "
                                           "the built-in family's venv has none")
pytest.importorskip("peft", reason="Hugging Face students' LoRA needs peft (.venv-hf)")

import hf_tiny  # noqa: E402
from ril_trainer import checkpoint as ckpt  # noqa: E402
from ril_trainer.__main__ import main  # noqa: E402
from ril_trainer.answers import rule_verdict  # noqa: E402
from ril_trainer.config import LoraConfig, StudentConfig, TrainConfig  # noqa: E402
from ril_trainer.evaluate import response_length  # noqa: E402
from ril_trainer.students import greedy_responses  # noqa: E402
from ril_trainer.students.hf import HFStudent  # noqa: E402
from ril_trainer.students.load import load_student  # noqa: E402
from ril_trainer.suite_eval import TrainingSuite  # noqa: E402
from ril_trainer.train import train  # noqa: E402

BUDGET = 6


@pytest.fixture(scope="module")
def smolvlm(tmp_path_factory):
    return hf_tiny.smolvlm(str(tmp_path_factory.mktemp("hf_eval") / "smolvlm"))


def cfg_of(model_dir: str, r: int, **kw) -> TrainConfig:
    base = dict(algorithm="sft", target="answer", max_steps=4, lr=2e-2, warmup_steps=0, batch_size=8, eval_every=0,
                checkpoint_every=100, val_loss_examples=2, val_accuracy_examples=0, max_response_tokens=BUDGET,
                device="cpu", num_threads=1, questions_per_step=2, group_size=2,
                student=StudentConfig(family="hf", model=model_dir, lora=LoraConfig(r=r, alpha=8, dropout=0.0)))
    base.update(kw)
    return TrainConfig(**base)


def events(out: str):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def direct_answers(cfg: TrainConfig, weights, data_dir: str, split: str, batch_size: int = 1):
    """Greedy answers of an HFStudent built here from the base model with ``weights`` loaded (None: the base model
    as it is), one row a batch: (student, dataset, rows, token lists)."""
    st = HFStudent.load(cfg, "cpu", with_reference=False)
    if weights is not None:
        st.load_weights(weights)
    ds = st.dataset(data_dir, [split])
    rows = ds.split_indices(split)
    return st, ds, rows, greedy_responses(st, ds, rows, batch_size, BUDGET)


@pytest.mark.parametrize("r", [4, 0], ids=["lora", "full"])
def test_eval_and_predict_of_an_hf_checkpoint_answer_like_the_restored_student(smolvlm, tiny_data, tmp_path, capsys, r):
    cfg = cfg_of(smolvlm, r)
    train(cfg, tiny_data, str(tmp_path / "run"))
    capsys.readouterr()
    path = str(tmp_path / "run" / "checkpoint.pt")
    state = ckpt.load(path)
    assert ckpt.student_family(state) == "hf" and state["step"] == 4
    if r:
        assert state["model"] and all("lora_" in k for k in state["model"])  # the checkpoint holds the adapters only

    st, ds, rows, tokens = direct_answers(cfg, state["model"], tiny_data, "train")
    texts = [st.tokenizer.decode(t) for t in tokens]
    # the trained weights are really restored: the base model (LoRA: the adapters' B = 0) answers otherwise
    _, _, _, base = direct_answers(cfg, None, tiny_data, "train")
    assert base != tokens
    # ... and load_student is that student (eval mode, no reference)
    restored, payload = load_student(path)
    assert payload["step"] == 4 and not restored.policy.training
    assert greedy_responses(restored, ds, rows, 16, BUDGET) == tokens  # batched = one row at a time

    # eval: accuracy and predictions of the restored student under the rule judge, in the built-in output format
    out = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", path, "--data", tiny_data, "--split", "train", "--device", "cpu",
                 "--batch-size", "5", "--out", str(out)]) == 0
    ev = events(capsys.readouterr().out)
    correct = [bool(rule_verdict(ds.examples[i].question, ds.examples[i].answer, t)) for i, t in zip(rows, texts)]
    assert [e["event"] for e in ev] == ["metric", "result"]
    assert ev[0] == {"event": "metric", "step": 4, "name": "eval/train/accuracy", "value": sum(correct) / len(rows)}
    assert ev[1]["accuracy"] == sum(correct) / len(rows) and ev[1]["n"] == len(rows) and set(ev[1]["by_question"]) == \
        {ds.examples[i].question for i in rows}
    res = json.loads(out.read_text())
    assert [x["prediction"] for x in res["examples"]] == texts and [x["correct"] for x in res["examples"]] == correct
    assert [x["id"] for x in res["examples"]] == [ds.examples[i].id for i in rows]

    # predict: the same answers to cases given as absolute image paths, one line per batch, token counts without the stop id
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"id": ds.examples[i].id, "image": os.path.join(tiny_data, ds.examples[i].image),
                                         "question": ds.examples[i].question}) + "\n" for i in rows))
    assert main(["predict", "--checkpoint", path, "--cases", str(cases), "--device", "cpu", "--batch-size", "3"]) == 0
    ev = events(capsys.readouterr().out)
    batches = [e["answers"] for e in ev if e["event"] == "answers"]
    assert [len(b) for b in batches] == [3, 3, 3, 3, 3, 1] and ev[-1] == {"event": "done", "n": 16, "max_new_tokens": BUDGET}
    answers = [a for b in batches for a in b]
    assert [a["id"] for a in answers] == [ds.examples[i].id for i in rows]
    assert [a["text"] for a in answers] == texts
    assert [a["tokens"] for a in answers] == [response_length(t, st.tokenizer.stop_ids) for t in tokens]


@pytest.mark.parametrize("algorithm,r", [("sft", 4), ("dr_grpo", 0)])
def test_training_scores_an_eval_suite_for_an_hf_student(smolvlm, tiny_data, tmp_path, capsys, algorithm, r):
    suite_file = tmp_path / "eval_suite.json"
    suite_file.write_text(json.dumps({"name": "hf-bench", "version": 1, "datasets": [
        {"key": "test", "data_dir": tiny_data, "split": "test", "limit": None},
        {"key": "train3", "data_dir": tiny_data, "split": "train", "limit": 3}]}))
    cfg = cfg_of(smolvlm, r, algorithm=algorithm, max_steps=3, eval_suite="hf-bench@1", eval_suite_every=2)
    train(cfg, tiny_data, str(tmp_path / "run"), eval_suite=str(suite_file))  # train.py no longer refuses hf + suite
    ev = events(capsys.readouterr().out)
    points = {(e["step"], e["name"]): e["value"] for e in ev if e["event"] == "metric" and e["name"].startswith("eval/suite/")}
    keys = ["eval/suite/hf-bench/test", "eval/suite/hf-bench/train3", "eval/suite/hf-bench/avg"]
    assert sorted(points) == sorted((s, k) for s in (2, 3) for k in keys)  # every 2 steps and at the end
    for s in (2, 3):
        assert points[(s, keys[2])] == pytest.approx((points[(s, keys[0])] + points[(s, keys[1])]) / 2)
    # the end-of-run values are the final checkpoint's, scored through the same Student path as eval / predict
    student, _ = load_student(str(tmp_path / "run" / "checkpoint.pt"))
    want = TrainingSuite.read(str(suite_file)).score(student, BUDGET)
    assert {k: points[(3, k)] for k in keys} == pytest.approx(want)
