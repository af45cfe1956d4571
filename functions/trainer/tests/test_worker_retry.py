"""#7 (worker side): a 503 from the API (a database fault behind it) delays the worker's call with backoff
instead of failing the job. The API here is a local http.server on 127.0.0.1 that answers 503 a given number
of times, then 200: the real protocol (HTTP + GraphQL JSON), no stubbed functions."""
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ril_trainer.worker.client import ApiClient, ApiError
from ril_trainer.worker.loop import JobRunner


class FlakyApi:
    """Answers the first `failures` POSTs with `status` (+ Retry-After), then a GraphQL answer."""

    def __init__(self, failures: int, status: int = 503, retry_after: str = "0", unavailable_in_graphql: bool = False):
        self.failures, self.requests = failures, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)))
                outer.requests.append((time.monotonic(), body))
                if len(outer.requests) <= outer.failures:
                    if unavailable_in_graphql:
                        code, payload, headers = 200, {"errors": [{"message": "database unavailable", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}, {}
                    else:
                        code, headers = status, {"Retry-After": retry_after} if retry_after is not None else {}
                        payload = {"errors": [{"message": "service unavailable", "extensions": {"code": "SERVICE_UNAVAILABLE"}}]}
                else:
                    code, headers = 200, {}
                    payload = {"data": {"reportMetrics": {"written": len(body["variables"].get("i", {}).get("points", [])), "duplicates": 0}}}
                raw = json.dumps(payload).encode()
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def flaky():
    made = []

    def make(*a, **kw):
        made.append(FlakyApi(*a, **kw))
        return made[-1]
    yield make
    for s in made:
        s.close()


def test_7_a_503_then_200_is_retried_and_the_job_gets_its_answer(flaky):
    api = flaky(3)
    client = ApiClient(api.url, "k", timeout=5, retry_seconds=30, backoff_s=0.01)
    runner = JobRunner(client, "w1", {"id": "j1", "kind": "TRAIN", "attempts": 2, "payload": {"runId": "r1"}}, "/nonexistent", "python3", 60)
    runner.pending = [{"name": "train/loss", "step": 1, "value": 0.5}]
    runner.flush_metrics()  # the worker's own call: three 503s, then delivered, nothing raised
    assert len(api.requests) == 4
    sent = [b["variables"]["i"] for _, b in api.requests]
    assert all(i == sent[0] for i in sent), "the same batch each time"
    assert sent[0]["attempt"] == 2 and sent[0]["workerId"] == "w1", "sent under the lease's fencing token"


def test_7_retry_after_is_honoured(flaky):
    api = flaky(1, retry_after="1")
    ApiClient(api.url, "k", timeout=5, retry_seconds=30, backoff_s=0.01).gql("mutation { reportMetrics { written } }")
    (t0, _), (t1, _) = api.requests
    assert t1 - t0 >= 0.9, "waited as the API asked"


def test_7_service_unavailable_inside_a_graphql_answer_is_retried_too(flaky):
    api = flaky(2, unavailable_in_graphql=True)
    data = ApiClient(api.url, "k", timeout=5, retry_seconds=30, backoff_s=0.01).gql("mutation { reportMetrics { written } }")
    assert data["reportMetrics"]["duplicates"] == 0 and len(api.requests) == 3


def test_7_a_lasting_outage_fails_after_the_retry_budget_with_the_apis_code(flaky):
    api = flaky(10_000, retry_after=None)
    start = time.monotonic()
    with pytest.raises(ApiError) as err:
        ApiClient(api.url, "k", timeout=5, retry_seconds=1.0, backoff_s=0.05).gql("{ me { role } }")
    assert err.value.status == 503 and err.value.code == "SERVICE_UNAVAILABLE"
    assert 1 < len(api.requests) and time.monotonic() - start < 5


def test_7_a_client_error_is_not_retried(flaky):
    api = flaky(10_000, status=400)
    with pytest.raises(ApiError) as err:
        ApiClient(api.url, "k", timeout=5, retry_seconds=30, backoff_s=0.01).gql("{ me { role } }")
    assert err.value.status == 400 and len(api.requests) == 1


def _fake_trainer(tmp_path, trap_term: bool = False) -> str:
    """A stand-in for `python -m ril_trainer train`: prints one metric event, then runs on (ignoring SIGTERM if asked)."""
    script = tmp_path / "fake-python"
    trap = "trap '' TERM\n" if trap_term else ""
    script.write_text("#!/bin/sh\n" + trap + """echo '{"event": "metric", "name": "train/loss", "step": 1, "value": 1.0}'\n"""
                      "while :; do sleep 1; done\n")
    script.chmod(0o755)
    return str(script)


def _runner(api_url: str, python: str, tmp_path) -> JobRunner:
    job = {"id": "job-1", "attempts": 1, "payload": {"runId": "run-1", "datasetId": "ds-1", "teachers": [], "config": {},
                                                    "algorithm": "sft", "seed": 0, "model": "nano"}}
    runner = JobRunner(ApiClient(api_url, "k", timeout=5, retry_seconds=0, backoff_s=0.01), "worker-1", job,
                       str(tmp_path / "cache"), python, lease_seconds=30, metric_batch=1)
    # the dataset download and the checkpoint lookup are other tests' business: this one is about the child
    runner.materialize = lambda dataset_id, teachers: str(tmp_path)  # type: ignore[method-assign]
    runner.newest_checkpoint = lambda: None  # type: ignore[method-assign]
    return runner


def test_a_train_job_that_fails_in_the_worker_ends_its_trainer(flaky, tmp_path):
    # the API refuses the metrics (a 4xx: not retried), so the job fails in the worker while the trainer runs on;
    # before, the trainer was left behind (nobody reading its stdout, its GPU held)
    api = flaky(10_000, status=400)
    runner = _runner(api.url, _fake_trainer(tmp_path), tmp_path)
    try:
        with pytest.raises(ApiError):
            runner.run_train()
        assert runner.proc is not None and runner.proc.returncode is not None, "the trainer was ended and waited for"
    finally:
        if runner.proc is not None and runner.proc.poll() is None:
            runner.proc.kill()


def test_a_trainer_that_ignores_sigterm_is_killed_after_the_grace_period(tmp_path):
    runner = _runner("http://127.0.0.1:9", _fake_trainer(tmp_path, trap_term=True), tmp_path)
    runner.proc = subprocess.Popen([runner.python], stdout=subprocess.PIPE, text=True)
    assert runner.proc.stdout and runner.proc.stdout.readline()  # started, its trap set
    t0 = time.monotonic()
    runner._reap_child(grace_s=0.5)
    assert runner.proc.returncode == -9 and time.monotonic() - t0 < 5


def test_a_cancel_stops_a_child_the_job_waits_for(tmp_path):
    # the export after training and a checkpoint's eval ran through subprocess.run: a cancel could not stop them
    runner = _runner("http://127.0.0.1:9", _fake_trainer(tmp_path), tmp_path)
    result = {}
    waiter = threading.Thread(target=lambda: result.setdefault("out", runner.run_child([runner.python], "export")))
    waiter.start()
    deadline = time.monotonic() + 10
    while runner.proc is None and time.monotonic() < deadline:
        time.sleep(0.01)
    runner.cancelled.set()  # what the heartbeat does on cancelRequested
    runner._stop_child()
    waiter.join(10)
    assert not waiter.is_alive() and result == {"out": None}, "stopped, reported as stopped (not as a failure)"
    assert runner.proc.returncode is not None


def test_a_child_that_fails_raises_with_its_stderr(tmp_path):
    script = tmp_path / "failing"
    script.write_text("#!/bin/sh\necho 'no such checkpoint' >&2\nexit 3\n")
    script.chmod(0o755)
    runner = _runner("http://127.0.0.1:9", str(script), tmp_path)
    with pytest.raises(RuntimeError, match="export exited with 3: no such checkpoint"):
        runner.run_child([runner.python], "export")
