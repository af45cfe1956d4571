"""The training entry: which trainer runs an algorithm, and how many processes run it.

Both the CLI (``__main__``) and the data-parallel launcher need "train this config", so it lives here,
below both: ``distributed.launch`` is handed ``run`` (a module-level function, picklable by name as
torch.multiprocessing.spawn requires), and no module imports ``__main__``.
"""
from __future__ import annotations

import os
from typing import Callable, Dict, Optional

from . import distributed
from .config import TrainConfig

Trainer = Callable[..., Dict[str, float]]  # (cfg, data_dir, out_dir, *, eval_suite=None)

# algorithm name -> trainer(cfg, data_dir, out_dir, eval_suite=path or None): sft (sft.py), grpo / dr_grpo / ril (rl.py).
ALGORITHMS: Dict[str, Trainer] = {}  # every one runs data parallel too (--nproc, torchrun)


class UnsupportedTraining(ValueError):
    """The config asks for something this trainer cannot do (the CLI exits 2 with the message)."""


def register_builtin() -> None:
    # imported here, not at the top: `info`/`export` should not pay for importing the RL code
    from . import rl, sft
    ALGORITHMS.setdefault("sft", sft.train)
    for name in rl.ALGORITHMS:  # grpo | dr_grpo | ril: one code path (rl.py)
        ALGORITHMS.setdefault(name, rl.train)


def run(cfg: TrainConfig, data: str, out: str, eval_suite: Optional[str] = None) -> None:
    """One process's (or one rank's) training; the entry point `launch` runs in every rank."""
    register_builtin()
    ALGORITHMS[cfg.algorithm](cfg, data, out, eval_suite=eval_suite)


def train(cfg: TrainConfig, data: str, out: str, nproc: int = 1, eval_suite: Optional[str] = None) -> None:
    """Trains `cfg` on `data` into `out`: in this process, or in `nproc` data-parallel ranks spawned here.
    `eval_suite`: an evaluation suite file scored during training (suite_eval.TrainingSuite).

    Under torchrun (WORLD_SIZE set) this process is already one rank and `nproc` is ignored."""
    register_builtin()
    under_launcher = "WORLD_SIZE" in os.environ
    ranks = int(os.environ["WORLD_SIZE"]) if under_launcher else nproc
    if cfg.student.family not in ("builtin", "hf"):
        raise UnsupportedTraining(f"unknown student family {cfg.student.family!r}: builtin | hf")
    if cfg.student.family == "hf":
        if cfg.init_checkpoint is None and cfg.student.model == "":
            raise UnsupportedTraining("student.family hf needs student.model (a save_pretrained directory or a "
                                      "cached hub id)")
    if cfg.student.sharding != "none" and cfg.student.family != "hf":
        raise UnsupportedTraining(f"student.sharding {cfg.student.sharding!r} is for hf students (a built-in student "
                                  "sits whole on every rank; its data parallelism needs no option)")
    if cfg.student.sharding == "fsdp" and eval_suite:
        # suites are scored by rank 0 alone, and a sharded model's forwards need every rank
        raise UnsupportedTraining("evaluation suites during training (--eval-suite) are not supported with "
                                  "student.sharding fsdp: score the run's checkpoint or bundle after it")
    if cfg.algorithm not in ALGORITHMS:
        raise UnsupportedTraining(f"unknown algorithm {cfg.algorithm!r}; available: {sorted(ALGORITHMS)}")
    if ranks > 1 and cfg.algorithm != "sft" and cfg.questions_per_step < ranks:
        raise UnsupportedTraining(f"data-parallel {cfg.algorithm} shards the questions of a step: questions_per_step "
                                  f"({cfg.questions_per_step}) must be at least the number of ranks ({ranks})")
    if nproc > 1 and not under_launcher:
        distributed.launch(nproc, run, cfg, data, out, eval_suite)
    else:
        run(cfg, data, out, eval_suite)
