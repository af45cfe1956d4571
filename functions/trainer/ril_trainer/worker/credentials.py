"""The worker's API key, kept off the command line.

argv is readable by every user of the machine (``ps``, ``/proc/<pid>/cmdline``), so the key comes from the
environment (``RIL_API_KEY``) or a key file only its owner can read (``--key-file``, refused when group or others
have any access, as ssh refuses private keys). ``--key`` still works, with a deprecation warning on stderr.
"""
from __future__ import annotations

import os
import stat
import sys
from typing import Mapping, Optional, TextIO

KEY_ON_ARGV_WARNING = ("warning: --key is deprecated: the command line is visible to other users (ps); "
                       "use RIL_API_KEY or --key-file (mode 600)")


class KeyFileError(ValueError):
    """The key file is missing, not a regular file, readable by others, or empty."""


def read_key_file(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError as e:
        raise KeyFileError(f"--key-file {path}: {e.strerror}") from None
    if not stat.S_ISREG(st.st_mode):
        raise KeyFileError(f"--key-file {path} is not a regular file")
    if os.name == "posix" and st.st_mode & 0o077:
        raise KeyFileError(f"--key-file {path} is accessible to other users (mode {stat.S_IMODE(st.st_mode):o}): chmod 600 {path}")
    with open(path, encoding="utf-8") as f:
        key = f.read().strip()
    if not key:
        raise KeyFileError(f"--key-file {path} is empty")
    return key


def resolve_api_key(key: Optional[str], key_file: Optional[str], environ: Mapping[str, str] = os.environ,
                    stderr: TextIO = sys.stderr) -> Optional[str]:
    """--key-file, else --key (deprecated, warned), else RIL_API_KEY; None when there is none."""
    if key_file:
        return read_key_file(key_file)
    if key:
        print(KEY_ON_ARGV_WARNING, file=stderr, flush=True)
        return key
    return environ.get("RIL_API_KEY") or None
