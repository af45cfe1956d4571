"""The worker function: claims TRAIN and EVALUATE jobs from the platform over GraphQL and runs them.

    RIL_API_KEY=... python3 -m ril_trainer worker --api http://host:4000     (or --key-file FILE; RIL_API_URL)

Protocol (the blueprint's): register -> claim -> fetch the job's spec, the dataset manifest and the teacher
responses (paginated) -> download images once into a local cache by sha256 -> run the trainer as a child
process -> heartbeat (the answer says whether to cancel) -> send its metrics in batches (idempotent per run,
step and name, so a replay after a crash writes nothing twice) -> upload each checkpoint and the final ONNX
bundle as artifacts -> complete or fail with the error.

Choices:
- The trainer runs as a child process (``python3 -m ril_trainer train``) and speaks JSON lines on stdout; the
  worker only relays. The child dies with the worker (PR_SET_PDEATHSIG), so a killed worker leaves no
  orphan holding the GPU. It gets an allowlisted environment (child_env.py), never the worker's API key.
- Artifacts and images move through the API's presigned blob URLs (client.py), never a fixed blob route.
- Leases are fenced: claimJob's ``attempts`` is the lease's token, sent with every heartbeat, metric batch,
  artifact and the final complete/fail. A worker whose lease expired and was claimed again (even by itself)
  gets CONFLICT and stops, so it can never write over the run's new holder.
- Resuming: before starting, the run's ``latestCheckpoint`` (the one the API registered last under a lease of
  the run: server order, never a step number a client wrote) is downloaded into the run directory; the
  trainer resumes from it exactly (model, optimizer, RNG, data position) and loads it with
  ``weights_only=True``, so a checkpoint file can never run code. Metrics re-emitted for steps between that
  checkpoint and the crash are already stored and are skipped by the API.
- Metrics up to a checkpoint are flushed before the checkpoint is registered, so a resumed run never lacks
  a step.
- EVALUATE jobs: a payload with ``suiteVersionId`` scores one subject on a suite version (suite_job.py + the library's
  suite_eval.py: per-example records, resumable per example, one result per entry); the single-dataset payload
  (``datasetId``, ``runId`` or ``artifactId``) runs ``run_evaluate``. A TRAIN payload's ``evalSuite`` becomes the
  run's ``eval_suite.json`` (``train --eval-suite``).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from typing import Any, Dict, List, Optional, Sequence

from .child_env import child_env, config_env_names
from ..lifecycle import die_with_parent
from .client import ApiClient, ApiError
from .credentials import KeyFileError, resolve_api_key
from .files import build_folder, write_durably
from .suite_job import extract_bundle, repo_root, run_suite_evaluate, write_training_suite

KINDS = ["TRAIN", "EVALUATE"]
# the directory holding the ril_trainer package (the source tree, or site-packages when installed): child
# processes run `python3 -m ril_trainer ...` from here, so they run the same code as this worker
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _log(msg: str) -> None:
    sys.stderr.write(time.strftime("%H:%M:%S ") + "[worker] " + msg + "\n")
    sys.stderr.flush()


def capabilities() -> Dict[str, Any]:
    """What this worker registers with. ``gpus`` is the one the API acts on: a job whose config asks for N GPUs is
    claimed only by a worker that reported at least N (0 = a CPU worker). The rest is shown to operators
    (``ril workers``): ``memoryGb`` is host RAM, ``gpuMemoryGb`` one entry per GPU, ``bf16`` whether every GPU does
    bf16 (the hf student's dtype "auto"), ``transformers`` the version installed for Hugging Face students.
    Cheap on purpose: device properties only (nothing is allocated on a GPU, so no memory is held there by this
    process, which never trains), and transformers is looked up in the package metadata, not imported (seconds)."""
    caps: Dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version(), "host": socket.gethostname(),
                            "device": "cpu", "gpus": 0}
    try:
        import torch
        caps["torch"] = torch.__version__
        if torch.cuda.is_available():
            props = [torch.cuda.get_device_properties(i) for i in range(torch.cuda.device_count())]
            caps.update(device="cuda", gpus=len(props),
                        gpuNames=[p.name for p in props],
                        gpuMemoryGb=[round(p.total_memory / 2**30, 1) for p in props],
                        bf16=_bf16_supported(torch))
    except Exception:  # noqa: BLE001 - a broken torch install makes a CPU worker, not a crash at registration
        caps.update(device="cpu", gpus=0)
    try:
        caps["memoryGb"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    try:
        from importlib.metadata import PackageNotFoundError, version
        caps["transformers"] = version("transformers")
    except PackageNotFoundError:
        pass  # no Hugging Face stack: the built-in family only
    return caps


def _bf16_supported(torch: Any) -> bool:
    """torch.cuda.is_bf16_supported(), native bf16 only where torch can say so (2.3+): with emulation allowed, a
    pre-Ampere GPU is probed by allocating a bf16 tensor on it, which would hold GPU memory in this process."""
    try:
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    except TypeError:  # older torch: no emulation check to skip
        return bool(torch.cuda.is_bf16_supported())


def trainer_ranks(payload: Dict[str, Any], nproc: int) -> int:
    """Data-parallel ranks for a TRAIN job. A job asking for ``gpus: N > 1`` runs one rank per GPU (the API gave it
    only to a worker with >= N GPUs); ``gpus: 1`` runs one. A CPU job (``gpus: 0``) runs the operator's ``--nproc``
    gloo ranks: sft, and grpo / dr_grpo / ril with at most one rank per question of a step (rl.py shards the
    questions). Whatever the trainer cannot run on several ranks (e.g. fewer questions per step than ranks) it
    refuses with a clear error rather than silently training on one GPU."""
    cfg = payload.get("config") or {}
    gpus = int(cfg.get("gpus") or 0)
    if gpus >= 1:
        return gpus
    if payload.get("algorithm") == "sft":
        return nproc
    if payload.get("algorithm") in ("grpo", "dr_grpo", "ril"):
        return max(1, min(nproc, int(cfg.get("questions_per_step") or 16)))  # 16: TrainConfig's default
    return 1


# ----------------------------------------------------------------------------------------------
# Data: the dataset directory the trainer reads, materialised from the API (once per dataset)
# ----------------------------------------------------------------------------------------------

EXAMPLES_Q = """query($id: ID!, $after: String) { dataset(id: $id) { name version
  examples(first: 200, after: $after) { edges { node { externalId split question answer imageSha256 } } pageInfo { hasNextPage endCursor } } } }"""
RESPONSES_Q = """query($id: ID!, $teachers: [String!], $after: String) {
  teacherResponses(datasetId: $id, teachers: $teachers, first: 1000, after: $after) {
    edges { node { sample text teacher { name } example { externalId } } } pageInfo { hasNextPage endCursor } } }"""


def materialize_dataset(api: ApiClient, dataset_id: str, teachers: List[str], cache: str) -> str:
    out = os.path.join(cache, "datasets", dataset_id + ("-" + "-".join(sorted(teachers)) if teachers else ""))
    # datasets are immutable: a complete directory (one with examples.jsonl, written last) never changes
    return build_folder(out, "examples.jsonl", lambda tmp: _materialize_into(api, dataset_id, teachers, cache, tmp))


def _materialize_into(api: ApiClient, dataset_id: str, teachers: List[str], cache: str, tmp: str) -> None:
    os.makedirs(os.path.join(tmp, "images"), exist_ok=True)
    os.makedirs(os.path.join(tmp, "teachers"), exist_ok=True)
    lines, after, meta = [], None, {}
    while True:
        d = api.gql(EXAMPLES_Q, {"id": dataset_id, "after": after})["dataset"]
        if d is None:
            raise ApiError(f"dataset {dataset_id} not found", "NOT_FOUND")
        meta = {"name": d["name"], "version": d["version"]}
        for e in (x["node"] for x in d["examples"]["edges"]):
            blob = api.get_blob(e["imageSha256"], os.path.join(cache, "blobs", e["imageSha256"]))
            img = os.path.join(tmp, "images", e["imageSha256"] + ".png")
            if not os.path.exists(img):
                try:
                    os.link(blob, img)  # the blob cache's file, already durable
                except OSError:
                    with open(blob, "rb") as src:
                        write_durably(img, src.read())
            lines.append(json.dumps({"id": e["externalId"], "image": f"images/{e['imageSha256']}.png", "question": e["question"],
                                     "answer": e["answer"], "split": e["split"]}))
        if not d["examples"]["pageInfo"]["hasNextPage"]:
            break
        after = d["examples"]["pageInfo"]["endCursor"]
    per_teacher: Dict[str, List[str]] = {}
    after = None
    while True:
        conn = api.gql(RESPONSES_Q, {"id": dataset_id, "teachers": teachers or None, "after": after})["teacherResponses"]
        for r in (x["node"] for x in conn["edges"]):
            per_teacher.setdefault(r["teacher"]["name"], []).append(json.dumps(
                {"example": r["example"]["externalId"], "teacher": r["teacher"]["name"], "sample": r["sample"], "text": r["text"]}))
        if not conn["pageInfo"]["hasNextPage"]:
            break
        after = conn["pageInfo"]["endCursor"]
    for name, rows in per_teacher.items():
        write_durably(os.path.join(tmp, "teachers", f"{name}.jsonl"), ("\n".join(rows) + "\n").encode())
    write_durably(os.path.join(tmp, "dataset.json"), json.dumps({"id": dataset_id, **meta, "teachers": sorted(per_teacher)}).encode())
    # last: a directory is complete when it has examples.jsonl (the check above)
    write_durably(os.path.join(tmp, "examples.jsonl"), ("\n".join(lines) + "\n").encode())


# ----------------------------------------------------------------------------------------------
# One job
# ----------------------------------------------------------------------------------------------

class JobRunner:
    def __init__(self, api: ApiClient, worker_id: str, job: Dict[str, Any], cache: str, python: str,
                 lease_seconds: int, metric_batch: int = 200, threads: Optional[int] = None, nproc: int = 1,
                 pass_env: Sequence[str] = (), eval_concurrency: int = 4):
        self.api, self.worker_id, self.job, self.cache, self.python = api, worker_id, job, cache, python
        self.lease_seconds, self.metric_batch, self.threads, self.nproc = lease_seconds, metric_batch, threads, nproc
        self.pass_env = list(pass_env)
        self.eval_concurrency = max(1, eval_concurrency)  # requests at once to an EXTERNAL subject's endpoint
        self.package_root = PACKAGE_ROOT
        self.payload: Dict[str, Any] = job["payload"]
        self.attempt: int = int(job["attempts"])  # the lease's fencing token
        self.pending: List[Dict[str, Any]] = []
        self.step = 0
        self.total: Optional[int] = None
        self.cancelled = threading.Event()
        self.lease_lost = threading.Event()
        self.proc: Optional[subprocess.Popen] = None
        self.lock = threading.Lock()

    # -- protocol calls --
    def heartbeat(self) -> None:
        try:
            r = self.api.gql("""mutation($i: HeartbeatInput!) { heartbeat(input: $i) { cancelRequested } }""",
                             {"i": {"jobId": self.job["id"], "workerId": self.worker_id, "attempt": self.attempt, "step": self.step,
                                    "totalSteps": self.total, "leaseSeconds": self.lease_seconds}})
            if r["heartbeat"]["cancelRequested"] and not self.cancelled.is_set():
                _log(f"job {self.job['id']}: cancellation requested")
                self.cancelled.set()
                self._stop_child()
        except ApiError as err:
            if err.code == "CONFLICT":
                self.lose_lease(err)
            else:
                _log(f"heartbeat failed: {err}")

    def lose_lease(self, err: Exception) -> None:
        """A write answered CONFLICT: another attempt holds the job now; stop writing and stop the child."""
        if not self.lease_lost.is_set():
            _log(f"job {self.job['id']}: lease lost ({err}); stopping")
        self.lease_lost.set()
        self._stop_child()

    def materialize(self, dataset_id: str, teachers: List[str]) -> str:
        return materialize_dataset(self.api, dataset_id, teachers, self.cache)

    def spawn(self, cmd: List[str], cwd: str) -> subprocess.Popen:
        """A child process (the RUN subject's generation, the serving tool, run_child's export and eval): allowlisted
        environment, dies with the worker, stopped by a cancel or a lost lease."""
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, cwd=cwd,
                                     env=child_env(self.pass_env), preexec_fn=die_with_parent)
        if self.cancelled.is_set() or self.lease_lost.is_set():
            self._stop_child()
        return self.proc

    def _heartbeat_loop(self) -> None:
        while not self.done.wait(max(1.0, self.lease_seconds / 3)):
            self.heartbeat()

    def flush_metrics(self) -> None:
        with self.lock:
            batch, self.pending = self.pending, []
        for i in range(0, len(batch), 1000):
            self.api.gql("""mutation($i: ReportMetricsInput!) { reportMetrics(input: $i) { written duplicates } }""",
                         {"i": {"runId": self.payload["runId"], "workerId": self.worker_id, "attempt": self.attempt,
                                "points": batch[i:i + 1000]}})

    def upload_artifact(self, path: str, kind: str, name: str, metadata: Dict[str, Any], content_type: str) -> str:
        with open(path, "rb") as f:
            data = f.read()
        sha = self.api.put_blob(data, content_type)
        r = self.api.gql("""mutation($i: RegisterArtifactInput!) { registerArtifact(input: $i) { id } }""",
                         {"i": {"blobSha256": sha, "kind": kind, "name": name, "runId": self.payload["runId"], "metadata": metadata,
                                "workerId": self.worker_id, "attempt": self.attempt}})
        return r["registerArtifact"]["id"]

    def newest_checkpoint(self) -> Optional[Dict[str, Any]]:
        """The checkpoint the API registered last for the run (its order; metadata is only informational)."""
        r = self.api.gql("""query($r: ID!) { run(id: $r) { latestCheckpoint { id blobSha256 metadata createdAt } } }""",
                         {"r": self.payload["runId"]})
        return (r["run"] or {}).get("latestCheckpoint")

    def _stop_child(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()

    def _reap_child(self, grace_s: float = 10.0) -> None:
        """Ends the child if it still runs, and waits for it: SIGTERM, SIGKILL after `grace_s`. A job that fails in
        the worker (the API refusing its metrics, an upload error) must not leave its trainer behind: nobody would
        read its stdout again, so it would block on a full pipe holding its GPU, and a retry of the job on this worker
        would start a second trainer on the same run directory."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def run_child(self, cmd: List[str], what: str) -> Optional[str]:
        """A child the job waits for (the export after training, a checkpoint's eval): it is `self.proc` while it runs,
        so a cancel or a lost lease stops it as it stops the trainer. Its stdout; None if it was stopped; RuntimeError
        with its stderr's tail if it failed."""
        self.spawn(cmd, PACKAGE_ROOT)
        try:
            out, err = self.proc.communicate()
        finally:
            self._reap_child()
        if self.cancelled.is_set() or self.lease_lost.is_set():
            return None
        if self.proc.returncode != 0:
            raise RuntimeError(f"{what} exited with {self.proc.returncode}: {err.strip()[-3000:]}")
        return out

    # -- TRAIN --
    def run_train(self) -> Dict[str, Any]:
        p = self.payload
        data_dir = self.materialize(p["datasetId"], p.get("teachers") or [])
        run_dir = os.path.join(self.cache, "runs", p["runId"])
        os.makedirs(run_dir, exist_ok=True)
        ckpt_path = os.path.join(run_dir, "checkpoint.pt")
        newest = self.newest_checkpoint()
        if newest:
            self.api.get_blob(newest["blobSha256"], os.path.join(self.cache, "blobs", newest["blobSha256"]))
            with open(os.path.join(self.cache, "blobs", newest["blobSha256"]), "rb") as src:
                write_durably(ckpt_path, src.read())
            _log(f"resuming run {p['runId']} from checkpoint at step {(newest['metadata'] or {}).get('step')}")
        elif os.path.exists(ckpt_path):
            os.remove(ckpt_path)  # a local leftover the API never saw: start clean, as the API's record says
        config = {**p["config"], "algorithm": p["algorithm"], "teachers": p.get("teachers") or [], "seed": p["seed"]}
        if p.get("model"):  # the built-in size; an hf student's model is config.student.model and the payload has none
            config["model"] = p["model"]
        self.total = int(config.get("max_steps") or 0) or None
        cfg_path = os.path.join(run_dir, "config.json")
        with open(cfg_path, "w") as f:
            json.dump(config, f)
        cmd = [self.python, "-m", "ril_trainer", "train", "--config", cfg_path, "--data", data_dir, "--out", run_dir]
        if p.get("evalSuite"):  # the suite scored during training (datasets materialised here, RULE judge only)
            cmd += ["--eval-suite", write_training_suite(self.materialize, p["evalSuite"], run_dir)]
        if self.threads:
            cmd += ["--threads", str(self.threads)]
        ranks = trainer_ranks(p, self.nproc)
        if ranks > 1:
            cmd += ["--nproc", str(ranks)]
        final: Dict[str, Any] = {}
        stderr_tail: List[str] = []
        env = child_env([*self.pass_env, *config_env_names(config)])
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                     cwd=PACKAGE_ROOT, env=env, preexec_fn=die_with_parent)

        def drain_stderr() -> None:
            assert self.proc and self.proc.stderr
            for line in self.proc.stderr:
                sys.stderr.write(line)
                stderr_tail.append(line)
                del stderr_tail[:-40]
        threading.Thread(target=drain_stderr, daemon=True).start()
        try:
            assert self.proc.stdout
            last_flush = time.time()
            for line in self.proc.stdout:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                kind = ev.get("event")
                if kind == "metric":
                    with self.lock:
                        self.pending.append({"name": ev["name"], "step": int(ev["step"]), "value": float(ev["value"])})
                    self.step = max(self.step, int(ev["step"]))
                elif kind == "checkpoint":
                    self.step = int(ev["step"])
                    try:
                        self.flush_metrics()  # every metric up to the checkpoint is stored before it can be resumed from
                        self.upload_artifact(ev["path"], "CHECKPOINT", f"checkpoint-{ev['step']:08d}", {"step": ev["step"]}, "application/octet-stream")
                    except ApiError as err:
                        if err.code != "CONFLICT":
                            raise
                        self.lose_lease(err)
                        continue
                    self.heartbeat()
                elif kind == "done":
                    final = {k: v for k, v in ev.items() if k != "event"}
                if len(self.pending) >= self.metric_batch or time.time() - last_flush > 5:
                    self.flush_metrics()
                    last_flush = time.time()
            code = self.proc.wait()
        finally:
            self._reap_child()
        if self.cancelled.is_set() or self.lease_lost.is_set():
            return {"stopped": True}
        if code != 0:
            raise RuntimeError(f"trainer exited with {code}: {''.join(stderr_tail[-15:]).strip()[-3000:]}")
        self.flush_metrics()
        hf = (p.get("config") or {}).get("student", {}).get("family", "builtin") != "builtin"
        bundle_dir = os.path.join(run_dir, "bundle")
        shutil.rmtree(bundle_dir, ignore_errors=True)  # a retried job's earlier export: the manifest lists every file
        # the same command for both families: the trainer's export reads the checkpoint's family (a Hugging Face
        # student becomes a format-3 bundle, LoRA merged, every variant: docs/hf-bundles.md)
        if self.run_child([self.python, "-m", "ril_trainer", "export", "--checkpoint", ckpt_path, "--out", bundle_dir], "export") is None:
            return {"stopped": True}
        archive = os.path.join(run_dir, "bundle.tar.gz")
        with tarfile.open(archive, "w:gz") as tar:
            for name in sorted(os.listdir(bundle_dir)):
                tar.add(os.path.join(bundle_dir, name), arcname=name)  # directories (an hf bundle's onnx/) recursively
        with open(os.path.join(bundle_dir, "manifest.json")) as f:
            manifest = json.load(f)
        size = p.get("model") or "hf"
        bundle_id = self.upload_artifact(archive, "BUNDLE", f"bundle-{size}-{p['algorithm']}",
                                         {"step": self.step, "modelFamily": manifest.get("model_family"), "size": p.get("model")}, "application/gzip")
        return {"final": final, "bundleArtifactId": bundle_id, "steps": self.step}

    # -- EVALUATE --
    def run_evaluate(self) -> Dict[str, Any]:
        """Scores a run's newest checkpoint (PyTorch) or a BUNDLE artifact (its ONNX graphs, as deployed) on a
        split, with the trainer's rule judge either way."""
        p = self.payload
        split = p.get("split", "test")
        data_dir = self.materialize(p["datasetId"], [])
        if p.get("artifactId"):
            art = self.api.gql("""query($a: ID!) { artifact(id: $a) { kind blobSha256 } }""", {"a": p["artifactId"]})["artifact"]
            if not art or art["kind"] != "BUNDLE":
                raise RuntimeError(f"artifact {p['artifactId']} is not a BUNDLE")
            bundle_dir = extract_bundle(self.api, self.cache, art["blobSha256"])
            from ..suite_eval import bundle_accuracy_any  # built-in or Hugging Face bundle
            res = bundle_accuracy_any(bundle_dir, data_dir, split, repo_root=repo_root(PACKAGE_ROOT))
            return {"split": split, "accuracy": res["accuracy"], "n": res["n"], "artifactId": p["artifactId"]}
        newest = self.newest_checkpoint()
        if not newest:
            raise RuntimeError(f"run {p['runId']} has no checkpoint to evaluate")
        ckpt = self.api.get_blob(newest["blobSha256"], os.path.join(self.cache, "blobs", newest["blobSha256"]))
        cmd = [self.python, "-m", "ril_trainer", "eval", "--checkpoint", ckpt, "--data", data_dir, "--split", split]
        out = self.run_child(cmd, "eval")
        if out is None:
            return {"stopped": True}
        results = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        result = next((r for r in results if r.get("event") == "result"), {})
        return {"split": split, "accuracy": result.get("accuracy"), "n": result.get("n"), "checkpointStep": (newest["metadata"] or {}).get("step")}

    def run(self) -> None:
        self.done = threading.Event()
        beat = threading.Thread(target=self._heartbeat_loop, daemon=True)
        beat.start()
        jid = self.job["id"]
        try:
            if self.job["kind"] == "TRAIN":
                result = self.run_train()
            elif "suiteVersionId" in self.payload:  # an evaluation over a suite (suite_job.py)
                result = run_suite_evaluate(self)
            else:
                result = self.run_evaluate()
            if self.lease_lost.is_set():
                return
            if self.cancelled.is_set():
                self.flush_metrics()
                self.api.gql("""mutation($i: FailJobInput!) { failJob(input: $i) { status } }""",
                             {"i": {"jobId": jid, "workerId": self.worker_id, "attempt": self.attempt, "error": "cancelled on request",
                                    "retryable": False}})
                return
            self.api.gql("""mutation($i: CompleteJobInput!) { completeJob(input: $i) { status } }""",
                         {"i": {"jobId": jid, "workerId": self.worker_id, "attempt": self.attempt, "result": result}})
            _log(f"job {jid} succeeded")
        except Exception as err:  # noqa: BLE001 - every failure is reported to the API with its message
            _log(f"job {jid} failed: {err}")
            if not self.lease_lost.is_set():
                try:
                    self.flush_metrics()
                    self.api.gql("""mutation($i: FailJobInput!) { failJob(input: $i) { status } }""",
                                 {"i": {"jobId": jid, "workerId": self.worker_id, "attempt": self.attempt, "error": str(err)[:5000],
                                        "retryable": True}})
                except ApiError as e2:
                    _log(f"could not report the failure: {e2}")
        finally:
            self.done.set()


# ----------------------------------------------------------------------------------------------
# The loop
# ----------------------------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m ril_trainer worker", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--api", default=os.environ.get("RIL_API_URL", "http://127.0.0.1:4000"), help="API base URL (env RIL_API_URL)")
    ap.add_argument("--key-file", default=None, help="a file holding a WORKER key, mode 600 (default: env RIL_API_KEY)")
    ap.add_argument("--key", default=None, help="a WORKER key (deprecated: visible to other users in ps; use RIL_API_KEY or --key-file)")
    ap.add_argument("--name", default=f"{socket.gethostname()}-{os.getpid()}")
    ap.add_argument("--kinds", default=",".join(KINDS), help="job kinds to claim")
    ap.add_argument("--cache", default=os.environ.get("RIL_WORKER_CACHE", os.path.join(os.environ.get("RIL_HOME", ".ril"), "worker")))
    ap.add_argument("--lease-seconds", type=int, default=int(os.environ.get("RIL_WORKER_LEASE_S", "60")))
    ap.add_argument("--poll-seconds", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads for the trainer")
    ap.add_argument("--nproc", type=int, default=1,
                    help="gloo data-parallel ranks for a CPU training job (a job's config gpus: N > 1 runs N ranks, one per GPU)")
    ap.add_argument("--pass-env", default=os.environ.get("RIL_WORKER_PASS_ENV", ""),
                    help="comma-separated extra environment variables the trainer processes get (env RIL_WORKER_PASS_ENV); "
                         "by default they get only an allowlist (PATH, HOME, locale, thread counts, CUDA_*, torch.distributed)")
    ap.add_argument("--eval-concurrency", type=int, default=int(os.environ.get("RIL_EVAL_CONCURRENCY", "4")),
                    help="requests at once to an EXTERNAL subject's endpoint (and to an LLM judge) in a suite EVALUATE "
                         "job (env RIL_EVAL_CONCURRENCY)")
    ap.add_argument("--once", action="store_true", help="exit after one job (or at once if none is queued)")
    ap.add_argument("--exit-when-idle", action="store_true", help="exit when no job is queued")
    a = ap.parse_args(argv)
    try:
        a.key = resolve_api_key(a.key, a.key_file)
    except KeyFileError as e:
        ap.error(str(e))
    if not a.key:
        ap.error("an API key with role WORKER is required (RIL_API_KEY or --key-file)")
    pass_env = [n.strip() for n in a.pass_env.split(",") if n.strip()]
    cache = os.path.abspath(a.cache)  # the children run in PACKAGE_ROOT: hand them absolute paths
    api = ApiClient(a.api, a.key)
    caps = capabilities()
    w = api.gql("""mutation($i: RegisterWorkerInput!) { registerWorker(input: $i) { id } }""",
                {"i": {"name": a.name, "capabilities": caps}})["registerWorker"]
    _log(f"registered {a.name} as {w['id']} ({caps.get('device')}, {caps.get('gpus')} GPUs) against {a.api}")
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]
    while True:
        job = api.gql("""mutation($i: ClaimJobInput!) { claimJob(input: $i) { id kind payload attempts } }""",
                      {"i": {"workerId": w["id"], "kinds": kinds, "leaseSeconds": a.lease_seconds}})["claimJob"]
        if job is None:
            if a.once or a.exit_when_idle:
                return 0
            time.sleep(a.poll_seconds)
            continue
        _log(f"claimed {job['kind']} job {job['id']} (attempt {job['attempts']})")
        JobRunner(api, w["id"], job, cache, sys.executable, a.lease_seconds, threads=a.threads, nproc=a.nproc,
                  pass_env=pass_env, eval_concurrency=a.eval_concurrency).run()
        if a.once:
            return 0


if __name__ == "__main__":
    sys.exit(main())
