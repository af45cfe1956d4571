"""A small client for the platform's GraphQL API and its blobs, standard library only (a GPU box anywhere
needs nothing but HTTPS). Errors carry the API's ``extensions.code``; network errors, 5xx and 429 are
retried with jittered exponential backoff (honouring ``Retry-After``) for up to ``retry_seconds``, as is a
GraphQL answer whose error code says the service is unavailable: a database that restarts under the API
answers 503 for a while, and that must delay the job, not fail it. Everything else is raised at once.

Blobs move through presigned URLs the API hands out, never through a fixed route:
- upload: ``createBlobUpload`` -> unless ``alreadyExists``, send the bytes with ``method`` to ``url`` with
  ``headers`` -> ``completeBlobUpload`` (the API checks the stored object and records the Blob);
- download: ``blobDownloadUrl`` -> GET ``url``, and the bytes must hash to the sha256 asked for.
A URL may be absolute on another host (S3) or a path on the API (``/blobs/<sha>``); it is resolved against
the API URL, and the bearer key goes ONLY to the API's own origin (scheme, host and port), never to a
storage host, not even through a redirect.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, Optional

from .files import write_durably


class ApiError(Exception):
    def __init__(self, message: str, code: Optional[str] = None, status: Optional[int] = None):
        super().__init__(f"{message}" + (f" [{code}]" if code else ""))
        self.code = code
        self.status = status


CREATE_UPLOAD_M = """mutation($i: CreateBlobUploadInput!) {
  createBlobUpload(input: $i) { sha256 alreadyExists url method headers expiresAt } }"""
COMPLETE_UPLOAD_M = """mutation($sha: String!) { completeBlobUpload(sha256: $sha) { sha256 size } }"""
DOWNLOAD_URL_Q = """query($sha: String!) { blobDownloadUrl(sha256: $sha) { url expiresAt } }"""


def _origin(url: str) -> tuple:
    """(scheme, host, port) with the scheme's default port filled in: what 'same origin' compares."""
    u = urllib.parse.urlsplit(url)
    scheme = u.scheme.lower()
    return scheme, (u.hostname or "").lower(), u.port or {"http": 80, "https": 443}.get(scheme)


# GraphQL error codes that mean "the API is up but cannot serve right now": retried like an HTTP 503
UNAVAILABLE_CODES = {"SERVICE_UNAVAILABLE", "UNAVAILABLE"}
RETRY_STATUSES = {429}  # and every 5xx


class _Retry(Exception):
    def __init__(self, error: "ApiError", retry_after: Optional[float] = None):
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def _retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a Retry-After header (delta-seconds form; an HTTP date is ignored)."""
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class ApiClient:
    def __init__(self, url: str, key: str, timeout: float = 60.0, retries: int = 30,
                 retry_seconds: Optional[float] = None, backoff_s: float = 0.5):
        """`retries` bounds the number of retries and `retry_seconds` (default $RIL_WORKER_RETRY_S, 300) the
        time spent retrying one call, whichever ends first; `backoff_s` is the first delay (doubling, max 30 s)."""
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries
        self.retry_seconds = float(os.environ.get("RIL_WORKER_RETRY_S", "300")) if retry_seconds is None else retry_seconds
        self.backoff_s = backoff_s

    # -- transport -----------------------------------------------------------------------------
    def resolve(self, url: str) -> str:
        """An absolute URL for one the API returned (absolute, or relative to the API URL)."""
        return urllib.parse.urljoin(self.url + "/", url)

    def is_api_origin(self, url: str) -> bool:
        return _origin(url) == _origin(self.url)

    def _with_retries(self, call):
        """Runs `call` until it returns, raises a final error, or the retry budget (count and time) is spent."""
        deadline = time.monotonic() + self.retry_seconds
        for attempt in range(self.retries + 1):
            try:
                return call()
            except _Retry as r:
                delay = r.retry_after if r.retry_after is not None else \
                    min(30.0, self.backoff_s * 2 ** attempt) * (0.5 + random.random())
                delay = min(delay, 60.0)
                if attempt >= self.retries or time.monotonic() + delay > deadline:
                    raise r.error from None
                time.sleep(delay)
        raise AssertionError("unreachable")

    def _send_once(self, method: str, url: str, body: Optional[bytes], headers: Optional[Dict[str, str]]) -> bytes:
        req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
        if self.is_api_origin(url):
            # "unredirected": urllib copies ordinary headers onto a redirect, which may lead to another host
            req.add_unredirected_header("Authorization", f"Bearer {self.key}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return res.read()
        except urllib.error.HTTPError as err:
            payload = err.read()
            error = _http_error(err.code, payload)
            if err.code >= 500 or err.code in RETRY_STATUSES:
                raise _Retry(error, _retry_after(err.headers.get("Retry-After") if err.headers else None)) from None
            raise error from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
            raise _Retry(ApiError(f"{method} {_redact(url)}: {err}")) from None

    def _send(self, method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> bytes:
        """One HTTP exchange with retries; the bearer key is attached only when `url` is on the API's origin."""
        return self._with_retries(lambda: self._send_once(method, url, body, headers))

    def gql(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()

        def once() -> Dict[str, Any]:
            doc = json.loads(self._send_once("POST", self.url + "/graphql", body, {"content-type": "application/json"}))
            if doc.get("errors"):
                first = doc["errors"][0]
                error = ApiError(first.get("message", "GraphQL error"), (first.get("extensions") or {}).get("code"))
                if error.code in UNAVAILABLE_CODES:
                    raise _Retry(error)
                raise error
            return doc["data"]
        return self._with_retries(once)

    # -- blobs ---------------------------------------------------------------------------------
    def put_blob(self, data: bytes, content_type: str = "application/octet-stream") -> str:
        """Stores `data` as a blob (content-addressed, so a second upload of the same bytes sends nothing)."""
        sha = hashlib.sha256(data).hexdigest()
        up = self.gql(CREATE_UPLOAD_M, {"i": {"sha256": sha, "size": len(data), "contentType": content_type}})["createBlobUpload"]
        if not up["alreadyExists"]:
            if not up.get("url"):
                raise ApiError(f"blob {sha}: createBlobUpload gave no url to upload to")
            headers = {str(k): str(v) for k, v in (up.get("headers") or {}).items()}
            if not any(k.lower() == "content-type" for k in headers):
                # else urllib would label the bytes application/x-www-form-urlencoded
                headers["Content-Type"] = content_type
            self._send((up.get("method") or "PUT").upper(), self.resolve(up["url"]), data, headers)
        done = self.gql(COMPLETE_UPLOAD_M, {"sha": sha})["completeBlobUpload"]
        if done["sha256"] != sha or int(done["size"]) != len(data):
            raise ApiError(f"blob {sha}: the API recorded {done['sha256']} ({done['size']} bytes), not what was sent")
        return sha

    def get_blob(self, sha: str, dest: str) -> str:
        """Downloads a blob to `dest` once (kept by hash), verifying its sha256."""
        if os.path.exists(dest):
            return dest
        url = self.gql(DOWNLOAD_URL_Q, {"sha": sha})["blobDownloadUrl"]["url"]
        data = self._send("GET", self.resolve(url))
        if hashlib.sha256(data).hexdigest() != sha:
            raise ApiError(f"blob {sha}: content does not match its hash")
        write_durably(dest, data)  # kept because it exists: never a truncated file under its name (files.py)
        return dest


def _redact(url: str) -> str:
    """A URL for messages: a presigned URL's query string is a credential."""
    u = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, u.path, "", ""))


def _http_error(status: int, payload: bytes) -> ApiError:
    try:
        doc = json.loads(payload)
    except ValueError:
        return ApiError(f"HTTP {status}: {payload[:200]!r}", status=status)
    if isinstance(doc, dict) and doc.get("errors"):
        first = doc["errors"][0]
        return ApiError(first.get("message", ""), (first.get("extensions") or {}).get("code"), status)
    err = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(err, dict):
        return ApiError(err.get("message", f"HTTP {status}"), err.get("code"), status)
    return ApiError(str(err) if err else f"HTTP {status}", status=status)
