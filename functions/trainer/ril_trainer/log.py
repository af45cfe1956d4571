"""Machine-readable progress on stdout (one JSON object per line), human logs on stderr.

Events: {"event": "metric", "step", "name", "value"}, and "start", "checkpoint", "resumed",
"result", "done" objects with their own fields. Metric names follow docs (train/, val/, eval/<split>/).
"""
from __future__ import annotations

import json
import sys
import time
from typing import Any


_enabled = True


def set_enabled(enabled: bool) -> None:
    """Only one rank of a data-parallel run speaks (rank 0); the others stay silent."""
    global _enabled
    _enabled = enabled


def emit(event: str, **fields: Any) -> None:
    if not _enabled:
        return
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


def metric(step: int, name: str, value: float) -> None:
    emit("metric", step=step, name=name, value=float(value))


def info(msg: str) -> None:
    if not _enabled:
        return
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()
