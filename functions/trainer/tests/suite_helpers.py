"""Helpers of the suite tests: a tiny dataset directory and a scripted OpenAI-compatible chat server."""
import base64
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import pytest
from PIL import Image


def make_dataset(root: str, rows: List[Tuple[str, str, str]], teachers: Optional[Dict[str, List[dict]]] = None,
                 seed: int = 0) -> str:
    """rows: (split, question, answer); one 28x28 grayscale PNG per row (distinct pixels). Ids e0, e1, ..."""
    os.makedirs(os.path.join(root, "images"), exist_ok=True)
    os.makedirs(os.path.join(root, "teachers"), exist_ok=True)
    rng = np.random.default_rng(seed)
    lines = []
    for i, (split, q, a) in enumerate(rows):
        name = f"images/{i:03d}.png"
        Image.fromarray((rng.random((28, 28)) * 255).astype(np.uint8), mode="L").save(os.path.join(root, name))
        lines.append(json.dumps({"id": f"e{i}", "image": name, "question": q, "answer": a, "split": split}))
    with open(os.path.join(root, "examples.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for t, rs in (teachers or {}).items():
        with open(os.path.join(root, "teachers", f"{t}.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rs)
    return root


def image_sha(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def request_image_sha(body: dict) -> str:
    """The sha256 of the image a chat request carries as a data URL."""
    parts = body["messages"][0]["content"]
    url = next(p["image_url"]["url"] for p in parts if p.get("type") == "image_url")
    return hashlib.sha256(base64.b64decode(url.split(",", 1)[1])).hexdigest()


def request_question(body: dict) -> str:
    parts = body["messages"][0]["content"]
    return next(p["text"] for p in parts if p.get("type") == "text")


class ChatServer:
    """A chat-completions endpoint on 127.0.0.1: ``reply(body) -> (content, completion_tokens or None)``.
    ``hang_from``: the k-th request (1-based) and every later one wait until ``release`` is set."""

    def __init__(self, reply: Callable[[dict], Tuple[str, Optional[int]]]):
        self.reply = reply
        self.requests: List[Tuple[str, Optional[str], dict]] = []
        self.answered: List[dict] = []
        self.hang_from: Optional[int] = None
        self.release = threading.Event()
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.requests.append((self.path, self.headers.get("Authorization"), body))
                    k = len(outer.requests)
                if outer.hang_from is not None and k >= outer.hang_from:
                    outer.release.wait(60)
                    self.send_response(503)
                    self.end_headers()
                    return
                content, tokens = outer.reply(body)
                reply = {"id": "x", "object": "chat.completion",
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}
                if tokens is not None:
                    reply["usage"] = {"prompt_tokens": 10, "completion_tokens": tokens, "total_tokens": 10 + tokens}
                data = json.dumps(reply).encode()
                with outer.lock:
                    outer.answered.append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def judge_fields(body: dict) -> Tuple[str, str]:
    """(ground truth, generated text) of an LLMJudge request."""
    prompt = body["messages"][0]["content"]
    field = lambda name: prompt.split(name + ": ")[1].split("\n")[0]  # noqa: E731
    return field("Ground-truth answer"), field("Generated text")


@pytest.fixture
def servers():
    made = []

    def make(reply):
        made.append(ChatServer(reply))
        return made[-1]
    yield make
    for s in made:
        s.close()
