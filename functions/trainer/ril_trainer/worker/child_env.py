"""The environment the worker gives the trainer processes it starts: an allowlist, not a copy of its own.

The worker holds the platform key (RIL_API_KEY) and whatever else its host exported; the trainer needs none
of it, and a training config or a third-party library should not be able to read it. So the child gets
only what running Python + PyTorch needs (below), the variables a training config names itself (the LLM
judge's key variable, ``judge_api_key_env``, if the operator allows it in RIL_SECRET_ENV_ALLOWLIST) and those
the operator adds with ``--pass-env``. The operator's outbound settings (the key allowlist, the host allowlist and
the caps) pass too: the trainer's judge enforces them where it makes its requests (ril_trainer/outbound.py).
"""
from __future__ import annotations

import os
from typing import Any, Dict, Iterable, List, Mapping, Optional

from ..outbound import secret_env_allowlist

# exact names
ALLOWED = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE", "PYTHONPATH", "PYTHONHASHSEED",
    "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "LD_LIBRARY_PATH",
    # CPU math libraries' thread counts
    "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
    # torch.distributed's env:// rendezvous (set when the worker itself runs under torchrun or a scheduler)
    "MASTER_ADDR", "MASTER_PORT", "RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "GROUP_RANK",
    # where Hugging Face students are loaded from (a local cache; never HF_TOKEN: the platform does not download)
    "HF_HOME", "HF_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
    # the operator's outbound settings, which the judge enforces (names only and limits: no secrets)
    "RIL_SECRET_ENV_ALLOWLIST", "RIL_OUTBOUND_ALLOW_HOSTS", "RIL_OUTBOUND_MAX_BYTES", "RIL_OUTBOUND_TIMEOUT_MS",
})
# name prefixes: locale, thread/affinity knobs of OpenMP and MKL, CUDA/NCCL/GLOO/torch settings
ALLOWED_PREFIXES = ("LC_", "OMP_", "KMP_", "MKL_", "CUDA_", "NVIDIA_", "NCCL_", "GLOO_", "TORCH_", "PYTORCH_")


def config_env_names(config: Mapping[str, Any], source: Optional[Mapping[str, str]] = None) -> List[str]:
    """The variables a training config names: today the LLM judge's key (`judge_api_key_env`), if the operator
    lists it in RIL_SECRET_ENV_ALLOWLIST (of `source`, default this process's environment).

    A config comes from an API caller, who also picks the judge endpoint, so naming DATABASE_URL or RIL_API_KEY
    there would send that secret to a host of the caller's choosing: only operator-listed names pass, and never a
    RIL_* variable even if listed."""
    name = config.get("judge_api_key_env")
    allowed = secret_env_allowlist(os.environ if source is None else source)
    return [name] if isinstance(name, str) and name in allowed and not name.startswith("RIL_") else []


def child_env(extra_names: Iterable[str] = (), source: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The allowlisted subset of `source` (default: this process's environment), plus `extra_names`
    taken from `source` where they are set."""
    src = os.environ if source is None else source
    wanted = set(extra_names)
    return {k: v for k, v in src.items() if k in ALLOWED or k in wanted or k.startswith(ALLOWED_PREFIXES)}
