"""Suite EVALUATE jobs through the real worker process against a local stand-in for the platform's GraphQL API
(the contract's operations: claimJob, dataset examples, blobs, run.latestCheckpoint, evalExamples,
recordEvalExamples, recordEvalResult, completeJob; leases fenced by `attempt`):

- the worker is SIGKILLed mid-suite while the EXTERNAL endpoint hangs; a second worker resumes the job and every
  example is answered by the endpoint exactly once and judged at most once across both workers;
- a RUN subject: the run's newest checkpoint decoded in the `predict` child, recorded per generation batch, the
  result equal to the library's in-process scoring;
- a lost lease (CONFLICT on a record) stops the job without completing it;
- the TRAIN payload's evalSuite becomes the run's eval_suite.json.
"""
import hashlib
import io
import json
import os
import signal
import tarfile
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

import pytest

from ril_trainer import checkpoint as ckpt
from ril_trainer.config import model_config
from ril_trainer.model import build_model
from ril_trainer.suite_eval import CheckpointSubject, Entry, MemoryStore, TrainingSuite, entry_cases, entry_judge, score_entry
from ril_trainer.worker.suite_job import write_training_suite
from suite_helpers import image_sha, judge_fields, make_dataset, request_image_sha, servers  # noqa: F401 - a fixture

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Platform:
    """The API's side of the worker protocol, in memory, with its rules: one holder per job (attempt = fencing
    token), records idempotent (the first wins), results checked against the records."""

    def __init__(self):
        self.blobs: Dict[str, bytes] = {}
        self.datasets: Dict[str, Dict[str, Any]] = {}
        self.runs: Dict[str, Optional[str]] = {}  # run id -> newest checkpoint blob
        self.teacher_responses: Dict[str, List[dict]] = {}  # dataset id -> TeacherResponse nodes
        self.job: Optional[Dict[str, Any]] = None
        self.queued = False
        self.records: Dict[str, Dict[str, dict]] = {}
        self.record_calls: List[int] = []
        self.results: Dict[str, dict] = {}
        self.completed: Optional[dict] = None
        self.failed: List[str] = []
        self.conflict_on_record: Optional[int] = None  # the n-th recordEvalExamples call answers CONFLICT
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _send(self, code: int, payload: bytes, ctype: str = "application/json"):
                self.send_response(code)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                sha = self.path.rsplit("/", 1)[-1]
                self._send(200, outer.blobs[sha], "application/octet-stream")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with outer.lock:
                    try:
                        doc = {"data": outer.answer(body["query"], body.get("variables") or {})}
                    except KeyError as e:
                        doc = {"errors": [{"message": str(e), "extensions": {"code": e.args[0] if e.args else "BAD"}}]}
                self._send(200, json.dumps(doc).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- data --
    def add_dataset(self, dataset_id: str, data_dir: str) -> None:
        examples = []
        with open(os.path.join(data_dir, "examples.jsonl")) as f:
            for line in f:
                d = json.loads(line)
                with open(os.path.join(data_dir, d["image"]), "rb") as img:
                    raw = img.read()
                sha = hashlib.sha256(raw).hexdigest()
                self.blobs[sha] = raw
                examples.append({"externalId": d["id"], "split": d["split"], "question": d["question"],
                                 "answer": d["answer"], "imageSha256": sha})
        self.datasets[dataset_id] = {"name": dataset_id, "version": 1, "examples": examples}

    def queue(self, payload: dict) -> None:
        self.job = {"id": "job1", "kind": "EVALUATE", "payload": payload, "attempts": 0}
        self.queued = True

    # -- GraphQL --
    def _held(self, i: dict) -> None:
        if self.job is None or i["attempt"] != self.job["attempts"] or i["jobId"] != self.job["id"]:
            raise KeyError("CONFLICT")

    def answer(self, q: str, v: dict) -> dict:
        if "registerWorker" in q:
            return {"registerWorker": {"id": f"w-{v['i']['name']}"}}
        if "claimJob" in q:
            if not self.queued:
                return {"claimJob": None}
            self.queued = False
            self.job["attempts"] += 1
            return {"claimJob": dict(self.job)}
        if "heartbeat(" in q:
            self._held(v["i"])
            return {"heartbeat": {"cancelRequested": False}}
        if "dataset(id" in q:
            d = self.datasets[v["id"]]
            return {"dataset": {"name": d["name"], "version": d["version"], "examples": {
                "edges": [{"node": e} for e in d["examples"]], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        if "teacherResponses" in q:
            rows = [r for r in self.teacher_responses.get(v["id"], []) if not v.get("teachers") or r["teacher"]["name"] in v["teachers"]]
            return {"teacherResponses": {"edges": [{"node": r} for r in rows], "pageInfo": {"hasNextPage": False, "endCursor": None}}}
        if "blobDownloadUrl" in q:
            return {"blobDownloadUrl": {"url": f"/blobs/{v['sha']}", "expiresAt": None}}
        if "latestCheckpoint" in q:
            sha = self.runs.get(v["r"])
            return {"run": {"latestCheckpoint": {"id": "c1", "blobSha256": sha, "metadata": {"step": 1}} if sha else None}}
        if "recordEvalExamples" in q:
            i = v["i"]
            self._held(i)
            self.record_calls.append(len(i["examples"]))
            if self.conflict_on_record is not None and len(self.record_calls) >= self.conflict_on_record:
                raise KeyError("CONFLICT")
            assert len(i["examples"]) <= 500
            have = self.records.setdefault(i["entryId"], {})
            dup = 0
            for e in i["examples"]:
                if e["externalId"] in have:
                    dup += 1
                else:
                    have[e["externalId"]] = e
            return {"recordEvalExamples": {"written": len(i["examples"]) - dup, "duplicates": dup}}
        if "evalExamples" in q:
            rows = list(self.records.get(v["e"], {}).values())
            start = int(v["after"] or 0)
            page = rows[start:start + 3]  # small pages: the worker must follow the cursor
            more = start + 3 < len(rows)
            return {"evalExamples": {"edges": [{"node": r} for r in page],
                                     "pageInfo": {"hasNextPage": more, "endCursor": str(start + 3) if more else None}}}
        if "recordEvalResult" in q:
            i = v["i"]
            self._held(i)
            rows = list(self.records.get(i["entryId"], {}).values())
            acc = sum(r["correct"] for r in rows) / len(rows)
            if i["n"] != len(rows) or abs(i["accuracy"] - acc) > 1e-9:
                raise KeyError("BAD_USER_INPUT")
            self.results[i["entryId"]] = {k: i[k] for k in ("accuracy", "n", "meanResponseLength")}
            return {"recordEvalResult": {"id": "r-" + i["entryId"]}}
        if "completeJob" in q:
            self._held(v["i"])
            self.completed = v["i"]["result"]
            return {"completeJob": {"status": "SUCCEEDED"}}
        if "failJob" in q:
            self._held(v["i"])
            self.failed.append(v["i"]["error"])
            return {"failJob": {"status": "FAILED"}}
        raise KeyError("UNKNOWN_OPERATION")


@pytest.fixture
def platform():
    p = Platform()
    yield p
    p.close()




def start_worker(platform: Platform, cache: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "RIL_API_KEY": "ril_test", "RIL_OUTBOUND_ALLOW_HOSTS": "127.0.0.1",
           "RIL_SECRET_ENV_ALLOWLIST": "VLM_KEY", "VLM_KEY": "vlm-sekrit", "RIL_WORKER_RETRY_S": "5"}
    return subprocess.Popen([sys.executable, "-m", "ril_trainer", "worker", "--api", platform.url, "--once",
                             "--cache", cache, "--lease-seconds", "30", *extra],
                            cwd=HERE, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(cond, timeout=60.0, proc: Optional[subprocess.Popen] = None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the worker exited with {proc.returncode}: {proc.stderr.read()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError("timed out")


def entry(entry_id: str, dataset_id: str, judge: dict, limit=None) -> dict:
    return {"entryId": entry_id, "datasetId": dataset_id, "split": "test", "sampleLimit": limit,
            "label": f"{dataset_id}@1/test", "judge": judge}


def subject(kind: str, **kw) -> dict:
    base = {"kind": kind, "runId": None, "deployment": None, "revision": None, "artifactId": None, "bundleSha256": None,
            "endpoint": None, "model": None, "apiKeyEnv": None, "teacher": None}
    return {**base, **kw}


def test_a_killed_worker_is_resumed_and_each_example_is_scored_once(platform, servers, tmp_path):
    qa = [("What shape is shown?", "bar"), ("Is it a bar?", "yes")]
    a = make_dataset(str(tmp_path / "a"), [("test", *qa[i % 2]) for i in range(4)], seed=1)
    b = make_dataset(str(tmp_path / "b"), [("test", *qa[i % 2]) for i in range(7)], seed=2)
    platform.add_dataset("dsA", a)
    platform.add_dataset("dsB", b)
    by_image = {image_sha(c.image): c for d in (a, b) for c in entry_cases(d, "test")}
    assert len(by_image) == 11

    def vlm(body):  # answers "bar"/"yes" to even-numbered examples of dataset A, and so on: scripted per image
        c = by_image[request_image_sha(body)]
        return (c.answer if int(c.id[1:]) % 2 == 0 else "no idea") + f" [{c.id}]", 3
    endpoint = servers(vlm)

    def llm(body):
        truth, generated = judge_fields(body)
        return f"<answer>{int(generated.startswith(truth))}</answer>", None
    judge = servers(llm)
    llm_judge = {"kind": "LLM", "endpoint": judge.url, "model": "judge-m", "apiKeyEnv": None}
    platform.queue({"suite": "fm-bench", "suiteVersionId": "v1", "version": 1, "subjectId": "s1",
                    "subject": subject("EXTERNAL", endpoint=endpoint.url, model="vlm-m", apiKeyEnv="VLM_KEY"),
                    "datasets": [entry("eA", "dsA", {"kind": "RULE", "endpoint": None, "model": None, "apiKeyEnv": None}),
                                 entry("eB", "dsB", llm_judge, limit=6)]})
    k = 7  # the endpoint hangs from its 7th request on: A's 4 and B's first 2 get answers
    endpoint.hang_from = k
    w1 = start_worker(platform, str(tmp_path / "cache1"), "--eval-concurrency", "2")
    try:
        wait_for(lambda: sum(len(r) for r in platform.records.values()) >= k - 1 and len(endpoint.requests) >= k + 1, proc=w1)
        time.sleep(0.2)
        assert "eA" in platform.results and "eB" not in platform.results
        w1.send_signal(signal.SIGKILL)
        w1.wait(10)
    finally:
        if w1.poll() is None:
            w1.kill()
    assert sum(len(r) for r in platform.records.values()) == k - 1
    stored_b = set(platform.records["eB"])  # 2 of B's examples (the pool's two threads race: not always e0, e1)
    assert len(stored_b) == 2
    first_requests = len(endpoint.requests)  # k - 1 answered + the 2 in flight when it died
    assert first_requests == k + 1
    endpoint.hang_from = None
    endpoint.release.set()

    platform.queued = True  # the lease expired: the job is claimed again (attempt 2)
    w2 = start_worker(platform, str(tmp_path / "cache2"), "--eval-concurrency", "2")
    out, err = w2.communicate(timeout=60)
    assert w2.returncode == 0, err
    result = platform.completed
    assert result is not None, err

    # every example answered once across both workers; the resumed one asked only for the missing ones
    answered = [request_image_sha(b) for b in endpoint.answered]
    assert sorted(answered) == sorted(image_sha(c.image) for c in entry_cases(a, "test") + entry_cases(b, "test", 6))
    resumed = [by_image[request_image_sha(b)].id for _, _, b in endpoint.requests[first_requests:]]
    assert sorted(resumed) == sorted({"e0", "e1", "e2", "e3", "e4", "e5"} - stored_b)
    # the LLM judge (entry B only) was asked once per example of B, though the two workers had separate caches
    judged = [judge_fields(b)[1] for _, _, b in judge.requests]
    assert len(judged) == len(set(judged)) == 6
    assert platform.record_calls and all(n == 1 for n in platform.record_calls)  # each example recorded on its own

    # results: A by the rule (e0, e2 right), B by the judge's script (e0, e2, e4 right)
    assert result["suite"] == "fm-bench" and result["version"] == 1 and result["subject"] == "EXTERNAL"
    assert [(r["entryId"], r["label"], r["n"], r["accuracy"], r["meanResponseLength"]) for r in result["results"]] == \
        [("eA", "dsA@1/test", 4, 0.5, 3.0), ("eB", "dsB@1/test", 6, 0.5, 3.0)]
    assert result["average"] == 0.5
    assert platform.results["eB"] == {"accuracy": 0.5, "n": 6, "meanResponseLength": 3.0}
    assert endpoint.requests[0][1] == "Bearer vlm-sekrit"
    assert "vlm-sekrit" not in err  # the key is never logged


def test_a_run_subject_through_the_worker(platform, tmp_path):
    model = build_model(model_config("nano"), seed=5).eval()
    path = str(tmp_path / "checkpoint.pt")
    ckpt.save(path, model, train_config={"max_response_tokens": 5})
    with open(path, "rb") as f:
        raw = f.read()
    sha = hashlib.sha256(raw).hexdigest()
    platform.blobs[sha] = raw
    platform.runs["run1"] = sha
    data = make_dataset(str(tmp_path / "d"), [("test", "What shape is shown?", "bar")] * 40 + [("val", "q", "a")])
    platform.add_dataset("ds", data)
    platform.queue({"suite": "s", "suiteVersionId": "v1", "version": 2, "subjectId": "s1", "subject": subject("RUN", runId="run1"),
                    "datasets": [entry("e1", "ds", {"kind": "RULE"}, limit=35)]})
    w = start_worker(platform, str(tmp_path / "cache"), "--threads", "1")
    out, err = w.communicate(timeout=120)
    assert w.returncode == 0 and platform.completed, err
    assert platform.record_calls == [32, 3]  # one call per generation batch
    store = MemoryStore()
    want = score_entry(Entry("e1", "x", entry_cases(data, "test", 35), entry_judge(None, "")), CheckpointSubject(path), store)
    [res] = platform.completed["results"]
    assert (res["n"], res["accuracy"], res["meanResponseLength"]) == (35, want.accuracy, want.mean_response_length)
    assert platform.completed["checkpointStep"] == 1  # the checkpoint scored (its metadata's step)
    assert {k: v["response"] for k, v in platform.records["e1"].items()} == {k: r.response for k, r in store.records["e1"].items()}


def test_a_lost_lease_stops_the_job(platform, servers, tmp_path):
    data = make_dataset(str(tmp_path / "d"), [("test", "Is it a bar?", "yes")] * 6)
    platform.add_dataset("ds", data)
    endpoint = servers(lambda body: ("yes", None))
    platform.queue({"suite": "s", "suiteVersionId": "v1", "version": 1, "subjectId": "s1",
                    "subject": subject("EXTERNAL", endpoint=endpoint.url, model="m"),
                    "datasets": [entry("e1", "ds", {"kind": "RULE"})]})
    platform.conflict_on_record = 3
    w = start_worker(platform, str(tmp_path / "cache"), "--eval-concurrency", "1")
    out, err = w.communicate(timeout=60)
    assert w.returncode == 0, err
    assert "lease lost" in err and platform.completed is None and platform.failed == []
    assert len(platform.records["e1"]) == 2  # stopped at the refused record
    assert len(endpoint.requests) == 3  # one thread: it records a case before it asks for the next


def test_the_train_payloads_suite_becomes_the_runs_suite_file(tiny_data, tmp_path):
    spec = {"name": "fm-bench", "version": 3, "datasets": [
        {"entryId": "x", "datasetId": "d1", "split": "test", "sampleLimit": 2, "label": "a@1/test", "metricKey": "0-a-v1-test",
         "judge": {"kind": "RULE"}},
        {"entryId": "y", "datasetId": "d2", "split": "val", "sampleLimit": None, "label": "b@1/val", "metricKey": "1-b-v1-val",
         "judge": {"kind": "RULE"}}]}
    asked = []
    path = write_training_suite(lambda ds, teachers: asked.append(ds) or tiny_data, spec, str(tmp_path))
    assert asked == ["d1", "d2"] and path == str(tmp_path / "eval_suite.json")
    suite = TrainingSuite.read(path)
    assert suite.name == "fm-bench" and suite.version == 3
    assert [(d.key, d.data_dir, d.split, d.limit) for d in suite.datasets] == \
        [("0-a-v1-test", tiny_data, "test", 2), ("1-b-v1-val", tiny_data, "val", None)]
    with pytest.raises(RuntimeError, match="RULE judge only"):
        write_training_suite(lambda ds, t: tiny_data, {**spec, "datasets": [{**spec["datasets"][0], "judge": {"kind": "LLM"}}]},
                             str(tmp_path))


def test_a_deployment_subject_through_the_worker(platform, tmp_path):
    from ril_trainer.export import export_bundle
    from test_suite_eval import _bundle_tool_missing
    reason = _bundle_tool_missing()
    if reason:
        pytest.skip(reason)
    model = build_model(model_config("nano"), seed=4).eval()
    export_bundle(model, str(tmp_path / "bundle"))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in sorted(os.listdir(tmp_path / "bundle")):
            tar.add(str(tmp_path / "bundle" / name), arcname=name)
    sha = hashlib.sha256(buf.getvalue()).hexdigest()
    platform.blobs[sha] = buf.getvalue()
    data = make_dataset(str(tmp_path / "d"), [("test", "What shape is shown?", "xxxxx")] * 3)
    platform.add_dataset("ds", data)
    platform.queue({"suite": "s", "suiteVersionId": "v1", "version": 1, "subjectId": "s1",
                    "subject": subject("DEPLOYMENT", deployment="fm", revision=2, artifactId="a1", bundleSha256=sha),
                    "datasets": [entry("e1", "ds", {"kind": "RULE"})]})
    w = start_worker(platform, str(tmp_path / "cache"))
    out, err = w.communicate(timeout=120)
    assert w.returncode == 0 and platform.completed, err + str(platform.failed)
    [res] = platform.completed["results"]
    assert res["n"] == 3 and platform.record_calls == [3]
    recs = list(platform.records["e1"].values())
    assert all(r["response"].startswith("xxxxx") for r in recs)
    assert all(r["responseTokens"] > 100 for r in recs)  # max_tokens null: as many as the model allows, as the endpoint


def test_a_teacher_without_cached_responses_fails_the_job_with_the_fix(platform, tmp_path):
    data = make_dataset(str(tmp_path / "d"), [("test", "Is it a bar?", "yes")] * 3)
    platform.add_dataset("ds", data)
    platform.teacher_responses["ds"] = [{"sample": 0, "text": "yes", "teacher": {"name": "gpt"}, "example": {"externalId": "e0"}}]
    platform.queue({"suite": "s", "suiteVersionId": "v1", "version": 1, "subjectId": "s1", "subject": subject("TEACHER", teacher="gpt"),
                    "datasets": [entry("e1", "ds", {"kind": "RULE"})]})
    w = start_worker(platform, str(tmp_path / "cache"))
    out, err = w.communicate(timeout=60)
    assert w.returncode == 0 and platform.completed is None
    [msg] = platform.failed
    assert "teacher gpt" in msg and "2 of the 3" in msg and "ds@1/test" in msg and "ril teachers fill" in msg
    assert platform.records == {}


def test_the_workers_suite_operations_validate_against_the_schema(tmp_path):
    import shutil
    from ril_trainer.worker import suite_job
    repo = os.path.dirname(os.path.dirname(HERE))
    if shutil.which("node") is None or not os.path.exists(os.path.join(repo, "node_modules", "graphql")):
        pytest.skip("node or the graphql package (npm ci at the repository root) is missing")
    docs = [suite_job.EVAL_EXAMPLES_Q, suite_job.RECORD_EXAMPLES_M, suite_job.RECORD_RESULT_M, suite_job.RUN_CHECKPOINT_Q]
    (tmp_path / "q.json").write_text(json.dumps(docs))
    script = ("const {buildSchema, parse, validate} = require('graphql'); const fs = require('fs');"
              "const schema = buildSchema(fs.readFileSync('schema.graphql', 'utf8'));"
              f"for (const q of JSON.parse(fs.readFileSync({json.dumps(str(tmp_path / 'q.json'))}, 'utf8')))"
              " console.log(JSON.stringify(validate(schema, parse(q)).map((e) => e.message)));")
    r = subprocess.run(["node", "-e", script], cwd=repo, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [[]] * len(docs)
