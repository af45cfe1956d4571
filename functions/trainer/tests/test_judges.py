"""Judges: the rule judge's cases, and the LLM judge against a local chat-completions server."""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ril_trainer import answers, judges
from ril_trainer.judges import LLMJudge, RuleJudge, parse_verdict, rule_verdict, triple_key


@pytest.mark.parametrize("answer,response,ok", [
    ("shirt", "This is a T-shirt.", 0),  # "-" is a word character
    ("t-shirt", "This is a T-shirt.", 1),
    ("shirt", "A shirt, not a t-shirt", 1),
    ("ankle boot", "Looking at it: an Ankle Boot!", 1),
    ("ankle boot", "boot", 0),
    ("yes", "Yes, it is worn on the feet.", 1),
    ("no", "Yes, but no", 0),
    ("3", "There are 3 buttons.", 1),
    ("3", "There are 3.0 buttons.", 1),
    ("3", "three", 1),
    ("3", "13", 0),
    ("2.5", "about 2.5 cm", 1),
    ("2.5", "about 2 cm", 0),
    ("upper body", "upper  body", 1),
])
def test_rule_judge(answer, response, ok):
    assert rule_verdict("q", answer, response) == ok
    assert RuleJudge().grade([("q", answer, response)]) == [ok]


def test_eval_accuracy_grades_with_the_judges_rule(tiny_data, nano, monkeypatch):
    from ril_trainer.data import VQADataset
    from ril_trainer.evaluate import accuracy
    ds = VQADataset(tiny_data, nano.cfg, splits=["val"])
    idx = ds.split_indices("val")
    assert judges.rule_verdict is answers.rule_verdict  # the judge's rule is the one in answers.py
    monkeypatch.setattr(answers, "rule_verdict", lambda q, a, o: 1)  # one implementation: eval calls it
    assert accuracy(nano, ds, idx, max_new_tokens=4)["accuracy"] == 1.0


def test_parse_verdict():
    assert parse_verdict("It says trousers. <answer>1</answer>") == 1
    assert parse_verdict("<answer> 0 </answer>") == 0
    assert parse_verdict("first <answer>1</answer> then <answer>0</answer>") == 0  # the last verdict
    assert parse_verdict("I think it is correct.") is None
    assert parse_verdict("<answer>yes</answer>") is None


class ChatServer:
    """A chat-completions endpoint on 127.0.0.1 grading with the rule judge; scripted failures."""

    def __init__(self):
        self.requests, self.in_flight, self.max_in_flight = [], 0, 0
        self.fail_first = 0  # answer HTTP 500 to this many requests first
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.requests.append((self.path, self.headers.get("Authorization"), body))
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                    fail = outer.fail_first > 0
                    outer.fail_first -= int(fail)
                time.sleep(0.02)
                with outer.lock:
                    outer.in_flight -= 1
                if fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                prompt = body["messages"][0]["content"]
                field = lambda name: prompt.split(name + ": ")[1].split("\n")[0]  # noqa: E731
                gen = field("Generated text")
                if "garbled" in gen:
                    content = "I cannot decide."
                else:
                    v = rule_verdict("", field("Ground-truth answer"), gen)
                    content = f"The text {'gives' if v else 'does not give'} the answer. <answer>{v}</answer>"
                data = json.dumps({"id": "x", "object": "chat.completion",
                                   "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                                "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server(monkeypatch):
    # the operator allows the local judge's host (outbound calls may not reach loopback otherwise)
    monkeypatch.setenv("RIL_OUTBOUND_ALLOW_HOSTS", "127.0.0.1")
    s = ChatServer()
    yield s
    s.close()


def test_llm_judge_against_a_local_endpoint(server, tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", "sekrit")
    monkeypatch.setenv("RIL_SECRET_ENV_ALLOWLIST", "JUDGE_KEY")
    cache = str(tmp_path / "verdicts.jsonl")
    judge = judges.make_judge("llm", server.url, "judge-model", "JUDGE_KEY", concurrency=2, retries=3, cache_path=cache)
    judge.backoff_s = 0.01
    server.fail_first = 2  # two 500s: retried
    items = [("What item?", "shirt", "A T-shirt."), ("What item?", "shirt", "A shirt."), ("Feet?", "no", "No."),
             ("What item?", "bag", "garbled"), ("Feet?", "yes", "Yes!"), ("What item?", "shirt", "A shirt.")]
    assert judge.grade(items) == [0, 1, 1, 0, 1, 1]
    assert judge.stats["unparseable"] == 1 and judge.stats["retries"] == 2
    assert judge.stats["calls"] == 5  # the repeated triple is asked once
    assert server.max_in_flight <= 2
    path, auth, body = server.requests[-1]
    assert path == "/v1/chat/completions" and auth == "Bearer sekrit" and body["model"] == "judge-model"
    assert "Ground-truth answer: " in body["messages"][0]["content"]
    n = len(server.requests)
    assert judge.grade(items[:3]) == [0, 1, 1] and len(server.requests) == n  # cached
    again = LLMJudge(server.url, cache_path=cache)  # the cache file survives a restart
    assert again.grade(items[:2]) == [0, 1] and len(server.requests) == n
    assert triple_key(*items[0]) in again.cache


def test_llm_judge_gives_up_after_its_retries(server):
    judge = LLMJudge(server.url, retries=1, backoff_s=0.01)
    server.fail_first = 5
    with pytest.raises(RuntimeError, match="HTTP 500"):
        judge.grade([("q", "a", "a")])


def test_an_rl_step_can_grade_with_the_llm_judge(server, tiny_data, tmp_path):
    from ril_trainer import rl
    from ril_trainer.config import TrainConfig
    cfg = TrainConfig(algorithm="ril", model="nano", questions_per_step=2, group_size=2, max_response_tokens=24,
                      judge="llm", judge_endpoint=server.url, device="cpu")
    run = rl.RLRun(cfg, tiny_data, "cpu", str(tmp_path))
    run.start_from(run.policy.state_dict())
    m = run.step(0, run.train_idx[:2])
    assert m["reward/answer_teacher"] == 1.0 and "judge/unparseable" in m
    assert len(server.requests) >= 2 and (tmp_path / "judge_cache.jsonl").exists()
