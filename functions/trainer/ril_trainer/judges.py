"""Judges: is a response a correct answer to (question, ground truth)? One interface, two kinds.

RIL (Unified Reinforcement and Imitation Learning, NeurIPS 2025) grades every response (student
rollouts and cached teacher responses) with an LLM-as-a-Judge: the judge sees the question, the
ground-truth answer and the generated text, writes an explanation and ends with 0 or 1 inside
``<answer>`` tags. Choices where the paper is silent, or where we deviate:

- ``RuleJudge`` (the offline default) is deterministic and is **the** answer rule of the trainer:
  ``evaluate.accuracy`` grades with ``rule_verdict`` too, so training and evaluation agree.
  Rules, in order: numbers (the answer is a number -> the first number in the response equals it
  numerically, "3" = "3.0" = "three"); yes/no (the first yes/no word); otherwise the normalised
  answer as a whole-word phrase of the normalised response, where "-" is a word character
  ("shirt" is not in "t-shirt"; same as the TypeScript ``mentionsAnswer``). The rule itself lives in
  ``answers.py``, which both this module and ``evaluate`` import.
- ``LLMJudge`` talks to any OpenAI-compatible ``/chat/completions`` endpoint with the standard
  library only (chat.py's client over outbound.py + a thread pool for bounded concurrency). The prompt below is written in
  the spirit of the paper's (the paper gives its structure; the wording is ours). Verdicts are
  cached by sha256 of the (question, ground truth, response) triple (in memory, and in a JSONL file
  when ``cache_path`` is set). Transport errors and HTTP 429/5xx are retried with exponential
  backoff; a reply without a parseable ``<answer>0|1</answer>`` counts as 0 and is counted in
  ``stats["unparseable"]`` (logged as ``judge/unparseable``); a request that still fails after the
  retries raises (a silent 0 would poison the rewards).
- The endpoint and the key are chosen by whoever wrote the training config (an API caller), so every request goes
  through ``outbound.py`` (allowlisted key variable, DNS-checked and pinned address, no redirects, size and time
  caps, no remote body in errors), with the operator settings the worker passes to the trainer.

Run: a judge is picked by the training config (``judge: rule | llm``, ``judge_endpoint``, ...).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from .answers import normalise_text, rule_verdict  # noqa: F401 - re-exported: the judge's rule
from .chat import chat_completion, completions_url, endpoint_host, reply_text
from .outbound import OutboundPolicy, secret_env_allowlist

Item = Tuple[str, str, str]  # (question, ground-truth answer, response)

# ----------------------------------------------------------------------------------------------
# The rule judge
# ----------------------------------------------------------------------------------------------


class RuleJudge:
    """Deterministic offline judge; ``grade`` is ``rule_verdict`` over a batch."""

    kind = "rule"

    def __init__(self) -> None:
        self.stats: Dict[str, int] = {"calls": 0, "unparseable": 0}

    def grade(self, items: Sequence[Item]) -> List[int]:
        return [rule_verdict(q, a, o) for q, a, o in items]


# ----------------------------------------------------------------------------------------------
# The LLM judge
# ----------------------------------------------------------------------------------------------

JUDGE_PROMPT = """You are grading the answer of a vision-language assistant.

Question: {question}
Ground-truth answer: {answer}
Generated text: {response}

Does the generated text give the ground-truth answer (same meaning; wording, extra explanation and \
formatting do not matter; a different or missing answer is wrong)? First explain your reasoning in \
one or two sentences, then give your verdict as 1 (correct) or 0 (incorrect) inside answer tags, \
e.g. <answer>1</answer>."""

_VERDICT = re.compile(r"<answer>\s*([01])\s*</answer>", re.IGNORECASE)


def parse_verdict(text: str) -> Optional[int]:
    """The last ``<answer>0|1</answer>`` in the judge's reply, or None."""
    found = _VERDICT.findall(text or "")
    return int(found[-1]) if found else None


def triple_key(question: str, answer: str, response: str) -> str:
    return hashlib.sha256(json.dumps([question, answer, response], ensure_ascii=False).encode("utf-8")).hexdigest()


class LLMJudge:
    """LLM-as-a-Judge over an OpenAI-compatible chat-completions endpoint (standard library only)."""

    kind = "llm"

    def __init__(self, endpoint: str, model: str = "judge", api_key: Optional[str] = None, concurrency: int = 4,
                 retries: int = 3, timeout_s: float = 60.0, backoff_s: float = 0.5, cache_path: Optional[str] = None,
                 policy: Optional[OutboundPolicy] = None):
        if not endpoint:
            raise ValueError("judge 'llm' needs judge_endpoint (an OpenAI-compatible base URL, e.g. http://host/v1)")
        self.url = completions_url(endpoint)
        self.policy = policy or OutboundPolicy.from_env()
        self.host = endpoint_host(self.url, self.policy, "judge_endpoint")  # early error; DNS is checked at each request
        self.model, self.api_key = model, api_key
        self.concurrency, self.retries, self.timeout_s, self.backoff_s = max(1, concurrency), retries, timeout_s, backoff_s
        self.cache: Dict[str, int] = {}
        self.cache_path = cache_path
        self.stats: Dict[str, int] = {"calls": 0, "unparseable": 0, "cache_hits": 0, "retries": 0}
        self._lock = threading.Lock()  # grade() may run in several threads at once (suite_eval's EXTERNAL subject)
        if cache_path and os.path.exists(cache_path):
            with open(cache_path) as f:
                for line in f:
                    if line.strip():
                        try:
                            d = json.loads(line)
                        except ValueError:
                            continue  # a line cut short by a crash: that verdict is asked again
                        self.cache[d["key"]] = int(d["verdict"])

    def _count_retry(self) -> None:
        with self._lock:
            self.stats["retries"] += 1

    def _request(self, question: str, answer: str, response: str) -> str:
        body = {"model": self.model, "temperature": 0,
                "messages": [{"role": "user", "content": JUDGE_PROMPT.format(question=question, answer=answer, response=response)}]}
        reply = chat_completion(self.url, body, self.api_key, self.policy, timeout_s=self.timeout_s, retries=self.retries,
                                backoff_s=self.backoff_s, label=f"judge endpoint {self.host}", on_retry=self._count_retry)
        return reply_text(reply)

    def _one(self, item: Item) -> Tuple[str, int, bool]:
        text = self._request(*item)
        verdict = parse_verdict(text)
        return triple_key(*item), (verdict if verdict is not None else 0), verdict is None

    def grade(self, items: Sequence[Item]) -> List[int]:
        keys = [triple_key(*it) for it in items]
        todo: Dict[str, Item] = {}
        with self._lock:
            for k, it in zip(keys, items):
                if k in self.cache:
                    self.stats["cache_hits"] += 1
                else:
                    todo.setdefault(k, it)
        if todo:
            if len(todo) == 1:
                results = [self._one(next(iter(todo.values())))]
            else:
                with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                    results = list(pool.map(self._one, todo.values()))
            new_lines = []
            with self._lock:
                for k, verdict, bad in results:
                    self.cache[k] = verdict
                    self.stats["calls"] += 1
                    self.stats["unparseable"] += int(bad)
                    new_lines.append(json.dumps({"key": k, "verdict": verdict, "unparseable": bad}) + "\n")
                if self.cache_path:
                    os.makedirs(os.path.dirname(os.path.abspath(self.cache_path)), exist_ok=True)
                    with open(self.cache_path, "a") as f:  # one write per call: lines from concurrent processes stay whole
                        f.write("".join(new_lines))
                        f.flush()
        return [self.cache[k] for k in keys]


def make_judge(kind: str, endpoint: Optional[str] = None, model: str = "judge", api_key_env: Optional[str] = None,
               concurrency: int = 4, retries: int = 3, cache_path: Optional[str] = None):
    if kind == "rule":
        return RuleJudge()
    if kind == "llm":
        if api_key_env and api_key_env not in secret_env_allowlist():
            # the config's author also picks the endpoint: only variables the operator listed may be sent there
            raise ValueError(f"judge_api_key_env {api_key_env} is not one of the variables the operator allows as "
                             "endpoint keys (RIL_SECRET_ENV_ALLOWLIST)")
        key = os.environ.get(api_key_env) if api_key_env else None
        return LLMJudge(endpoint or "", model, key, concurrency, retries, cache_path=cache_path)
    raise ValueError(f"unknown judge {kind!r} (rule | llm)")


__all__ = ["RuleJudge", "LLMJudge", "make_judge", "rule_verdict", "parse_verdict", "triple_key", "JUDGE_PROMPT",
           "normalise_text"]
