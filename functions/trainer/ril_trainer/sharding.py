"""Sharded data parallelism for Hugging Face students: PyTorch's FSDP (``fully_shard``, torch >= 2.6).

With ``student.sharding: "fsdp"`` on N ranks, every rank holds 1/N of each weight, gradient and AdamW moment of the
policy (and of a full-fine-tuning reference copy, and of RIL's copy discriminator, sharded on its own), as
DeepSpeed ZeRO-3 does. The parameters become DTensors sharded on dim 0; each transformer block (the model's own
``_no_split_modules``: decoder layers, vision blocks) is one all-gather unit, the root keeps the rest (embeddings,
head, norms; tied weights stay together).

The loops stay the same code (rl.py, sft.py); what changes with sharding, and why:
- **Forward passes are collective** (a block gathers its weights from every rank), so every rank must run the
  same forwards in the same order. Training and scoring forwards already do (one per minibatch on every rank; a
  rank without a question in a minibatch runs a zero-weighted one; the discriminator's scoring runs as many
  batches on every rank, discriminator.disc_probs). Sampling does not: rows stop at different lengths.
  ``gathered`` therefore unshards the whole model for sampling and evaluation (all-gathers once, the forwards
  inside are local), as TRL does under ZeRO-3 (``ds3_gather_for_generation``); the peak is one full copy of the
  weights, the moments and gradients stay sharded.
- **Gradient reduction** is FSDP's reduce-scatter in the backward: "sum" for RL (each rank's loss is its share of
  the global batch's loss, distributed.py) and "mean" for SFT (DDP's convention) and for the discriminator's
  pre-training (every rank trains on the same batches); ``distributed.all_reduce_grads`` skips sharded parameters.
- **Checkpoints hold full tensors** (weights and AdamW moments, the discriminator's too; every rank joins each
  gather, only rank 0, which writes, keeps them: ``discarding``), so a sharded run resumes on any number of ranks,
  unsharded too, and export reads it like any other.
- Only on several ranks: in one process ``fully_shard`` would only add copies, so ``shard`` is not called.
"""
from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterable, Iterator, List, Optional

import torch
import torch.nn as nn


class ShardingError(ValueError):
    pass


def _fsdp_or_none() -> Any:
    """torch.distributed.fsdp if it has fully_shard (torch >= 2.6), else None. Older torches are not even imported
    from: Debian's 1.13 fails to import its FSDP package on Python 3.12+."""
    if tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2]) < (2, 6):
        return None
    from torch.distributed import fsdp
    return fsdp if hasattr(fsdp, "fully_shard") else None


def _fsdp() -> Any:
    fsdp = _fsdp_or_none()
    if fsdp is None:
        raise ShardingError(f"student.sharding fsdp needs torch >= 2.6 (FSDP's fully_shard); this is torch "
                            f"{torch.__version__}")
    return fsdp


def is_dtensor(t: Any) -> bool:
    """Whether t is a sharded (DTensor) parameter or tensor; never true on a torch without DTensor."""
    try:
        from torch.distributed.tensor import DTensor
    except ImportError:
        return False
    return isinstance(t, DTensor)


def shard(model: nn.Module, blocks: Optional[Iterable[str]] = None) -> int:
    """fully_shard every transformer block of `model` (the classes named by `blocks`, by default the model's own
    ``_no_split_modules``), then the root. Returns the number of blocks.

    A root's hooks run when it is called (``model(...)``): a method that bypasses ``__call__`` (the
    discriminator's ``logits``) would meet sharded weights, so such a module's callees are sharded as roots instead."""
    fsdp = _fsdp()
    if blocks is None:
        blocks = getattr(model, "_no_split_modules", None) or []
        if not blocks:
            raise ShardingError(f"{type(model).__name__} names no transformer blocks (_no_split_modules): cannot shard it")
    blocks = set(blocks)
    # innermost first: a named block inside another (Idefics3's vision attention inside its encoder layer) is its own unit
    units = [m for m in model.modules() if type(m).__name__ in blocks and m is not model]
    for m in reversed(units):
        fsdp.fully_shard(m)
    fsdp.fully_shard(model)
    return len(units)


def fsdp_modules(model: nn.Module) -> List[nn.Module]:
    fsdp = _fsdp()
    return [m for m in model.modules() if isinstance(m, fsdp.FSDPModule)]


def set_gradient_reduction(model: nn.Module, mode: str, world_size: int) -> None:
    """"sum" (RL: the ranks' losses are shares of one loss) or "mean" (SFT: each rank's loss is a mean)."""
    if mode not in ("sum", "mean"):
        raise ValueError(f"gradient reduction must be sum or mean, not {mode!r}")
    for m in fsdp_modules(model):
        # SUM in the collective, the division (if any) after it: gloo has no PREMUL_SUM, and the same op on every
        # backend keeps CPU tests and GPU runs alike
        m.set_force_sum_reduction_for_comms(True)
        m.set_gradient_divide_factor(1.0 if mode == "sum" else float(world_size))


@contextlib.contextmanager
def gathered(*models: nn.Module) -> Iterator[None]:
    """Every sharded block of `models` unsharded for the duration (all ranks enter together); forwards inside are
    local, so ranks may run different numbers of them (sampling)."""
    mods = [m for model in models for m in fsdp_modules(model)]
    for m in mods:
        m.set_reshard_after_forward(False, recurse=False)
    for m in mods:
        m.unshard()
    try:
        yield
    finally:
        for m in mods:
            m.reshard()
            # blocks reshard after their forward again; a root keeps its weights until the backward (FSDP's own
            # default for roots, which the call above would otherwise have switched off)
            m.set_reshard_after_forward(not any(m is model for model in models), recurse=False)


def is_sharded(model: nn.Module) -> bool:
    """Whether fully_shard sharded `model` or a part of it (the classes say so even while the weights are gathered)."""
    fsdp = _fsdp_or_none()
    return fsdp is not None and any(isinstance(m, fsdp.FSDPModule) for m in model.modules())


def reshard(model: nn.Module) -> None:
    """Free every unsharded weight of a sharded `model` now. A root keeps its gathered weights after a forward for
    the backward; after a forward without one (scoring under no_grad) they would stay, and the module would list
    them instead of its sharded parameters."""
    for m in fsdp_modules(model):
        m.reshard()


def full(t: torch.Tensor) -> torch.Tensor:
    """The whole tensor of a sharded one (a collective: every rank calls it, in the same order); t itself otherwise."""
    return t.full_tensor() if is_dtensor(t) else t


_discarding = False


@contextlib.contextmanager
def discarding(discard: bool = True) -> Iterator[None]:
    """Inside (with discard true): ``to_host`` joins each gather of a sharded tensor but keeps nothing of it. A
    checkpoint save runs under it on every rank but the writing one, so N ranks do not each hold a whole copy of
    the checkpoint in host memory (all-gathers are collectives: the other ranks must join them anyway)."""
    global _discarding
    before, _discarding = _discarding, discard
    try:
        yield
    finally:
        _discarding = before


def to_host(t: torch.Tensor) -> torch.Tensor:
    """A whole CPU copy of t (collective when t is sharded); inside ``discarding()``, an empty tensor in place of a
    sharded one's."""
    if is_dtensor(t):
        whole = t.detach().full_tensor()
        return torch.empty(0, dtype=whole.dtype) if _discarding else whole.cpu()
    return t.detach().to("cpu", copy=True)


def like(param: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """`value` (a whole tensor, the same on every rank) laid out as `param` is: this rank's shard of it if `param` is
    sharded (collective), `value` itself otherwise."""
    if not is_dtensor(param):
        return value
    from torch.distributed.tensor import distribute_tensor
    return distribute_tensor(value.to(param.dtype), param.device_mesh, list(param.placements))


def optimizer_state(optimizer: torch.optim.Optimizer) -> Dict[str, Any]:
    """optimizer.state_dict() with every sharded moment gathered to a whole CPU tensor (collective)."""
    sd = optimizer.state_dict()
    for key in sorted(sd["state"]):  # the same order on every rank
        sd["state"][key] = {k: (to_host(v) if is_dtensor(v) else v) for k, v in sd["state"][key].items()}
    return sd


def load_optimizer_state(optimizer: torch.optim.Optimizer, sd: Dict[str, Any]) -> None:
    """optimizer.load_state_dict(sd) for a state of whole tensors (optimizer_state's, or an unsharded run's): each
    moment of a sharded parameter becomes this rank's shard of it first (collective; one whole moment on the device
    at a time, never all of them), then the optimizer takes the shards."""
    params = [p for g in optimizer.param_groups for p in g["params"]]  # param_groups' order: the same on every rank
    ids = [i for g in sd["param_groups"] for i in g["params"]]
    if len(ids) != len(params):
        raise ShardingError(f"the optimizer state holds {len(ids)} parameters, this optimizer {len(params)}")
    state = dict(sd["state"])
    for i, p in zip(ids, params):
        if is_dtensor(p) and i in state:
            state[i] = {k: (like(p, v.to(p.device)) if torch.is_tensor(v) and not is_dtensor(v)
                            and tuple(v.shape) == tuple(p.shape) else v) for k, v in state[i].items()}
    optimizer.load_state_dict({**sd, "state": state})


def full_state(module: nn.Module) -> Dict[str, torch.Tensor]:
    """module.state_dict() detached on the CPU with every sharded tensor gathered whole (collective when sharded):
    what a checkpoint stores, the same for a sharded and an unsharded module."""
    return {k: to_host(v) for k, v in module.state_dict().items()}


def load_full_state(module: nn.Module, state: Dict[str, torch.Tensor]) -> None:
    """module.load_state_dict(state) for a state of whole tensors (full_state's): each sharded parameter takes this
    rank's shard of its value (collective, in the state's order, the same on every rank)."""
    own: Dict[str, torch.Tensor] = {**dict(module.named_parameters()), **dict(module.named_buffers())}
    params = {n for n, _ in module.named_parameters()}
    if not set(state) <= set(own) or not params <= set(state):
        raise ShardingError(f"the state does not match the module: missing {sorted(params - set(state))[:3]}, "
                            f"unexpected {sorted(set(state) - set(own))[:3]}")
    with torch.no_grad():
        for n, v in state.items():
            own[n].copy_(like(own[n], v.to(own[n].device, own[n].dtype)))
