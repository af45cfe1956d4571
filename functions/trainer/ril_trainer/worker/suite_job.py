"""The worker's side of a suite EVALUATE job (a payload with ``suiteVersionId``): the platform's records through
GraphQL, the subject set up from the payload, and the training-time suite file of a TRAIN job. The scoring itself
(subjects, judges, the entry loop with resume) is the library's: ril_trainer/suite_eval.py.

- Records: ``evalExamples`` (what is stored for this version, subject and entry; read before scoring an entry, so a
  resumed job scores only what is missing), ``recordEvalExamples`` (at most 500 a call, idempotent, fenced by the
  lease: CONFLICT stops the job like the TRAIN path), ``recordEvalResult`` (once an entry has every record).
- Subjects: RUN, the run's newest checkpoint (``run.latestCheckpoint``) decoded in a child process
  (``python3 -m ril_trainer predict``, allowlisted environment, dies with the worker); DEPLOYMENT, the revision's
  BUNDLE blob (``bundleSha256``) extracted safely, answered by the serving runtime's tool; EXTERNAL, the endpoint
  with the key named by ``apiKeyEnv`` from the worker's environment (allowlisted names only); TEACHER, the teacher's
  cached responses, materialised with the dataset.
- Progress: the heartbeat's step is the number of examples with a record, totalSteps the suite's examples.
"""
from __future__ import annotations

import json
import os
import tarfile
from typing import Any, Callable, Dict, List, Optional

from ..suite_eval import (BundleSubject, CheckpointProcessSubject, Entry, ExternalSubject, Record, Stopped, Subject,
                          TeacherSubject, endpoint_key, entry_cases, entry_judge, score_suite, suite_result)
from .client import ApiClient, ApiError
from .files import build_folder

# loop.JobRunner (loop.py imports this module, so not the other way round): api, job, worker_id, attempt, payload,
# cache, python, threads, package_root, eval_concurrency, step, total, cancelled, lease_lost, lose_lease(err),
# materialize(dataset_id, teachers), spawn(cmd, cwd)
Runner = Any
Materialize = Callable[[str, List[str]], str]  # (dataset id, teachers) -> the dataset directory

EVAL_EXAMPLES_Q = """query($v: ID!, $s: ID!, $e: ID!, $after: String) {
  evalExamples(versionId: $v, subjectId: $s, entryId: $e, first: 1000, after: $after) {
    edges { node { externalId response correct responseTokens } } pageInfo { hasNextPage endCursor } } }"""
RECORD_EXAMPLES_M = """mutation($i: RecordEvalExamplesInput!) { recordEvalExamples(input: $i) { written duplicates } }"""
RECORD_RESULT_M = """mutation($i: RecordEvalResultInput!) { recordEvalResult(input: $i) { id } }"""
RUN_CHECKPOINT_Q = """query($r: ID!) { run(id: $r) { latestCheckpoint { id blobSha256 metadata } } }"""
RECORD_LIMIT = 500  # examples per recordEvalExamples call


def extract_bundle(api: ApiClient, cache: str, sha: str) -> str:
    """The BUNDLE blob ``sha`` (a tar.gz) extracted once under the cache; flat regular files only (files.build_folder:
    nothing is left behind when the archive is refused)."""
    blob = api.get_blob(sha, os.path.join(cache, "blobs", sha))

    def extract(tmp: str) -> None:
        with tarfile.open(blob) as tar:
            for m in tar.getmembers():  # a bundle is flat regular files: refuse anything else
                if not (m.isfile() or m.isdir()) or m.name.startswith("/") or ".." in m.name.split("/"):
                    raise RuntimeError(f"unsafe entry in bundle archive: {m.name}")
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4 / 3.12: the library's own check as well
                tar.extractall(tmp, filter="data")
            else:
                tar.extractall(tmp)
        if not os.path.exists(os.path.join(tmp, "manifest.json")):
            raise RuntimeError(f"bundle {sha} has no manifest.json")
    return build_folder(os.path.join(cache, "bundles", sha), "manifest.json", extract)


class GraphQLStore:
    """suite_eval.Store over the platform's API, under the runner's lease."""

    def __init__(self, runner: Runner):
        self.runner = runner
        p = runner.payload
        self.version_id, self.subject_id = p["suiteVersionId"], p["subjectId"]

    def _lease(self) -> Dict[str, Any]:
        r = self.runner
        return {"jobId": r.job["id"], "workerId": r.worker_id, "attempt": r.attempt}

    def _write(self, query: str, i: Dict[str, Any]) -> Dict[str, Any]:
        if self.runner.lease_lost.is_set():
            raise Stopped()
        try:
            return self.runner.api.gql(query, {"i": i})
        except ApiError as err:
            if err.code == "CONFLICT":
                self.runner.lose_lease(err)
                raise Stopped() from None
            raise

    def stored(self, entry_id: str) -> Dict[str, Record]:
        out: Dict[str, Record] = {}
        after = None
        while True:
            conn = self.runner.api.gql(EVAL_EXAMPLES_Q, {"v": self.version_id, "s": self.subject_id, "e": entry_id,
                                                         "after": after})["evalExamples"]
            for edge in conn["edges"]:
                rec = Record.from_api(edge["node"])
                out.setdefault(rec.id, rec)
            if not conn["pageInfo"]["hasNextPage"]:
                return out
            after = conn["pageInfo"]["endCursor"]

    def record(self, entry_id: str, records: List[Record]) -> int:
        duplicates = 0
        for s in range(0, len(records), RECORD_LIMIT):
            r = self._write(RECORD_EXAMPLES_M, {**self._lease(), "entryId": entry_id,
                                                "examples": [x.to_api() for x in records[s:s + RECORD_LIMIT]]})
            duplicates += int(r["recordEvalExamples"]["duplicates"])
        return duplicates

    def result(self, entry_id: str, accuracy: float, n: int, mean_response_length: Optional[float]) -> None:
        self._write(RECORD_RESULT_M, {**self._lease(), "entryId": entry_id, "accuracy": accuracy, "n": n,
                                      "meanResponseLength": mean_response_length})


def repo_root(package_root: str) -> str:
    """The repository checkout the package runs from (functions/trainer/../..): where the serving tools live."""
    return os.path.dirname(os.path.dirname(package_root))


def make_subject(runner: Runner, subject: Dict[str, Any], work_dir: str) -> Optional[Subject]:
    """The job's subject (None for TEACHER: one per entry, see subject_for)."""
    kind = subject.get("kind")
    if kind == "RUN":
        r = runner.api.gql(RUN_CHECKPOINT_Q, {"r": subject["runId"]})
        newest = (r["run"] or {}).get("latestCheckpoint")
        if not newest:
            raise RuntimeError(f"run {subject['runId']} has no checkpoint to evaluate")
        ckpt = runner.api.get_blob(newest["blobSha256"], os.path.join(runner.cache, "blobs", newest["blobSha256"]))
        runner.checkpoint_step = (newest.get("metadata") or {}).get("step")
        return CheckpointProcessSubject(runner.python, ckpt, runner.package_root, work_dir, spawn=runner.spawn,
                                        threads=runner.threads)
    if kind == "DEPLOYMENT":
        sha = subject.get("bundleSha256")
        if not sha:
            raise RuntimeError(f"the payload names no bundle for deployment {subject.get('deployment')}")
        return BundleSubject(extract_bundle(runner.api, runner.cache, sha), repo_root(runner.package_root), work_dir,
                             spawn=runner.spawn, threads=runner.threads)
    if kind == "EXTERNAL":
        key = endpoint_key(subject.get("apiKeyEnv"), "subject apiKeyEnv")
        return ExternalSubject(subject.get("endpoint") or "", subject.get("model") or "", key,
                               concurrency=runner.eval_concurrency)
    if kind == "TEACHER":
        if not subject.get("teacher"):
            raise RuntimeError("a TEACHER subject needs a teacher name")
        return None
    raise RuntimeError(f"unknown subject kind {kind!r}")


def run_suite_evaluate(runner: Runner) -> Dict[str, Any]:
    p = runner.payload
    subject = p["subject"]
    teacher = subject.get("teacher") if subject.get("kind") == "TEACHER" else None
    entries: List[Entry] = []
    for d in p["datasets"]:
        data_dir = runner.materialize(d["datasetId"], [teacher] if teacher else [])
        label = d.get("label") or f"{d['datasetId']}/{d.get('split', 'test')}"
        entries.append(Entry(d["entryId"], label, entry_cases(data_dir, d.get("split") or "test", d.get("sampleLimit")),
                             entry_judge(d.get("judge"), runner.cache, concurrency=runner.eval_concurrency), data_dir))
    runner.total = sum(len(e.cases) for e in entries) or None
    runner.step = 0
    work_dir = os.path.join(runner.cache, "suite-work", runner.job["id"])
    shared = make_subject(runner, subject, work_dir)

    def subject_for(entry: Entry) -> Subject:
        return shared if shared is not None else TeacherSubject(entry.data_dir, str(teacher), entry.label)

    def progress(k: int) -> None:
        runner.step += k

    def should_stop() -> bool:
        return runner.cancelled.is_set() or runner.lease_lost.is_set()

    try:
        results = score_suite(entries, subject_for, GraphQLStore(runner), should_stop, progress)
    except Stopped:
        return {"stopped": True}
    out = suite_result(p["suite"], p["version"], subject.get("kind"), results)
    if subject.get("kind") == "RUN":  # a RUN is scored on its newest checkpoint when the job runs: which one
        out["checkpointStep"] = getattr(runner, "checkpoint_step", None)
    return out


# ----------------------------------------------------------------------------------------------
# TRAIN: the suite scored during training
# ----------------------------------------------------------------------------------------------

def write_training_suite(materialize: Materialize, spec: Dict[str, Any], run_dir: str) -> str:
    """Materialises the datasets of the TRAIN payload's ``evalSuite`` and writes ``<run_dir>/eval_suite.json``
    (suite_eval.TrainingSuite's format) for ``train --eval-suite``; returns its path."""
    datasets = []
    for d in spec.get("datasets") or []:
        judge = str((d.get("judge") or {}).get("kind") or "RULE").upper()
        if judge != "RULE":
            raise RuntimeError(f"training-time suite scoring uses the RULE judge only; {d.get('label') or d.get('entryId')} "
                               f"has {judge}")
        datasets.append({"key": d["metricKey"], "data_dir": materialize(d["datasetId"], []),
                         "split": d.get("split") or "test", "limit": d.get("sampleLimit")})
    path = os.path.join(run_dir, "eval_suite.json")
    with open(path + ".tmp", "w") as f:
        json.dump({"name": spec["name"], "version": spec.get("version"), "datasets": datasets}, f, indent=1)
    os.replace(path + ".tmp", path)
    return path

