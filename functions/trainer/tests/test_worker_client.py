"""The worker's blob transfers through the API's presigned-URL contract.

The platform's createBlobUpload / completeBlobUpload / blobDownloadUrl live on another branch, so the API
here is a small local double of that protocol (GraphQL over HTTP on 127.0.0.1: the two mutations and the
query, plus a blob route on the API's origin); a second server on another port plays the storage host
(S3). The e2e tests against the real API run once both branches are merged.
"""
import hashlib
import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Dict, List, Optional

import pytest

from ril_trainer.worker.client import ApiClient, ApiError

KEY = "ril_worker_secret"


class Recorder:
    """A server on 127.0.0.1 recording every request (method, path, headers, body)."""

    def __init__(self, handle):
        self.requests: List[Dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def _do(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n) if n else b""
                headers = {k.lower(): v for k, v in self.headers.items()}  # HTTP header names are case-insensitive
                outer.requests.append({"method": self.command, "path": self.path, "headers": headers, "body": body})
                status, out_headers, payload = handle(self.command, self.path, headers, body)
                self.send_response(status)
                for k, v in out_headers.items():
                    self.send_header(k, v)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = _do

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _auth(headers: Dict[str, str]) -> Optional[str]:
    return next((v for k, v in headers.items() if k.lower() == "authorization"), None)


class Platform:
    """The API double: blob metadata in `blobs`, bytes in `store` (API origin) or on `s3` (other origin)."""

    def __init__(self, upload_to: str = "api"):
        self.upload_to = upload_to  # "api": url is a path on the API; "s3": an absolute URL on the storage host
        self.store: Dict[str, bytes] = {}
        self.recorded: Dict[str, Dict] = {}
        self.corrupt = False
        self.examples: Dict[str, List[Dict]] = {}  # dataset id -> its example nodes
        self.s3 = Recorder(self._s3)
        self.api = Recorder(self._api)

    def close(self):
        self.api.close()
        self.s3.close()

    # storage host: accepts presigned PUTs, serves GETs; refuses a bearer header as S3 would (two auth methods)
    def _s3(self, method, path, headers, body):
        if _auth(headers):
            return 400, {}, b"<Error><Code>InvalidArgument</Code></Error>"
        sha = path.split("?")[0].rsplit("/", 1)[-1]
        if method == "PUT":
            if headers.get("x-amz-meta-sha256") != sha:
                return 403, {}, b"<Error><Code>SignatureDoesNotMatch</Code></Error>"
            self.store[sha] = body
            return 200, {}, b""
        if sha not in self.store:
            return 404, {}, b""
        return 200, {}, self.store[sha] if not self.corrupt else b"tampered"

    def _api(self, method, path, headers, body):
        if _auth(headers) != f"Bearer {KEY}":
            return 401, {"content-type": "application/json"}, json.dumps({"error": {"message": "no key", "code": "UNAUTHENTICATED"}}).encode()
        if path.startswith("/blobs/"):
            sha = path[len("/blobs/"):]
            if method == "PUT":
                self.store[sha] = body
                return 204, {}, b""
            if sha == "redirect":
                return 302, {"location": f"{self.s3.url}/bucket/{self.redirect_to}?X-Amz-Signature=sig"}, b""
            return (200, {}, self.store[sha]) if sha in self.store else (404, {}, b"")
        doc = json.loads(body)
        q, v = doc["query"], doc["variables"]
        return 200, {"content-type": "application/json"}, json.dumps(self._gql(q, v)).encode()

    def _gql(self, q: str, v: Dict) -> Dict:
        if "createBlobUpload" in q:
            i = v["i"]
            sha = i["sha256"]
            if sha in self.recorded:
                return {"data": {"createBlobUpload": {"sha256": sha, "alreadyExists": True, "url": None, "method": "PUT",
                                                      "headers": {}, "expiresAt": None}}}
            if self.upload_to == "s3":
                url, headers = f"{self.s3.url}/bucket/{sha}?X-Amz-Signature=sig", {"content-type": i["contentType"], "x-amz-meta-sha256": sha}
            else:
                url, headers = f"/blobs/{sha}", {}
            return {"data": {"createBlobUpload": {"sha256": sha, "alreadyExists": False, "url": url, "method": "PUT",
                                                  "headers": headers, "expiresAt": "2030-01-01T00:00:00.000Z"}}}
        if "completeBlobUpload" in q:
            sha = v["sha"]
            data = self.store.get(sha)
            if data is None or hashlib.sha256(data).hexdigest() != sha:
                return {"errors": [{"message": f"blob {sha} was not uploaded", "extensions": {"code": "BAD_USER_INPUT"}}]}
            self.recorded.setdefault(sha, {"sha256": sha, "size": len(data)})
            return {"data": {"completeBlobUpload": self.recorded[sha]}}
        if "blobDownloadUrl" in q:
            sha = v["sha"]
            if sha not in self.recorded:
                return {"errors": [{"message": f"blob {sha} not found", "extensions": {"code": "NOT_FOUND"}}]}
            url = f"/blobs/{sha}" if self.upload_to == "api" else f"{self.s3.url}/bucket/{sha}?X-Amz-Signature=sig"
            return {"data": {"blobDownloadUrl": {"url": url, "expiresAt": "2030-01-01T00:00:00.000Z"}}}
        if "examples(first" in q:  # one page of a dataset's examples (materialize_dataset)
            nodes = self.examples.get(v["id"])
            if nodes is None:
                return {"data": {"dataset": None}}
            return {"data": {"dataset": {"name": "ds", "version": 1, "examples": {
                "edges": [{"node": n} for n in nodes], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}}
        if "teacherResponses" in q:
            return {"data": {"teacherResponses": {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}}}
        raise AssertionError(f"unexpected operation {q}")


@pytest.fixture
def platform():
    made = []

    def make(upload_to="api"):
        made.append(Platform(upload_to))
        return made[-1]
    yield make
    for p in made:
        p.close()


def _client(p: Platform) -> ApiClient:
    return ApiClient(p.api.url, KEY, timeout=10, retries=0)


def _blob_requests(r: Recorder, method: str) -> List[Dict]:
    return [q for q in r.requests if q["method"] == method and q["path"] != "/graphql"]


def test_upload_to_a_path_on_the_api_sends_the_key_there(platform, tmp_path):
    p = platform("api")
    data = b"checkpoint bytes" * 100
    sha = _client(p).put_blob(data, "application/octet-stream")
    assert sha == hashlib.sha256(data).hexdigest()
    puts = _blob_requests(p.api, "PUT")
    assert [q["path"] for q in puts] == [f"/blobs/{sha}"] and puts[0]["body"] == data
    assert _auth(puts[0]["headers"]) == f"Bearer {KEY}"
    assert p.recorded[sha]["size"] == len(data)  # completeBlobUpload ran after the bytes arrived
    ops = [json.loads(q["body"])["query"] for q in p.api.requests if q["path"] == "/graphql"]
    assert ["createBlobUpload" in ops[0], "completeBlobUpload" in ops[1]] == [True, True] and len(ops) == 2
    # and back, through blobDownloadUrl
    dest = _client(p).get_blob(sha, str(tmp_path / "blobs" / sha))
    assert open(dest, "rb").read() == data


def test_upload_to_another_host_never_sends_the_key_and_forwards_the_signed_headers(platform, tmp_path):
    p = platform("s3")
    data = os.urandom(4096)
    sha = _client(p).put_blob(data, "application/gzip")
    puts = _blob_requests(p.s3, "PUT")
    assert len(puts) == 1 and puts[0]["body"] == data
    assert _auth(puts[0]["headers"]) is None
    assert puts[0]["headers"]["x-amz-meta-sha256"] == sha and puts[0]["headers"]["content-type"] == "application/gzip"
    assert puts[0]["path"] == f"/bucket/{sha}?X-Amz-Signature=sig"
    assert _blob_requests(p.api, "PUT") == []
    dest = _client(p).get_blob(sha, str(tmp_path / sha))
    assert open(dest, "rb").read() == data
    gets = _blob_requests(p.s3, "GET")
    assert len(gets) == 1 and _auth(gets[0]["headers"]) is None


def test_a_blob_the_api_already_has_is_not_sent_again(platform):
    p = platform("s3")
    data = b"same bytes"
    c = _client(p)
    assert c.put_blob(data) == c.put_blob(data)
    assert len(_blob_requests(p.s3, "PUT")) == 1


def test_a_redirect_from_the_api_to_storage_drops_the_key(platform, tmp_path):
    p = platform("s3")
    sha = _client(p).put_blob(b"redirected")
    p.redirect_to = sha
    p.upload_to = "api"  # the API now answers with its own path, which redirects to the storage host
    p.recorded["redirect"] = {}
    data = _client(p)._send("GET", _client(p).resolve("/blobs/redirect"))
    assert data == b"redirected"  # the storage host refuses a request carrying a bearer key
    assert all(_auth(q["headers"]) is None for q in p.s3.requests)


def test_download_refuses_bytes_that_do_not_match_the_hash(platform, tmp_path):
    p = platform("s3")
    sha = _client(p).put_blob(b"genuine")
    p.corrupt = True
    dest = tmp_path / sha
    with pytest.raises(ApiError, match="does not match its hash"):
        _client(p).get_blob(sha, str(dest))
    assert not dest.exists() and os.listdir(tmp_path) == []  # nothing half-written


def test_errors_carry_the_api_code(platform, tmp_path):
    p = platform("api")
    with pytest.raises(ApiError) as err:
        _client(p).get_blob("0" * 64, str(tmp_path / "x"))
    assert err.value.code == "NOT_FOUND"
    with pytest.raises(ApiError) as err:
        ApiClient(p.api.url, "wrong", retries=0).put_blob(b"x")
    assert err.value.code == "UNAUTHENTICATED" and err.value.status == 401


def test_urls_resolve_against_the_api_and_origins_compare_scheme_host_port():
    c = ApiClient("https://api.example.com/", KEY)
    assert c.resolve("/blobs/ab") == "https://api.example.com/blobs/ab"
    assert c.resolve("https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s") == "https://bucket.s3.amazonaws.com/k?X-Amz-Signature=s"
    assert c.is_api_origin("https://API.example.com:443/blobs/ab")
    assert not c.is_api_origin("http://api.example.com/blobs/ab")  # another scheme
    assert not c.is_api_origin("https://api.example.com:8443/blobs/ab")  # another port
    assert not c.is_api_origin("https://api.example.com.evil.net/blobs/ab")


def test_a_failed_materialisation_leaves_nothing_behind_and_a_later_one_completes(platform, tmp_path):
    from ril_trainer.worker.loop import materialize_dataset
    p = platform("s3")
    client = _client(p)
    shas = [client.put_blob(f"image {i}".encode(), "image/png") for i in range(3)]
    p.examples["ds1"] = [{"externalId": f"e{i}", "split": "train", "question": "q?", "answer": "a", "imageSha256": sha}
                         for i, sha in enumerate(shas)]
    cache = str(tmp_path / "cache")
    p.corrupt = True  # the store answers other bytes: the first image download fails its hash check
    with pytest.raises(ApiError, match="does not match its hash"):
        materialize_dataset(client, "ds1", [], cache)
    leftovers = [os.path.relpath(os.path.join(d, f), cache) for d, dirs, files in os.walk(cache) for f in files + dirs]
    assert leftovers == ["datasets"], f"no partial dataset folder, no temporary file: {leftovers}"
    p.corrupt = False
    out = materialize_dataset(client, "ds1", [], cache)
    assert sorted(os.listdir(out)) == ["dataset.json", "examples.jsonl", "images", "teachers"]
    assert sorted(os.listdir(os.path.join(out, "images"))) == sorted(f"{s}.png" for s in shas)
    assert [json.loads(line)["id"] for line in open(os.path.join(out, "examples.jsonl"))] == ["e0", "e1", "e2"]
    assert sorted(os.listdir(os.path.join(cache, "datasets"))) == ["ds1"], "only the complete folder"
    assert not [f for f in os.listdir(os.path.join(cache, "blobs")) if f.endswith(".tmp")]


def _tar_gz(entries) -> bytes:
    import io
    import tarfile
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in entries:
            info = tarfile.TarInfo(name)
            if data is None:  # a symbolic link: never part of a bundle
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_a_refused_bundle_archive_leaves_nothing_behind_and_a_good_one_is_extracted_once(platform, tmp_path):
    from ril_trainer.worker.suite_job import extract_bundle
    p = platform()
    client = _client(p)
    cache = str(tmp_path / "cache")
    bad = client.put_blob(_tar_gz([("manifest.json", b"{}"), ("model.onnx", b"x" * 100), ("evil", None)]), "application/gzip")
    with pytest.raises(RuntimeError, match="unsafe entry"):
        extract_bundle(client, cache, bad)
    nameless = client.put_blob(_tar_gz([("bundle/manifest.json", b"{}"), ("model.onnx", b"x" * 100)]), "application/gzip")
    with pytest.raises(RuntimeError, match="no manifest.json"):  # refused after its files were extracted
        extract_bundle(client, cache, nameless)
    assert os.listdir(os.path.join(cache, "bundles")) == [], "no partial extraction is left"
    good = client.put_blob(_tar_gz([("manifest.json", b"{}"), ("model.onnx", b"y" * 100)]), "application/gzip")
    out = extract_bundle(client, cache, good)
    assert sorted(os.listdir(out)) == ["manifest.json", "model.onnx"]
    assert extract_bundle(client, cache, good) == out
    assert os.listdir(os.path.join(cache, "bundles")) == [good]
