"""Durable writes for the worker's caches (blobs by hash, materialised datasets, extracted bundles): a cache entry is
trusted because it exists, so a crash or a failure must leave either no entry or the whole one, never a truncated file
or a half-built folder under its final name."""
from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from typing import Callable


def write_durably(path: str, data: bytes) -> None:
    """Writes `data` to `path` through a temporary file in the same folder, fsynced, then renamed over `path`."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def build_folder(dest: str, marker: str, build: Callable[[str], None]) -> str:
    """`dest`, built once: `build(tmp)` fills a fresh folder beside it (never one a crashed attempt left), renamed to
    `dest` when complete; a folder is complete when it holds `marker`, and is never rebuilt. The fresh folder is removed
    if `build` fails or another process finished first (whose complete folder is never touched)."""
    if os.path.exists(os.path.join(dest, marker)):
        return dest
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(dest)[:40] + ".", suffix=".tmp", dir=os.path.dirname(dest))
    try:
        build(tmp)
        try:
            os.replace(tmp, dest)
        except OSError:
            if not os.path.exists(os.path.join(dest, marker)):
                raise
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
