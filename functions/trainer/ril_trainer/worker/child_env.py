"""The environment the worker gives the trainer processes it starts: an allowlist, not a copy of its own.

The worker holds the platform key (RIL_API_KEY) and whatever else its host exported; the trainer needs none
of it, and a training config or a third-party library should not be able to read it. So the child gets
only what running Python + PyTorch needs (below), the variables a training config names itself (the LLM
judge's key variable, ``judge_api_key_env``) and those the operator adds with ``--pass-env``.
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Mapping, Optional

# exact names
ALLOWED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE", "PYTHONPATH", "PYTHONHASHSEED",
    "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    # CPU math libraries' thread counts
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    # torch.distributed's env:// rendezvous (set when the worker itself runs under torchrun or a scheduler)
    "MASTER_ADDR", "MASTER_PORT", "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
})
# name prefixes: locale, thread/affinity knobs of OpenMP and MKL, CUDA/NCCL/GLOO/torch settings
ALLOWED_PREFIXES = ("LC_", "OMP_", "KMP_", "MKL_", "CUDA_", "NVIDIA_", "NCCL_", "GLOO_", "TORCH_", "PYTORCH_")


def config_env_names(config: Mapping[str, Any]) -> List[str]:
    """The variables a training config names: today the LLM judge's key (`judge_api_key_env`).

    Never a RIL_* variable: a config comes from an API caller, who also picks the judge endpoint, so naming
    RIL_API_KEY there would send the worker's key to a host of the caller's choosing."""
    name = config.get("judge_api_key_env")
    return [name] if isinstance(name, str) and name and not name.startswith("RIL_") else []


def child_env(extra_names: Iterable[str] = (), source: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The allowlisted subset of `source` (default: this process's environment), plus `extra_names`
    taken from `source` where they are set."""
    src = os.environ if source is None else source
    wanted = set(extra_names)
    return {k: v for k, v in src.items() if k in ALLOWED or k in wanted or k.startswith(ALLOWED_PREFIXES)}
