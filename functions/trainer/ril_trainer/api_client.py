"""A small client for the platform's GraphQL API and blob store, standard library only (a GPU box anywhere
needs nothing but HTTPS). Errors carry the API's ``extensions.code``; network errors and 5xx are retried
with backoff, everything else is raised at once.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import time
import urllib.error
import urllib.request
from typing import Any, Dict, Optional


class ApiError(Exception):
    def __init__(self, message: str, code: Optional[str] = None, status: Optional[int] = None):
        super().__init__(f"{message}" + (f" [{code}]" if code else ""))
        self.code = code
        self.status = status


class ApiClient:
    def __init__(self, url: str, key: str, timeout: float = 60.0, retries: int = 5):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout = timeout
        self.retries = retries

    # -- transport -----------------------------------------------------------------------------
    def _request(self, method: str, path: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None) -> bytes:
        hdrs = {"authorization": f"Bearer {self.key}", **(headers or {})}
        for attempt in range(self.retries + 1):
            req = urllib.request.Request(self.url + path, data=body, method=method, headers=hdrs)
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
                raise ApiError(f"{method} {path}: {err}") from None
        raise AssertionError("unreachable")

    def gql(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        raw = self._request("POST", "/graphql", json.dumps({"query": query, "variables": variables or {}}).encode(),
                            {"content-type": "application/json"})
        doc = json.loads(raw)
        if doc.get("errors"):
            first = doc["errors"][0]
            raise ApiError(first.get("message", "GraphQL error"), (first.get("extensions") or {}).get("code"))
        return doc["data"]

    # -- blobs ---------------------------------------------------------------------------------
    def put_blob(self, data: bytes, content_type: str = "application/octet-stream") -> str:
        sha = hashlib.sha256(data).hexdigest()
        self._request("PUT", f"/blobs/{sha}", data, {"content-type": content_type})
        return sha

    def get_blob(self, sha: str, dest: str) -> str:
        """Downloads a blob to `dest` once (kept by hash), verifying its sha256."""
        if os.path.exists(dest):
            return dest
        data = self._request("GET", f"/blobs/{sha}")
        if hashlib.sha256(data).hexdigest() != sha:
            raise ApiError(f"blob {sha}: content does not match its hash")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = f"{dest}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, dest)
        return dest


def _http_error(status: int, payload: bytes) -> ApiError:
    try:
        doc = json.loads(payload)
    except ValueError:
        return ApiError(f"HTTP {status}: {payload[:200]!r}", status=status)
    if isinstance(doc, dict) and doc.get("errors"):
        first = doc["errors"][0]
        return ApiError(first.get("message", ""), (first.get("extensions") or {}).get("code"), status)
    err = doc.get("error", {}) if isinstance(doc, dict) else {}
    return ApiError(err.get("message", f"HTTP {status}"), err.get("code"), status)
