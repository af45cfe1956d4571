"""Processes that do not outlive the one that started them (Linux): the trainer the worker starts, the ranks
`distributed.launch` starts. Without it a parent that is killed (a cancelled job's SIGTERM, an OOM kill) leaves its
children running: training on, holding their GPUs, writing into a run another attempt now owns."""
from __future__ import annotations

import ctypes
import signal

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int = signal.SIGKILL) -> None:
    """The kernel sends `sig` to this process when its parent exits (a preexec_fn, or the first thing a child does).
    Elsewhere than Linux it does nothing."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):
        pass
