"""Durable writes for the worker's caches (blobs by hash, materialised datasets): a cache entry is trusted because it
exists, so a crash must leave either no entry or the whole one, never a truncated file under its final name."""
from __future__ import annotations

import os
import secrets


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
