"""Evaluation suites: one subject scored on a suite's datasets, entry by entry, resumable per example; and the
suite scored during training.

A suite version is a list of entries (a dataset, a split, a judge, an optional sample limit). An entry's cases are the
split's examples in dataset order (``examples.jsonl`` as the worker materialises it), the first ``sampleLimit``.
Three parts, each with one job:

- **Subjects -> responses.** ``CheckpointSubject`` (a run's checkpoint, greedy PyTorch in this process: what the
  ``predict`` command runs), ``CheckpointProcessSubject`` (the same in a child process, ``python3 -m ril_trainer
  predict``: the worker's RUN subject), ``BundleSubject`` (a deployed bundle through the serving runtime,
  ``functions/evaluate/bundle-answers.ts``), ``ExternalSubject`` (an OpenAI-compatible endpoint, ``chat.py``'s client,
  a small thread pool) and ``TeacherSubject`` (a teacher's cached response, sample 0). Batch subjects yield answers
  batch by batch (a generation batch; 32 lines of the tool); the external subject answers one case at a time.
- **Judges -> verdicts.** ``entry_judge``: the rule judge (``answers.rule_verdict``) or ``judges.LLMJudge`` with its
  verdict cache in ``<cache>/judge-cache/<sha256(endpoint, model)>.jsonl``, so a job resumed on the same machine never
  asks twice.
- **The entry loop with resume.** ``score_entry`` reads the records already stored for (version, subject, entry)
  through a ``Store`` (the worker's GraphQL one, or a test's), scores only the missing cases, and records as it goes:
  a batch subject's each batch before the next starts, the external subject's each case as soon as its answer and
  verdict are known, in the thread that asked (so a crash loses at most a batch, or the ``concurrency`` cases in
  flight). Once every case has a record, the
  entry's result (accuracy and n over ALL its records, the mean response length over those that have one) is
  written. When the store reports duplicates (another attempt recorded a case first, and the first record wins), the
  result is computed from the records read back, which is what the API checks it against.

``responseTokens``: RUN: generated tokens in the student's tokenizer, the closing <eos> (an hf student: any of its stop
ids) not counted (``evaluate.response_length``); DEPLOYMENT: the serving tool's count; EXTERNAL:
``usage.completion_tokens`` when the endpoint reports it; TEACHER: none (the teacher's tokenizer is unknown).

Training-time scoring (``TrainingSuite``): ``train --eval-suite FILE`` scores the student (either family, through the
Student interface) greedily with the rule judge on each dataset of the file every ``eval_suite_every`` steps and at the
end; metrics ``eval/suite/<name>/<key>`` and ``eval/suite/<name>/avg`` (unweighted mean). File format:
functions/trainer/README.md.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Protocol, Sequence, Tuple

from . import answers
from .chat import chat_completion, completion_tokens, completions_url, endpoint_host, reply_text
from .outbound import OutboundPolicy, secret_env_allowlist

RECORD_BATCH = 32  # examples per generation batch (RUN) and per recorded batch of the serving tool (DEPLOYMENT)
TEACHER_FILL_HINT = "fill the cache first: ril teachers fill"
MAX_RESPONSE_CHARS = 20_000  # recordEvalExamples refuses longer responses


class Stopped(Exception):
    """The job was stopped between records (cancelled, or its lease was lost): nothing more may be written."""


# ----------------------------------------------------------------------------------------------
# Cases, answers, records
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    answer: str
    image: str  # absolute path of the image file (PNG or JPEG)


@dataclass(frozen=True)
class Answer:
    id: str
    text: str
    tokens: Optional[int] = None


@dataclass(frozen=True)
class Record:
    """One scored example, as the API stores it (recordEvalExamples / evalExamples)."""
    id: str
    response: str
    correct: bool
    tokens: Optional[int] = None

    def to_api(self) -> Dict[str, Any]:
        # the API keeps at most MAX_RESPONSE_CHARS of a response (the verdict was made on all of it)
        return {"externalId": self.id, "response": self.response[:MAX_RESPONSE_CHARS], "correct": self.correct,
                "responseTokens": self.tokens}

    @classmethod
    def from_api(cls, node: Mapping[str, Any]) -> "Record":
        tokens = node.get("responseTokens")
        return cls(str(node["externalId"]), node.get("response") or "", bool(node["correct"]),
                   int(tokens) if tokens is not None else None)


@dataclass
class Entry:
    id: str
    label: str
    cases: List[Case]
    judge: Any  # .grade([(question, answer, response)]) -> [0|1]
    data_dir: str = ""


@dataclass
class EntryResult:
    entry_id: str
    label: str
    accuracy: float
    n: int
    mean_response_length: Optional[float]
    scored: int = 0  # cases scored by this call (the rest were stored already)

    def to_api(self) -> Dict[str, Any]:
        return {"entryId": self.entry_id, "label": self.label, "accuracy": self.accuracy, "n": self.n,
                "meanResponseLength": self.mean_response_length}


def entry_cases(data_dir: str, split: str, limit: Optional[int] = None) -> List[Case]:
    """The split's examples of a dataset directory in file order, the first ``limit`` (None or 0: all)."""
    out: List[Case] = []
    with open(os.path.join(data_dir, "examples.jsonl")) as f:
        for line in f:
            if not line.strip():
                continue
            d = json.loads(line)
            if d.get("split", "train") != split:
                continue
            out.append(Case(str(d["id"]), d["question"], d["answer"], os.path.abspath(os.path.join(data_dir, d["image"]))))
            if limit and len(out) >= limit:
                break
    return out


def summarise(records: Sequence[Record]) -> Tuple[float, int, Optional[float]]:
    """(accuracy, n, mean response length over the records that have one, else None)."""
    n = len(records)
    lengths = [r.tokens for r in records if r.tokens is not None]
    return (sum(r.correct for r in records) / n if n else 0.0, n,
            sum(lengths) / len(lengths) if lengths else None)


# ----------------------------------------------------------------------------------------------
# Child processes (the RUN subject's generation, the serving tool)
# ----------------------------------------------------------------------------------------------

# (cmd, cwd) -> a started process with text stdout and stderr pipes. The worker's spawn adds the allowlisted
# environment and dies-with-parent, and remembers the process so a cancel can stop it.
Spawn = Callable[[List[str], str], subprocess.Popen]


def default_spawn(cmd: List[str], cwd: str) -> subprocess.Popen:
    return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)


def _process_lines(cmd: List[str], cwd: str, spawn: Spawn, what: str) -> Iterator[str]:
    """The stdout lines of a command as it prints them; an error with its stderr's tail if it exits non-zero. The
    process is stopped if the reader stops early."""
    proc = spawn(cmd, cwd)
    tail: List[str] = []

    def drain() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line)
            del tail[:-30]
    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            yield line
        code = proc.wait()
        reader.join(5)
        if code != 0:
            raise RuntimeError(f"{what} exited with {code}: {''.join(tail).strip()[-2000:]}")
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def _write_jsonl(path: str, rows: Sequence[Mapping[str, Any]]) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


# ----------------------------------------------------------------------------------------------
# Subjects
# ----------------------------------------------------------------------------------------------


class Subject:
    """What is scored. Batch subjects implement ``batches``; per-case subjects set ``per_case`` and implement
    ``answer`` (called from ``concurrency`` threads)."""

    per_case = False
    concurrency = 1

    def check(self, entry: Entry) -> None:
        """Raises before anything is scored if the subject cannot answer the entry."""

    def batches(self, cases: Sequence[Case]) -> Iterator[List[Answer]]:
        raise NotImplementedError

    def answer(self, case: Case) -> Answer:
        raise NotImplementedError


class CheckpointSubject(Subject):
    """A checkpoint of either family (``students.load.load_student``: a built-in model, or an hf base model with the
    checkpoint's LoRA adapters or weights) decoded greedily in this process (``evaluate.predict``'s decoding),
    ``batch_size`` cases a batch; max_new_tokens defaults to the checkpoint's trained budget
    (``evaluate.checkpoint_budget``)."""

    def __init__(self, checkpoint: str, batch_size: int = RECORD_BATCH, max_new_tokens: Optional[int] = None,
                 device: str = "cpu"):
        from .evaluate import checkpoint_budget
        from .students.load import load_student
        self.student, state = load_student(checkpoint, device)
        self.max_new_tokens = max_new_tokens if max_new_tokens is not None else checkpoint_budget(state.get("train_config") or {})
        self.batch_size, self.device = max(1, batch_size), device

    def batches(self, cases: Sequence[Case]) -> Iterator[List[Answer]]:
        from .data import Example, VQADataset
        from .evaluate import response_length, stop_ids
        from .students.base import greedy_responses
        tk = self.student.tokenizer
        stops = stop_ids(tk)
        for s in range(0, len(cases), self.batch_size):
            chunk = list(cases[s:s + self.batch_size])
            # the batch's images are read now (a bad image fails its batch, after the earlier ones were answered)
            ds = VQADataset("", self.student.image_cfg, examples=[Example(c.id, c.image, c.question, c.answer, "")
                                                                  for c in chunk])
            tokens = greedy_responses(self.student, ds, range(len(chunk)), len(chunk), self.max_new_tokens)
            yield [Answer(c.id, tk.decode(t), response_length(t, stops)) for c, t in zip(chunk, tokens)]


class CheckpointProcessSubject(Subject):
    """``CheckpointSubject`` in a child process (``python3 -m ril_trainer predict``), which prints one JSON line per
    batch: the worker stays responsive, and the model's memory (a GPU context) goes when the child ends."""

    def __init__(self, python: str, checkpoint: str, package_root: str, work_dir: str, spawn: Spawn = default_spawn,
                 batch_size: int = RECORD_BATCH, device: str = "auto", threads: Optional[int] = None):
        self.python, self.checkpoint, self.package_root, self.work_dir = python, checkpoint, package_root, work_dir
        self.spawn, self.batch_size, self.device, self.threads = spawn, batch_size, device, threads

    def batches(self, cases: Sequence[Case]) -> Iterator[List[Answer]]:
        fd, path = tempfile.mkstemp(prefix="cases-", suffix=".jsonl", dir=_mkdir(self.work_dir))
        os.close(fd)
        try:
            _write_jsonl(path, [{"id": c.id, "image": c.image, "question": c.question} for c in cases])
            cmd = [self.python, "-m", "ril_trainer", "predict", "--checkpoint", self.checkpoint, "--cases", path,
                   "--batch-size", str(self.batch_size), "--device", self.device]
            if self.threads:
                cmd += ["--threads", str(self.threads)]
            for line in _process_lines(cmd, self.package_root, self.spawn, "ril_trainer predict"):
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("event") == "answers":
                    yield [Answer(str(a["id"]), a["text"], a.get("tokens")) for a in ev["answers"]]
        finally:
            os.unlink(path)


BUNDLE_TOOL = os.path.join("functions", "evaluate", "bundle-answers.ts")


class BundleSubject(Subject):
    """A deployed bundle through the serving runtime: ``node --import tsx functions/evaluate/bundle-answers.ts
    --bundle DIR --cases CASES.jsonl`` run from the repository root, greedy, one JSON line per case
    ``{"answer", "tokens", "finish_reason"}`` in case order; every ``batch`` lines are one batch. ``max_tokens`` None:
    as many as the model allows after the question, what the endpoint generates when a caller names no limit."""

    def __init__(self, bundle_dir: str, repo_root: str, work_dir: str, spawn: Spawn = default_spawn,
                 batch: int = RECORD_BATCH, max_tokens: Optional[int] = None, threads: Optional[int] = None,
                 node: str = "node"):
        self.bundle_dir, self.repo_root, self.work_dir, self.spawn = bundle_dir, repo_root, work_dir, spawn
        self.batch, self.max_tokens, self.threads, self.node = max(1, batch), max_tokens, threads, node

    def check(self, entry: Entry) -> None:
        if not os.path.exists(os.path.join(self.repo_root, BUNDLE_TOOL)):
            raise RuntimeError(f"scoring a deployment needs {BUNDLE_TOOL} of a checkout of the repository "
                               f"(not found under {self.repo_root})")

    def answer_lines(self, cases_path: str) -> Iterator[str]:
        """The serving tool's output lines (the one place it is called)."""
        cmd = [self.node, "--import", "tsx", BUNDLE_TOOL, "--bundle", self.bundle_dir, "--cases", cases_path]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        return _process_lines(cmd, self.repo_root, self.spawn, "bundle-answers.ts")

    def batches(self, cases: Sequence[Case]) -> Iterator[List[Answer]]:
        fd, path = tempfile.mkstemp(prefix="cases-", suffix=".jsonl", dir=_mkdir(self.work_dir))
        os.close(fd)
        try:
            _write_jsonl(path, [{"image": c.image, "question": c.question, "max_tokens": self.max_tokens} for c in cases])
            out: List[Answer] = []
            i = 0
            for line in self.answer_lines(path):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                    text, tokens = d["answer"], d.get("tokens")
                except (ValueError, KeyError, TypeError):
                    raise RuntimeError(f"bundle-answers.ts printed a line that is not an answer: {line[:200]!r}") from None
                if i >= len(cases):
                    raise RuntimeError(f"bundle-answers.ts printed more answers than the {len(cases)} cases")
                out.append(Answer(cases[i].id, text if isinstance(text, str) else str(text),
                                  int(tokens) if isinstance(tokens, int) else None))
                i += 1
                if len(out) >= self.batch:
                    yield out
                    out = []
            if out:
                yield out
        finally:
            os.unlink(path)


def image_data_url(path: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    elif data.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    else:
        raise ValueError(f"{path} is neither a PNG nor a JPEG image")
    return f"data:{mime};base64," + base64.b64encode(data).decode("ascii")


class ExternalSubject(Subject):
    """A model behind an OpenAI-compatible endpoint: ``POST {endpoint}/chat/completions`` with the question and the
    image (a data URL), ``max_tokens`` 256, temperature 0; ``concurrency`` requests at once, in case order."""

    per_case = True

    def __init__(self, endpoint: str, model: str, api_key: Optional[str] = None, concurrency: int = 4,
                 max_tokens: int = 256, retries: int = 3, timeout_s: float = 120.0, backoff_s: float = 0.5,
                 policy: Optional[OutboundPolicy] = None):
        if not endpoint or not model:
            raise ValueError("an EXTERNAL subject needs an endpoint and a model")
        self.url = completions_url(endpoint)
        self.policy = policy or OutboundPolicy.from_env()
        self.host = endpoint_host(self.url, self.policy, "endpoint")
        self.model, self.api_key = model, api_key
        self.concurrency, self.max_tokens = max(1, concurrency), max_tokens
        self.retries, self.timeout_s, self.backoff_s = retries, timeout_s, backoff_s

    def answer(self, case: Case) -> Answer:
        body = {"model": self.model, "max_tokens": self.max_tokens, "temperature": 0,
                "messages": [{"role": "user", "content": [
                    {"type": "text", "text": case.question},
                    {"type": "image_url", "image_url": {"url": image_data_url(case.image)}}]}]}
        reply = chat_completion(self.url, body, self.api_key, self.policy, timeout_s=self.timeout_s, retries=self.retries,
                                backoff_s=self.backoff_s, label=f"endpoint {self.host}")
        return Answer(case.id, reply_text(reply), completion_tokens(reply))


class TeacherSubject(Subject):
    """A teacher scored from its cached responses (sample 0) in ``<data_dir>/teachers/<teacher>.jsonl``."""

    def __init__(self, data_dir: str, teacher: str, label: str = "", batch: int = 500):
        self.teacher, self.label, self.batch = teacher, label or data_dir, batch
        self.texts: Dict[str, str] = {}
        path = os.path.join(data_dir, "teachers", f"{teacher}.jsonl")
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    if line.strip():
                        d = json.loads(line)
                        if int(d.get("sample", 0)) == 0:
                            self.texts[str(d["example"])] = d["text"]

    def check(self, entry: Entry) -> None:
        missing = [c.id for c in entry.cases if c.id not in self.texts]
        if missing:
            raise RuntimeError(f"teacher {self.teacher} has no cached response (sample 0) for {len(missing)} of the "
                               f"{len(entry.cases)} examples of dataset {self.label} (e.g. {missing[0]}); "
                               f"{TEACHER_FILL_HINT}")

    def batches(self, cases: Sequence[Case]) -> Iterator[List[Answer]]:
        for s in range(0, len(cases), self.batch):
            yield [Answer(c.id, self.texts[c.id], None) for c in cases[s:s + self.batch]]


def _mkdir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    return path


# ----------------------------------------------------------------------------------------------
# Judges
# ----------------------------------------------------------------------------------------------


def endpoint_key(name: Optional[str], what: str, env: Optional[Mapping[str, str]] = None) -> Optional[str]:
    """The key an endpoint is called with: the variable ``name`` of this process's environment, which the operator
    must list in RIL_SECRET_ENV_ALLOWLIST (the API's rule for the names it accepts) and which must be set; never the
    worker's own platform key (RIL_API_KEY), even if listed. None when no name."""
    if not name:
        return None
    src = os.environ if env is None else env
    if name not in secret_env_allowlist(src) or name == "RIL_API_KEY":
        raise ValueError(f"{what}: {name} is not one of the variables the operator allows as endpoint keys "
                         "(RIL_SECRET_ENV_ALLOWLIST)")
    value = src.get(name)
    if not value:
        raise ValueError(f"{what}: the key variable {name} is not set in the worker's environment")
    return value


def judge_cache_path(cache_dir: str, endpoint: str, model: str) -> str:
    digest = hashlib.sha256(json.dumps([completions_url(endpoint), model]).encode("utf-8")).hexdigest()
    return os.path.join(cache_dir, "judge-cache", f"{digest}.jsonl")


def entry_judge(spec: Optional[Mapping[str, Any]], cache_dir: str, concurrency: int = 4,
                env: Optional[Mapping[str, str]] = None):
    """The judge of an entry (payload ``judge``: {"kind": "RULE"|"LLM", "endpoint", "model", "apiKeyEnv"})."""
    from .judges import LLMJudge, RuleJudge
    kind = str((spec or {}).get("kind") or "RULE").upper()
    if kind == "RULE":
        return RuleJudge()
    if kind == "LLM":
        assert spec is not None
        endpoint, model = spec.get("endpoint") or "", spec.get("model") or ""
        if not endpoint or not model:
            raise ValueError("an LLM judge needs an endpoint and a model")
        key = endpoint_key(spec.get("apiKeyEnv"), "judge apiKeyEnv", env)
        return LLMJudge(endpoint, model, key, concurrency=concurrency, cache_path=judge_cache_path(cache_dir, endpoint, model))
    raise ValueError(f"unknown judge kind {kind!r} (RULE | LLM)")


# ----------------------------------------------------------------------------------------------
# The entry loop with resume
# ----------------------------------------------------------------------------------------------


class Store(Protocol):
    def stored(self, entry_id: str) -> Dict[str, Record]:
        """The records already stored for this (version, subject) on the entry, by externalId."""

    def record(self, entry_id: str, records: List[Record]) -> int:
        """Stores records (idempotent: one already stored keeps its first record); returns the duplicates. Called
        from several threads at once for a per-case subject."""

    def result(self, entry_id: str, accuracy: float, n: int, mean_response_length: Optional[float]) -> None:
        """Writes the entry's result."""


class MemoryStore:
    """A Store in memory, with the API's rules (first record wins; results checked against the records)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.records: Dict[str, Dict[str, Record]] = {}
        self.results: Dict[str, Dict[str, Any]] = {}
        self.calls: List[Tuple[str, int]] = []  # (entry, records in the call)

    def stored(self, entry_id: str) -> Dict[str, Record]:
        return dict(self.records.get(entry_id, {}))

    def record(self, entry_id: str, records: List[Record]) -> int:
        with self.lock:
            self.calls.append((entry_id, len(records)))
            have = self.records.setdefault(entry_id, {})
            dup = 0
            for r in records:
                if r.id in have:
                    dup += 1
                else:
                    have[r.id] = r
            return dup

    def result(self, entry_id: str, accuracy: float, n: int, mean_response_length: Optional[float]) -> None:
        acc, count, _ = summarise(list(self.records.get(entry_id, {}).values()))
        if count != n or abs(acc - accuracy) > 1e-9:
            raise ValueError(f"entry {entry_id}: result ({accuracy}, {n}) does not match the records ({acc}, {count})")
        self.results[entry_id] = {"accuracy": accuracy, "n": n, "meanResponseLength": mean_response_length}


def _per_case(todo: Sequence[Case], subject: Subject, judge: Any, keep: Callable[[Record], None],
              should_stop: Callable[[], bool]) -> None:
    """Each case answered, judged and kept (recorded) in one of ``subject.concurrency`` threads, cases started in
    order: a thread records its case before it starts the next, so at most ``concurrency`` cases are ever answered
    and not yet recorded. After a stop or an error no case is started, judged or recorded any more."""
    done = threading.Event()

    def stopping() -> bool:
        return done.is_set() or should_stop()

    def one(case: Case) -> None:
        try:
            if stopping():
                return
            a = subject.answer(case)
            if stopping():  # an answer that can no longer be recorded is not worth a judge call
                return
            verdict = judge.grade([(case.question, case.answer, a.text)])[0]
            if not stopping():
                keep(Record(case.id, a.text, bool(verdict), a.tokens))
        except BaseException:
            done.set()  # before this thread takes the next case
            raise

    pool = ThreadPoolExecutor(max_workers=subject.concurrency)
    try:
        futures = [pool.submit(one, c) for c in todo]
        for fut in as_completed(futures):
            fut.result()
            if should_stop():
                raise Stopped()
    finally:
        done.set()
        pool.shutdown(wait=False, cancel_futures=True)  # a request in flight finishes in the background, unrecorded


def score_entry(entry: Entry, subject: Subject, store: Store, should_stop: Callable[[], bool] = lambda: False,
                progress: Callable[[int], None] = lambda n: None) -> EntryResult:
    """Scores the entry's cases that have no record yet, records them as it goes, then writes the entry's result.
    ``progress(k)``: k more cases have a record (the stored ones are reported first)."""
    if not entry.cases:
        raise ValueError(f"entry {entry.label} has no examples")
    stored = store.stored(entry.id)
    by_id = {c.id: c for c in entry.cases}
    todo = [c for c in entry.cases if c.id not in stored]
    progress(len(entry.cases) - len(todo))
    new: Dict[str, Record] = {}
    duplicates = 0
    lock = threading.Lock()

    def keep(rec: Record) -> None:  # called from the subject's threads
        nonlocal duplicates
        dup = store.record(entry.id, [rec])
        with lock:
            duplicates += dup
            new[rec.id] = rec
            progress(1)
    try:
        if todo and subject.per_case:
            _per_case(todo, subject, entry.judge, keep, should_stop)
        elif todo:
            with closing(subject.batches(todo)) as batches:  # an early stop ends the subject's child process now
                for batch in batches:
                    for a in batch:
                        if a.id not in by_id or a.id in stored or a.id in new:
                            raise RuntimeError(f"the subject answered case {a.id!r}, which was not asked or asked once")
                    verdicts = entry.judge.grade([(by_id[a.id].question, by_id[a.id].answer, a.text) for a in batch])
                    recs = [Record(a.id, a.text, bool(v), a.tokens) for a, v in zip(batch, verdicts)]
                    duplicates += store.record(entry.id, recs)
                    new.update((r.id, r) for r in recs)
                    progress(len(recs))
                    if should_stop():
                        raise Stopped()
    except Stopped:
        raise
    except Exception:
        if should_stop():  # a stopped child ends with an error: the stop is what happened
            raise Stopped() from None
        raise
    if len(new) != len(todo):
        raise RuntimeError(f"entry {entry.label}: the subject answered {len(new)} of the {len(todo)} cases asked")
    records = list({**new, **stored}.values())  # a stored record wins, as on the server
    if duplicates:  # another attempt recorded some first: the server's records are the truth
        records = list(store.stored(entry.id).values())
    accuracy, n, mean_len = summarise(records)
    if should_stop():
        raise Stopped()
    store.result(entry.id, accuracy, n, mean_len)
    return EntryResult(entry.id, entry.label, accuracy, n, mean_len, scored=len(new))


def score_suite(entries: Sequence[Entry], subject_for: Callable[[Entry], Subject], store: Store,
                should_stop: Callable[[], bool] = lambda: False,
                progress: Callable[[int], None] = lambda n: None) -> List[EntryResult]:
    """Every entry in order; the subject checks every entry before anything is scored (a missing teacher response
    fails the job before it writes a record)."""
    subjects = [subject_for(e) for e in entries]
    for e, s in zip(entries, subjects):
        s.check(e)
    return [score_entry(e, s, store, should_stop, progress) for e, s in zip(entries, subjects)]


def suite_result(suite: str, version: int, subject_kind: str, results: Sequence[EntryResult]) -> Dict[str, Any]:
    """completeJob's result: per-entry results and their unweighted mean."""
    return {"suite": suite, "version": version, "subject": subject_kind, "results": [r.to_api() for r in results],
            "average": sum(r.accuracy for r in results) / len(results) if results else None}


# ----------------------------------------------------------------------------------------------
# Training-time scoring
# ----------------------------------------------------------------------------------------------

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$")


@dataclass
class SuiteDataset:
    key: str
    data_dir: str
    split: str
    limit: Optional[int]


@dataclass
class TrainingSuite:
    """``eval_suite.json``: {"name", "version", "datasets": [{"key", "data_dir", "split", "limit"}]} (data_dir
    relative to the file's directory unless absolute; limit null = the whole split)."""

    name: str
    version: Optional[int]
    datasets: List[SuiteDataset]
    _loaded: Optional[List[Tuple[SuiteDataset, Any, List[int]]]] = field(default=None, repr=False)

    @classmethod
    def read(cls, path: str) -> "TrainingSuite":
        with open(path) as f:
            d = json.load(f)
        where = f"eval suite file {path}"
        if not isinstance(d, dict) or not isinstance(d.get("name"), str) or not _NAME.match(d["name"]):
            raise ValueError(f"{where}: \"name\" must be a suite name (letters, digits, '.', '_', '-')")
        rows = d.get("datasets")
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"{where}: \"datasets\" must be a non-empty list")
        base = os.path.dirname(os.path.abspath(path))
        out: List[SuiteDataset] = []
        for i, r in enumerate(rows):
            if not isinstance(r, dict) or not isinstance(r.get("key"), str) or not _KEY.match(r["key"]) or r["key"] == "avg":
                raise ValueError(f"{where}: datasets[{i}].key must be a metric name part (not 'avg', no '/')")
            if any(o.key == r["key"] for o in out):
                raise ValueError(f"{where}: datasets[{i}].key {r['key']!r} appears twice")
            data_dir = os.path.join(base, str(r.get("data_dir") or ""))
            if not os.path.exists(os.path.join(data_dir, "examples.jsonl")):
                raise ValueError(f"{where}: datasets[{i}].data_dir {data_dir} has no examples.jsonl")
            limit = r.get("limit")
            if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
                raise ValueError(f"{where}: datasets[{i}].limit must be a positive integer or null")
            out.append(SuiteDataset(r["key"], data_dir, str(r.get("split") or "test"), limit))
        version = d.get("version")
        return cls(d["name"], int(version) if isinstance(version, int) else None, out)

    def due(self, step: int, every: int, final_step: Optional[int]) -> bool:
        """Scored every ``every`` steps (0: never in between) and at ``final_step`` (None: no end in this phase)."""
        return step == final_step or bool(every and step > 0 and step % every == 0)

    def prepare(self, student: Any) -> "TrainingSuite":
        """Reads every dataset now as the student reads it (a built-in model's images decoded at its size and channels),
        so a dataset the student cannot read fails before training rather than at the first scoring."""
        self._datasets(student)
        return self

    def _datasets(self, student: Any) -> List[Tuple[SuiteDataset, Any, List[int]]]:
        if self._loaded is None:
            from .evaluate import pick_indices
            loaded = []
            for sd in self.datasets:
                ds = student.dataset(sd.data_dir, [sd.split])
                idx = pick_indices(ds, sd.split, sd.limit)
                if not idx:
                    raise ValueError(f"eval suite {self.name}: {sd.data_dir} has no {sd.split} examples")
                loaded.append((sd, ds, idx))
            self._loaded = loaded
        return self._loaded

    def metric_names(self) -> List[str]:
        return [f"eval/suite/{self.name}/{sd.key}" for sd in self.datasets] + [f"eval/suite/{self.name}/avg"]

    def score(self, student: Any, max_new_tokens: int, batch_size: int = 64, device: str = "cpu") -> Dict[str, float]:
        """Greedy accuracy (rule judge) of a students.Student of either family (a built-in StudentVLM is wrapped, its
        inputs on ``device``) on each dataset, and their unweighted mean, by metric name."""
        from .evaluate import as_student, predict
        student = as_student(student, device)
        out: Dict[str, float] = {}
        for sd, ds, idx in self._datasets(student):
            preds = predict(student, ds, idx, batch_size=batch_size, max_new_tokens=max_new_tokens)
            ok = [answers.rule_verdict(ds.examples[i].question, ds.examples[i].answer, p) for i, p in zip(idx, preds)]
            out[f"eval/suite/{self.name}/{sd.key}"] = sum(ok) / len(ok)
        out[f"eval/suite/{self.name}/avg"] = sum(out.values()) / len(out)
        return out


def bundle_accuracy_any(bundle_dir: str, data_dir: str, split: str = "test", limit: Optional[int] = None,
                        max_new_tokens: Optional[int] = None, *, repo_root: str) -> Dict[str, object]:
    """The accuracy of any bundle on a split with the rule judge (an EVALUATE job of a BUNDLE artifact): a built-in
    bundle through evaluate.bundle_accuracy; a Hugging Face (format-3) bundle through the endpoint's own runtime
    (transformers.js on onnxruntime-node, BundleSubject: the suites' deployment subject), greedy, its default
    variant, run from the checkout ``repo_root`` (where that tool lives; worker/suite_job.repo_root). max_new_tokens
    None: as many tokens as the model allows."""
    from .evaluate import bundle_accuracy
    with open(os.path.join(bundle_dir, "manifest.json")) as f:
        if "hf" not in json.load(f):
            return bundle_accuracy(bundle_dir, data_dir, split, limit, max_new_tokens)
    cases = entry_cases(data_dir, split, limit)
    if not cases:
        raise ValueError(f"split {split!r} of {data_dir} has no examples")
    with tempfile.TemporaryDirectory(prefix="bundle-accuracy-") as work:
        got = [a for batch in BundleSubject(bundle_dir, repo_root, work, max_tokens=max_new_tokens).batches(cases)
               for a in batch]
    if len(got) != len(cases):
        raise RuntimeError(f"bundle-answers.ts answered {len(got)} of {len(cases)} cases")
    correct = [bool(answers.rule_verdict(c.question, c.answer, a.text)) for c, a in zip(cases, got)]
    return {"accuracy": sum(correct) / len(correct), "n": len(correct), "ms_per_token": None,
            "answers": [a.text for a in got]}


__all__ = ["Answer", "BundleSubject", "Case", "CheckpointProcessSubject", "CheckpointSubject", "Entry", "EntryResult",
           "ExternalSubject", "MemoryStore", "Record", "Stopped", "Store", "Subject", "TeacherSubject", "TrainingSuite",
           "bundle_accuracy_any", "entry_cases", "entry_judge", "endpoint_key", "image_data_url", "judge_cache_path",
           "score_entry", "score_suite", "suite_result", "summarise"]
