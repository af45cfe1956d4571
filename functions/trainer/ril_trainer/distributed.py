"""Data parallelism across processes: DistributedDataParallel on gloo (CPU) or NCCL (CUDA).

The ranks find each other through the env:// variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT), which torchrun sets, so a trainer started by torchrun is data-parallel as it is. Where torchrun
is not usable (Debian's crashes in its elastic agent on Python 3.11), `launch` starts the ranks with
torch.multiprocessing.spawn and sets the same variables: `python3 -m ril_trainer train ... --nproc 2` (train.train hands `launch` its `run`).

Conventions: every rank draws the same global batch (same seed) and keeps its slice `shard(...)`; DDP
averages the gradients, so with equal token counts per slice a step equals the single-process step on the
whole batch (tests/test_distributed.py). Rank 0 alone logs, evaluates and writes checkpoints; every rank
resumes from the same checkpoint file (a shared filesystem across machines).
"""
from __future__ import annotations

import os
import socket
from typing import Any, Callable, List, Sequence, Tuple, TypeVar

import torch
import torch.distributed as dist

T = TypeVar("T")


def world() -> Tuple[int, int]:
    """(rank, world_size) of this process; (0, 1) when not distributed."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    return world()[0] == 0


def init_from_env(device: str) -> bool:
    """Joins the process group named by the env:// variables, if WORLD_SIZE > 1. Returns whether it did."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if device.startswith("cuda"):
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group(backend=backend, init_method="env://")
    return True


def shard(items: Sequence[T]) -> List[T]:
    """This rank's slice of a global batch (every rank computes the same global batch)."""
    rank, size = world()
    return list(items[rank::size])


def mean_across_ranks(value: float) -> float:
    rank, size = world()
    if size == 1:
        return value
    t = torch.tensor([value], dtype=torch.float64)
    dist.all_reduce(t)
    return float(t.item()) / size


def barrier() -> None:
    if world()[1] > 1:
        dist.barrier()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _entry(rank: int, nproc: int, port: int, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(nproc),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    try:
        fn(*args)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def launch(nproc: int, fn: Callable[..., Any], *args: Any) -> None:
    """Runs fn(*args) in `nproc` ranks on this machine (torch.multiprocessing.spawn)."""
    import torch.multiprocessing as mp
    mp.spawn(_entry, args=(nproc, _free_port(), fn, args), nprocs=nproc, join=True)

