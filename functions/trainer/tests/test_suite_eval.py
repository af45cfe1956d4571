"""Suite scoring (suite_eval.py): the RUN subject (a checkpoint, in this process and in the `predict` child) equals
evaluate.predict + rule_verdict; the EXTERNAL subject against a local chat endpoint with an LLM judge on another;
the TEACHER subject from a teachers jsonl; resume (stored records are not re-scored); the missing-teacher error."""
import json
import os
import sys

import pytest

from ril_trainer import checkpoint as ckpt
from ril_trainer.answers import rule_verdict
from ril_trainer.config import model_config
from ril_trainer.data import VQADataset
from ril_trainer.evaluate import pick_indices, predict
from ril_trainer.model import build_model
from ril_trainer.suite_eval import (CheckpointProcessSubject, CheckpointSubject, Entry, ExternalSubject, MemoryStore,
                                    Record, TeacherSubject, entry_cases, entry_judge, judge_cache_path, score_entry,
                                    score_suite, suite_result)
from suite_helpers import image_sha, judge_fields, make_dataset, request_image_sha, request_question, servers  # noqa: F401 - a fixture

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
Q = ["What shape is shown?", "Is it a bar?", "How many squares?"]


@pytest.fixture
def allow_local(monkeypatch):
    # the operator allows the local endpoints' host (outbound calls may not reach loopback otherwise)
    monkeypatch.setenv("RIL_OUTBOUND_ALLOW_HOSTS", "127.0.0.1")
    monkeypatch.setenv("RIL_SECRET_ENV_ALLOWLIST", "SUBJECT_KEY,RIL_JUDGE_KEY,RIL_API_KEY")
    monkeypatch.setenv("SUBJECT_KEY", "subject-sekrit")
    monkeypatch.setenv("RIL_JUDGE_KEY", "judge-sekrit")  # any name the operator lists (as the API accepts it)
    monkeypatch.setenv("RIL_API_KEY", "ril_platform")




# ----------------------------------------------------------------------------------------------
# RUN: a checkpoint
# ----------------------------------------------------------------------------------------------


def test_run_subject_scores_like_predict_and_the_rule(tmp_path):
    model = build_model(model_config("nano"), seed=3).eval()
    path = str(tmp_path / "checkpoint.pt")
    ckpt.save(path, model, train_config={"max_response_tokens": 6})  # the trained budget: max_new_tokens
    rows = [("test", Q[i % 3], "x") for i in range(10)] + [("val", Q[0], "x")]
    data = make_dataset(str(tmp_path / "data"), rows)
    ds = VQADataset(data, model.cfg, splits=["test"])
    idx = pick_indices(ds, "test", 9)
    preds = predict(model, ds, idx, batch_size=4, max_new_tokens=6)
    # half the answers are the model's own text (right by construction), half a word it never says
    answers = {ds.examples[i].id: (p if k % 2 == 0 else "zebra") for k, (i, p) in enumerate(zip(idx, preds))}
    with open(os.path.join(data, "examples.jsonl")) as f:
        lines = [json.loads(line) for line in f]
    with open(os.path.join(data, "examples.jsonl"), "w") as f:
        f.writelines(json.dumps({**d, "answer": answers.get(d["id"], d["answer"])}) + "\n" for d in lines)
    expected = sum(rule_verdict(ds.examples[i].question, answers[ds.examples[i].id], p) for i, p in zip(idx, preds)) / 9
    assert 0 < expected < 1

    cases = entry_cases(data, "test", 9)
    assert [c.id for c in cases] == [ds.examples[i].id for i in idx]  # dataset order, the first sampleLimit
    store = MemoryStore()
    res = score_entry(Entry("e1", "tiny/test", cases, entry_judge({"kind": "RULE"}, str(tmp_path))),
                      CheckpointSubject(path, batch_size=4), store)
    assert res.accuracy == pytest.approx(expected) and res.n == 9 and res.scored == 9
    assert [n for _, n in store.calls] == [4, 4, 1]  # one record call per generation batch
    recs = store.records["e1"]
    assert [recs[ds.examples[i].id].response for i in idx] == preds
    assert all(0 <= r.tokens <= 6 for r in recs.values())
    assert res.mean_response_length == pytest.approx(sum(r.tokens for r in recs.values()) / 9)
    assert store.results["e1"]["n"] == 9

    # the worker's subject: the same decoding in a `python3 -m ril_trainer predict` child, one line per batch
    child = MemoryStore()
    sub = CheckpointProcessSubject(sys.executable, path, HERE, str(tmp_path / "work"), batch_size=4, device="cpu")
    res2 = score_entry(Entry("e1", "tiny/test", cases, entry_judge({"kind": "RULE"}, str(tmp_path))), sub, child)
    assert child.records["e1"] == recs and res2.accuracy == res.accuracy
    assert [n for _, n in child.calls] == [4, 4, 1]


# ----------------------------------------------------------------------------------------------
# EXTERNAL: an OpenAI-compatible endpoint, judged by an LLM on another one
# ----------------------------------------------------------------------------------------------


def external_fixture(tmp_path, servers, n=8):
    rows = [("test", Q[i % 2], ["bar", "no"][i % 2]) for i in range(n)]
    data = make_dataset(str(tmp_path / "data"), rows)
    cases = entry_cases(data, "test", None)
    # scripted answers by (question, image): the answer text names the case
    script = {(c.question, image_sha(c.image)): f"answer-{c.id}" for c in cases}

    def subject_reply(body):
        text = script[(request_question(body), request_image_sha(body))]
        return text, (len(text) if int(text.split("-e")[1]) % 3 else None)  # usage on some replies only
    subject = servers(subject_reply)
    right = {"answer-e0", "answer-e1", "answer-e3", "answer-e6"}  # the judge's script decides

    def judge_reply(body):
        _, generated = judge_fields(body)
        return f"Checked. <answer>{int(generated in right)}</answer>", None
    judge = servers(judge_reply)
    return data, cases, subject, judge, right


def test_external_subject_with_an_llm_judge(tmp_path, servers, allow_local):
    data, cases, subject, judge, right = external_fixture(tmp_path, servers)
    store = MemoryStore()
    spec = {"kind": "LLM", "endpoint": judge.url, "model": "judge-m", "apiKeyEnv": "RIL_JUDGE_KEY"}
    entry = Entry("e1", "ext/test", cases, entry_judge(spec, str(tmp_path / "cache")))
    sub = ExternalSubject(subject.url, "vlm-m", "subject-sekrit", concurrency=3)
    res = score_entry(entry, sub, store)
    assert res.accuracy == pytest.approx(len(right) / 8) and res.n == 8
    assert all(n == 1 for _, n in store.calls) and len(store.calls) == 8  # each case recorded on its own
    recs = store.records["e1"]
    assert {r.id: r.correct for r in recs.values()} == {c.id: f"answer-{c.id}" in right for c in cases}
    tokens = {c.id: (len(f"answer-{c.id}") if int(c.id[1:]) % 3 else None) for c in cases}
    assert {r.id: r.tokens for r in recs.values()} == tokens
    lengths = [t for t in tokens.values() if t is not None]
    assert res.mean_response_length == pytest.approx(sum(lengths) / len(lengths))
    # the request: OpenAI chat format, the image as a PNG data URL, the key from the environment
    path, auth, body = subject.requests[0]
    assert path == "/v1/chat/completions" and auth == "Bearer subject-sekrit"
    assert body["model"] == "vlm-m" and body["max_tokens"] == 256 and body["temperature"] == 0
    assert body["messages"][0]["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert len(subject.requests) == 8 and len(judge.requests) == 8
    assert judge.requests[0][1] == "Bearer judge-sekrit" and judge.requests[0][2]["model"] == "judge-m"
    # verdicts are cached by their inputs in the worker cache: a judge made again (a resumed job) never re-asks
    cache = judge_cache_path(str(tmp_path / "cache"), judge.url, "judge-m")
    assert sum(1 for _ in open(cache)) == 8
    again = entry_judge(spec, str(tmp_path / "cache"))
    assert again.grade([(c.question, c.answer, f"answer-{c.id}") for c in cases]) == \
        [int(f"answer-{c.id}" in right) for c in cases]
    assert len(judge.requests) == 8


def test_endpoint_keys_come_from_listed_variables_only(allow_local, monkeypatch):
    from ril_trainer.suite_eval import endpoint_key
    assert endpoint_key("SUBJECT_KEY", "x") == "subject-sekrit" and endpoint_key(None, "x") is None
    with pytest.raises(ValueError, match="RIL_SECRET_ENV_ALLOWLIST"):
        endpoint_key("HOME", "apiKeyEnv")  # set, but not listed
    with pytest.raises(ValueError, match="RIL_SECRET_ENV_ALLOWLIST"):
        endpoint_key("RIL_API_KEY", "apiKeyEnv")  # the worker's platform key, even when listed
    monkeypatch.delenv("SUBJECT_KEY")
    with pytest.raises(ValueError, match="not set in the worker's environment"):
        endpoint_key("SUBJECT_KEY", "apiKeyEnv")


def test_resume_scores_only_the_missing_examples(tmp_path, servers, allow_local):
    data, cases, subject, judge, right = external_fixture(tmp_path, servers)
    store = MemoryStore()
    # three records stored by an earlier attempt; one says "correct" where the judge would say no: it is kept
    stored = [Record("e0", "answer-e0", True, 9), Record("e2", "answer-e2", True, None), Record("e5", "answer-e5", False, 9)]
    store.record("e1", stored)
    spec = {"kind": "LLM", "endpoint": judge.url, "model": "judge-m"}
    entry = Entry("e1", "ext/test", cases, entry_judge(spec, str(tmp_path / "cache")))
    seen = []
    res = score_entry(entry, ExternalSubject(subject.url, "vlm-m", concurrency=2), store, progress=seen.append)
    asked = sorted(request_image_sha(b) for _, _, b in subject.requests)
    assert asked == sorted(image_sha(c.image) for c in cases if c.id not in {"e0", "e2", "e5"})
    assert len(judge.requests) == 5 and res.scored == 5 and seen[0] == 3 and sum(seen) == 8
    correct = {c.id: f"answer-{c.id}" in right for c in cases}
    correct.update({"e0": True, "e2": True, "e5": False})
    assert res.n == 8 and res.accuracy == pytest.approx(sum(correct.values()) / 8)
    assert store.records["e1"]["e2"].response == "answer-e2"
    # everything stored: nothing is asked, the result is written again from the records
    n_subject, n_judge = len(subject.requests), len(judge.requests)
    res2 = score_entry(entry, ExternalSubject(subject.url, "vlm-m"), store)
    assert (len(subject.requests), len(judge.requests)) == (n_subject, n_judge)
    assert (res2.accuracy, res2.n, res2.scored) == (res.accuracy, 8, 0)


def test_a_failing_endpoint_keeps_what_was_recorded(tmp_path, servers, allow_local):
    data, cases, subject, judge, right = external_fixture(tmp_path, servers)
    subject.hang_from = 4  # requests 4.. wait, then answer 503 (with retries 0: an error)
    subject.release.set()
    store = MemoryStore()
    sub = ExternalSubject(subject.url, "vlm-m", concurrency=1, retries=0)
    with pytest.raises(RuntimeError, match="HTTP 503"):
        score_entry(Entry("e1", "ext/test", cases, entry_judge(None, "")), sub, store)
    assert sorted(store.records["e1"]) == ["e0", "e1", "e2"] and "e1" not in store.results


# ----------------------------------------------------------------------------------------------
# TEACHER: cached responses
# ----------------------------------------------------------------------------------------------


def test_teacher_subject_scores_sample_zero(tmp_path):
    rows = [("test", Q[0], a) for a in ("bar", "square", "bar", "square")]
    teach = [{"example": f"e{i}", "teacher": "alpha", "sample": s, "text": text}
             for i, (s0, s1) in enumerate([("a bar", "a square"), ("a bar", "a square"), ("a bar", "bar"), ("no idea", "square")])
             for s, text in ((1, s1), (0, s0))]  # sample 1 written first: sample 0 is picked by number, not order
    data = make_dataset(str(tmp_path / "d"), rows, {"alpha": teach})
    cases = entry_cases(data, "test")
    store = MemoryStore()
    [res] = score_suite([Entry("e1", "d/test", cases, entry_judge({"kind": "RULE"}, ""), data)],
                        lambda e: TeacherSubject(e.data_dir, "alpha", e.label), store)
    assert res.accuracy == pytest.approx(2 / 4) and res.mean_response_length is None  # e0, e2 right
    assert store.records["e1"]["e3"].response == "no idea"
    out = suite_result("fm-bench", 1, "TEACHER", [res])
    assert out == {"suite": "fm-bench", "version": 1, "subject": "TEACHER", "average": 0.5,
                   "results": [{"entryId": "e1", "label": "d/test", "accuracy": 0.5, "n": 4, "meanResponseLength": None}]}


def test_a_missing_teacher_response_fails_before_anything_is_scored(tmp_path):
    full = make_dataset(str(tmp_path / "a"), [("test", Q[0], "bar")] * 2,
                        {"alpha": [{"example": f"e{i}", "teacher": "alpha", "sample": 0, "text": "bar"} for i in range(2)]})
    part = make_dataset(str(tmp_path / "b"), [("test", Q[0], "bar")] * 5,
                        {"alpha": [{"example": "e1", "teacher": "alpha", "sample": 0, "text": "bar"},
                                   {"example": "e2", "teacher": "alpha", "sample": 1, "text": "bar"}]})
    entries = [Entry("x", "fm-a@1/test", entry_cases(full, "test"), entry_judge(None, ""), full),
               Entry("y", "fm-b@1/test", entry_cases(part, "test"), entry_judge(None, ""), part)]
    store = MemoryStore()
    with pytest.raises(RuntimeError) as err:
        score_suite(entries, lambda e: TeacherSubject(e.data_dir, "alpha", e.label), store)
    msg = str(err.value)
    assert "teacher alpha" in msg and "4 of the 5 examples" in msg and "fm-b@1/test" in msg
    assert "ril teachers fill" in msg
    assert store.records == {} and store.results == {}  # the first entry was not scored either


# ----------------------------------------------------------------------------------------------
# DEPLOYMENT: a bundle through the serving runtime (functions/evaluate/bundle-answers.ts)
# ----------------------------------------------------------------------------------------------

REPO = os.path.dirname(os.path.dirname(HERE))


def _bundle_tool_missing():
    from ril_trainer.export import node_available
    reason = node_available()
    if reason:
        return reason
    if not os.path.exists(os.path.join(REPO, "functions", "evaluate", "bundle-answers.ts")):
        return "functions/evaluate/bundle-answers.ts is missing"
    if not os.path.exists(os.path.join(REPO, "node_modules", "tsx")):
        return "tsx is not installed (npm ci at the repository root)"
    return None


@pytest.mark.skipif(_bundle_tool_missing() is not None, reason=str(_bundle_tool_missing()))
def test_deployment_subject_answers_through_the_serving_runtime_like_pytorch(tmp_path):
    from ril_trainer.export import export_bundle
    from ril_trainer.suite_eval import BundleSubject
    model = build_model(model_config("nano"), seed=4).eval()  # a seed whose greedy text is not empty
    path = str(tmp_path / "checkpoint.pt")
    ckpt.save(path, model)
    export_bundle(model, str(tmp_path / "bundle"))
    data = make_dataset(str(tmp_path / "d"), [("test", Q[i % 3], "xxxxx") for i in range(5)])
    cases = entry_cases(data, "test")
    bundle_store, torch_store = MemoryStore(), MemoryStore()
    sub = BundleSubject(str(tmp_path / "bundle"), REPO, str(tmp_path / "work"), batch=2, max_tokens=6)
    res = score_entry(Entry("e", "d/test", cases, entry_judge(None, "")), sub, bundle_store)
    score_entry(Entry("e", "d/test", cases, entry_judge(None, "")), CheckpointSubject(path, max_new_tokens=6), torch_store)
    assert [n for _, n in bundle_store.calls] == [2, 2, 1]  # every `batch` lines of the tool are recorded together
    assert bundle_store.records["e"] == torch_store.records["e"]  # same text, same token counts, same verdicts
    assert res.accuracy > 0 and res.n == 5
