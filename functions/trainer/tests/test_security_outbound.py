"""Security item #2 on the trainer's side: the LLM judge (endpoint and key chosen by a training config, i.e. by an API
caller) cannot exfiltrate secrets or reach internal hosts. Real local HTTP servers (http.server on 127.0.0.1); the
operator settings are environment variables, as the worker passes them to the trainer."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ril_trainer import judges
from ril_trainer.judges import LLMJudge
from ril_trainer.worker.child_env import child_env, config_env_names

ITEM = [("What item?", "shirt", "A shirt.")]
GOOD = json.dumps({"choices": [{"message": {"role": "assistant", "content": "ok <answer>1</answer>"}}]}).encode()


class Server:
    """Records every request (any method); answers with `play(handler)` (default: a good verdict)."""

    def __init__(self, play=None):
        self.requests, self.closed_early = [], threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.requests.append((self.command, self.path, self.headers.get("Authorization"), self.rfile.read(n)))
                (play or Server.good)(self)

            do_GET = do_POST = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @staticmethod
    def good(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(GOOD)))
        h.end_headers()
        h.wfile.write(GOOD)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def servers(monkeypatch):
    """`main` (its host:port allowlisted by the operator) and `other` (same host, another port: not allowlisted)."""
    made = []

    def make(play=None):
        s = Server(play)
        made.append(s)
        return s

    monkeypatch.delenv("RIL_OUTBOUND_ALLOW_HOSTS", raising=False)
    monkeypatch.delenv("RIL_SECRET_ENV_ALLOWLIST", raising=False)
    yield make
    for s in made:
        s.close()


def allow(monkeypatch, server):
    monkeypatch.setenv("RIL_OUTBOUND_ALLOW_HOSTS", f"127.0.0.1:{server.port}")


def test_2_judge_key_must_be_allowlisted(servers, monkeypatch):
    main = servers()
    allow(monkeypatch, main)
    monkeypatch.setenv("DATABASE_URL", "postgres://u:db-password@h/db")
    with pytest.raises(ValueError, match="RIL_SECRET_ENV_ALLOWLIST"):
        judges.make_judge("llm", main.url, api_key_env="DATABASE_URL")
    assert main.requests == []
    # the worker does not even hand the variable to the trainer process
    assert config_env_names({"judge_api_key_env": "DATABASE_URL"}, {"RIL_SECRET_ENV_ALLOWLIST": ""}) == []
    env = child_env(config_env_names({"judge_api_key_env": "DATABASE_URL"}), {"DATABASE_URL": "x", "PATH": "/bin"})
    assert "DATABASE_URL" not in env
    # an allowlisted one is sent, to the allowlisted host
    monkeypatch.setenv("RIL_SECRET_ENV_ALLOWLIST", "JUDGE_KEY")
    monkeypatch.setenv("JUDGE_KEY", "judge-secret")
    assert judges.make_judge("llm", main.url, api_key_env="JUDGE_KEY").grade(ITEM) == [1]
    assert main.requests[-1][2] == "Bearer judge-secret"


@pytest.mark.parametrize("url, why", [
    ("http://169.254.169.254/latest", "link-local"),
    ("http://10.0.0.1/v1", "private"),
    ("http://[::1]:9/v1", "loopback"),
    ("http://[::ffff:127.0.0.1]:9/v1", "IPv4-in-IPv6"),
    ("http://100.64.0.1/v1", "CGNAT"),
])
def test_2_judge_refuses_non_public_literals(servers, url, why):
    with pytest.raises(ValueError, match=why):
        LLMJudge(url)


def test_2_judge_on_a_loopback_port_or_name_not_allowlisted_sends_nothing(servers, monkeypatch):
    main, other = servers(), servers()
    allow(monkeypatch, main)  # main's port only
    with pytest.raises(ValueError, match="loopback"):
        LLMJudge(other.url)
    judge = LLMJudge(f"http://localhost:{other.port}/v1", retries=2, backoff_s=0.01)
    with pytest.raises(RuntimeError, match="resolves to a loopback address") as e:
        judge.grade(ITEM)
    assert "127.0.0.1" not in str(e.value)
    assert other.requests == []


def test_2_judge_does_not_follow_redirects(servers, monkeypatch):
    other = servers()

    def redirect(h):
        h.send_response(302)
        h.send_header("Location", f"{other.url}/chat/completions")
        h.send_header("Content-Length", "0")
        h.end_headers()

    main = servers(redirect)
    allow(monkeypatch, main)
    monkeypatch.setenv("RIL_OUTBOUND_ALLOW_HOSTS", f"127.0.0.1:{main.port},127.0.0.1:{other.port}")
    with pytest.raises(RuntimeError, match="redirect, which is not followed"):
        LLMJudge(main.url, retries=2, backoff_s=0.01).grade(ITEM)
    assert len(main.requests) == 1, "not retried"
    assert other.requests == [], "the redirect target got nothing (even though it is allowlisted)"


def test_2_judge_response_is_capped(servers, monkeypatch):
    sent = []

    def endless(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.end_headers()  # no Content-Length: read until close
        try:
            h.wfile.write(b'{"choices":[{"message":{"content":"')
            for _ in range(4096):  # 64 MiB at most; we must hang up long before
                h.wfile.write(b"x" * 16384)
                sent.append(16384)
        except OSError:
            pass

    main = servers(endless)
    allow(monkeypatch, main)
    monkeypatch.setenv("RIL_OUTBOUND_MAX_BYTES", "65536")
    with pytest.raises(RuntimeError, match="larger than 65536 bytes"):
        LLMJudge(main.url, retries=3, backoff_s=0.01).grade(ITEM)
    assert len(main.requests) == 1, "not retried"
    main.close()
    assert sum(sent) < 16 * 1024 * 1024, f"{sum(sent)} bytes were pushed: the client did not hang up"


def test_2_judge_error_body_is_not_echoed(servers, monkeypatch):
    leak = b'{"error":{"message":"upstream-internal-SECRET-token-4242 echo: Bearer judge-secret"}}'

    def leaky(h):
        h.send_response(400)
        h.send_header("Content-Length", str(len(leak)))
        h.send_header("X-Internal", "SECRET-token")
        h.end_headers()
        h.wfile.write(leak)

    main = servers(leaky)
    allow(monkeypatch, main)
    monkeypatch.setenv("RIL_SECRET_ENV_ALLOWLIST", "JUDGE_KEY")
    monkeypatch.setenv("JUDGE_KEY", "judge-secret")
    with pytest.raises(RuntimeError) as e:
        judges.make_judge("llm", main.url, api_key_env="JUDGE_KEY", retries=1).grade(ITEM)
    assert str(e.value) == f"judge endpoint 127.0.0.1:{main.port}: HTTP 400"
    assert "SECRET" not in repr(e.value) and "judge-secret" not in repr(e.value)
