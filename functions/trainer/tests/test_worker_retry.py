"""#7 (worker side): a 503 from the API (a database fault behind it) delays the worker's call with backoff
instead of failing the job. The API here is a local http.server on 127.0.0.1 that answers 503 a given number
of times, then 200: the real protocol (HTTP + GraphQL JSON), no stubbed functions."""
import json
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
