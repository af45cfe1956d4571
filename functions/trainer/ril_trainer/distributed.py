"""Data parallelism across processes: DistributedDataParallel on gloo (CPU) or NCCL (CUDA).

The ranks find each other through the env:// variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
MASTER_PORT), which torchrun sets, so a trainer started by torchrun is data-parallel as it is. Where torchrun
is not usable (Debian's crashes in its elastic agent on Python 3.11), `launch` starts the ranks with
torch.multiprocessing.spawn and sets RANK/WORLD_SIZE/LOCAL_RANK, the ranks meeting through a file store instead
of a port: `python3 -m ril_trainer train ... --nproc 2` (train.train hands `launch` its `run`).

Conventions: every rank draws the same global batch (same seed) and keeps its slice `shard(...)`. SFT: DDP
averages the gradients, so with equal token counts per slice a step equals the single-process step on the
whole batch. RL (rl.py): each rank's loss is its share of the global batch's loss (the global normaliser) and
`all_reduce_grads` sums the gradients, so a step equals the single-process step on the whole batch for any
split (tests/test_distributed.py). Rank 0 alone logs, evaluates and writes checkpoints; every rank
resumes from the same checkpoint file (a shared filesystem across machines).
"""
from __future__ import annotations

import datetime
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, TypeVar

import torch
import torch.distributed as dist

from . import lifecycle

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
        # RIL_DIST_TIMEOUT_S: how long a collective waits for the other ranks before it fails (torch's default,
        # 10-30 min, when unset); the tests set a few minutes, so a rank that skips a collective fails them instead
        # of hanging CI
        timeout = os.environ.get("RIL_DIST_TIMEOUT_S")
        kw = {"timeout": datetime.timedelta(seconds=float(timeout))} if timeout else {}
        # `launch` rendezvouses through a file (RIL_DIST_INIT_FILE) rather than a port: a free port picked before
        # the ranks start can be taken by another process in the seconds before rank 0 binds it
        init_file = os.environ.get("RIL_DIST_INIT_FILE")
        dist.init_process_group(backend=backend, init_method=f"file://{init_file}" if init_file else "env://",
                                rank=int(os.environ["RANK"]), world_size=int(os.environ["WORLD_SIZE"]), **kw)
    return True


def shard(items: Sequence[T]) -> List[T]:
    """This rank's slice of a global batch (every rank computes the same global batch)."""
    rank, size = world()
    return list(items[rank::size])


def _comm_device() -> str:
    """Where collectives' tensors must live: NCCL reduces CUDA tensors only, gloo CPU ones."""
    return "cuda" if dist.get_backend() == "nccl" else "cpu"


def sum_across_ranks(values: Sequence[float]) -> List[float]:
    """Element-wise sums over the ranks (float64, one all-reduce); the values themselves in one process."""
    if world()[1] == 1:
        return [float(v) for v in values]
    t = torch.tensor([float(v) for v in values], dtype=torch.float64, device=_comm_device())
    dist.all_reduce(t)
    return t.cpu().tolist()


def mean_across_ranks(value: float) -> float:
    return sum_across_ranks([value])[0] / world()[1]


def max_across_ranks(value: int) -> int:
    """The largest of the ranks' values (one all-reduce); the value itself in one process."""
    if world()[1] == 1:
        return int(value)
    t = torch.tensor([int(value)], dtype=torch.int64, device=_comm_device())
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return int(t.item())


def all_reduce_grads(params: Iterable[torch.nn.Parameter], mean: bool = False) -> None:
    """Sums the gradients over the ranks in place: once per optimizer step, before clipping.

    Each rank's loss carries the global batch's normaliser (its share of the sum), so the sum is the
    single-process gradient of the whole batch. A parameter no rank has a gradient for keeps None (AdamW
    skips it, as in one process); one that only some ranks have gets zeros on the others. One flat buffer
    per dtype and device (one collective each). No-op in one process. mean: divide by the number of ranks after
    (SFT's convention, where each rank's loss is a mean). Sharded parameters (sharding.py) are skipped: FSDP's
    backward already reduced them.
    """
    if world()[1] == 1:
        return
    from .sharding import is_dtensor
    params = [p for p in params if p.requires_grad and not is_dtensor(p)]
    has = torch.tensor([float(p.grad is not None) for p in params], device=_comm_device())
    dist.all_reduce(has)
    live = [p for p, h in zip(params, has.tolist()) if h > 0]
    buckets: Dict[Tuple[torch.dtype, torch.device], List[torch.nn.Parameter]] = {}
    for p in live:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        buckets.setdefault((p.grad.dtype, p.grad.device), []).append(p)
    for group in buckets.values():
        flat = torch.cat([p.grad.reshape(-1) for p in group])
        dist.all_reduce(flat)
        if mean:
            flat /= world()[1]
        offset = 0
        for p in group:
            n = p.grad.numel()
            p.grad.copy_(flat[offset:offset + n].view_as(p.grad))
            offset += n


def broadcast_state(module: torch.nn.Module, optimizer: Optional[torch.optim.Optimizer] = None) -> None:
    """Rank 0's weights (and optimizer moments) to every rank, in place. No-op in one process."""
    if world()[1] == 1:
        return
    # parameters and buffers, not state_dict(): a module may hand out copies there (the hf "lora" discriminator).
    # Sharded tensors are skipped: each rank holds its own shard, there is nothing of rank 0's to copy
    from .sharding import is_dtensor
    tensors = [t.detach() for t in list(module.parameters()) + list(module.buffers())]
    if optimizer is not None:
        tensors += [v for st in optimizer.state.values() for v in st.values() if torch.is_tensor(v)]
    tensors = [t for t in tensors if not is_dtensor(t)]
    dev = _comm_device()
    with torch.no_grad():
        for t in tensors:
            if t.device.type == dev:
                dist.broadcast(t, 0)
            else:  # e.g. AdamW's CPU step counter under NCCL
                tmp = t.to(dev)
                dist.broadcast(tmp, 0)
                t.copy_(tmp)


def barrier() -> None:
    if world()[1] > 1:
        dist.barrier()


def _entry(rank: int, nproc: int, init_file: str, launcher: int, fn: Callable[..., Any], args: Tuple[Any, ...]) -> None:
    # a rank ends with its launcher (a cancelled job terminates the launcher; orphaned ranks would train on)
    lifecycle.die_with_parent()
    if os.getppid() != launcher:  # the launcher died before the line above took effect
        os._exit(1)
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(nproc),
                       "RIL_DIST_INIT_FILE": init_file})
    try:
        fn(*args)
        if dist.is_initialized():
            # The teardown after a rank's work (destroy_process_group, then the interpreter's exit) aborts now and
            # then with "terminate called without an active exception" in torch 2.x's gloo/FSDP threads, after
            # everything is done (seen in CI and in tests/test_sharding.py: a SIGABRT fails a finished run). Once
            # every rank has passed this barrier, every rank's results are written (checkpoints are fsynced, the log
            # is stdout), so the rank exits here without the teardown.
            dist.barrier()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
    finally:
        if dist.is_initialized():  # a rank that failed: its error goes to mp.spawn, the others are terminated
            dist.destroy_process_group()


def launch(nproc: int, fn: Callable[..., Any], *args: Any) -> None:
    """Runs fn(*args) in `nproc` ranks on this machine (torch.multiprocessing.spawn)."""
    import torch.multiprocessing as mp
    store_dir = tempfile.mkdtemp(prefix="ril-dist-")
    # SIGTERM (the worker stopping a cancelled job) ends the launcher through its cleanup below; the ranks die with it
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_on_signal) if on_main else None
    try:
        mp.spawn(_entry, args=(nproc, os.path.join(store_dir, "store"), os.getpid(), fn, args), nprocs=nproc, join=True)
    finally:
        # on the way out early (SIGTERM, even while the ranks start; an error here): end the ranks still running. Not
        # left to their parent-death signal: at exit, multiprocessing first joins its non-daemon children, so the
        # launcher would wait for ranks that train on (a CI run saw exactly that)
        if on_main:  # first: a second SIGTERM now ends the launcher at once (and the ranks with it: parent death)
            signal.signal(signal.SIGTERM, previous)
        _end(multiprocessing.active_children())
        shutil.rmtree(store_dir, ignore_errors=True)


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _end(processes: Sequence[Any], grace_s: float = 10.0) -> None:
    """SIGTERM to the processes still alive, SIGKILL to those alive `grace_s` later; all joined."""
    for p in processes:
        if p.is_alive():
            p.terminate()
    deadline = time.monotonic() + grace_s
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
        if p.is_alive():
            p.kill()
            p.join()

