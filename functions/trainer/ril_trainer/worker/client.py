"""A small client for the platform's GraphQL API and its blobs, standard library only (a GPU box anywhere
needs nothing but HTTPS). Errors carry the API's ``extensions.code``; network errors and 5xx are retried
with backoff, everything else is raised at once.

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


class ApiClient:
    def __init__(self, url: str, key: str, timeout: float = 60.0, retries: int = 5):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries

    # -- transport -----------------------------------------------------------------------------
    def resolve(self, url: str) -> str:
        """An absolute URL for one the API returned (absolute, or relative to the API URL)."""
        return urllib.parse.urljoin(self.url + "/", url)

    def is_api_origin(self, url: str) -> bool:
        return _origin(url) == _origin(self.url)

    def _send(self, method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> bytes:
        """One HTTP exchange with retries; the bearer key is attached only when `url` is on the API's origin."""
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
            if self.is_api_origin(url):
                # "unredirected": urllib copies ordinary headers onto a redirect, which may lead to another host
                req.add_unredirected_header("Authorization", f"Bearer {self.key}")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as res:
                    return res.read()
            except urllib.error.HTTPError as err:
                payload = err.read()
                if err.code >= 500 and attempt < self.retries:
                    time.sleep(min(30.0, 0.5 * 2 ** attempt) * (0.5 + random.random()))
                    continue
                raise _http_error(err.code, payload) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError) as err:
                if attempt < self.retries:
                    time.sleep(min(30.0, 0.5 * 2 ** attempt) * (0.5 + random.random()))
                    continue
                raise ApiError(f"{method} {_redact(url)}: {err}") from None
        raise AssertionError("unreachable")

    def gql(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        raw = self._send("POST", self.url + "/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(),
                         {"content-type": "application/json"})
        doc = json.loads(raw)
        if doc.get("errors"):
            first = doc["errors"][0]
            raise ApiError(first.get("message", "GraphQL error"), (first.get("extensions") or {}).get("code"))
        return doc["data"]

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
        os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
        tmp = f"{dest}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
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
