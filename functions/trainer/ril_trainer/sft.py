"""SFT warm start: teacher-forced maximum likelihood on answers or cached teacher responses.

RIL (Unified Reinforcement and Imitation Learning, NeurIPS 2025) starts from an SFT student;
the paper does not spell out the SFT recipe for compact students, so these are our choices:
- Target: the dataset's ground-truth answers (``target: answer``) or every cached teacher
  response of the selected teachers (``target: teacher``), one training pair per response.
- Loss: mean negative log-likelihood over all response tokens of the batch (answer bytes + <eos>);
  image and prompt positions carry no loss.
- AdamW (decay on matrices only), linear warmup then cosine decay to lr * min_lr_ratio,
  global gradient-norm clipping.
- Data order: a permutation per epoch drawn from (seed, epoch); the data position is
  (epoch, index), so resuming needs no replay. Batches run across epoch boundaries.
- Response budget (budget.py): max_response_tokens, or with 0 the smallest budget covering
  budget_coverage of the training targets; targets longer than it are truncated (never to fit
  max_seq_len: a budget that does not fit is an error). The resolved value is in the checkpoint's config.
- Any student family (students/): the built-in one, or a Hugging Face VLM (prompt from its chat template, response
  = its tokenizer's ids + eos; LoRA adapters or every weight train).
- Validation: mean token NLL on a fixed subset of the validation pairs, and greedy accuracy
  (evaluate.is_correct) on the first ``val_accuracy_examples`` validation examples.

Run: python3 -m ril_trainer train --config configs/sft_small.json --data DIR --out runs/sft_small
"""
from __future__ import annotations

import dataclasses
import math
import os
import time
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from . import budget as budget_mod
from . import checkpoint as ckpt
from . import distributed
from . import log
from . import sharding
from . import tokenizer as tok
from .config import TrainConfig, model_config, to_dict
from .data import VQADataset, split_texts
from .evaluate import pick_indices
from .model import StudentVLM, build_model
from .runtime import resolve_device, seed_everything, set_threads
from .students import Inputs, Student, greedy_accuracy
from .students.base import adamw
from .students.builtin import BuiltinStudent
from .suite_eval import TrainingSuite


# ----------------------------------------------------------------------------------------------
# The loss and the schedule
# ----------------------------------------------------------------------------------------------


def sft_loss(logprobs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """-(1/|tokens|) sum_t log pi(o_t | image, q, o_<t); logprobs, mask [B,R]."""
    return -(logprobs * mask).sum() / mask.sum().clamp(min=1)


def learning_rate(step: int, cfg: TrainConfig) -> float:
    """Linear warmup over warmup_steps, then cosine from lr down to lr * min_lr_ratio at max_steps."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))
    return cfg.lr * (cfg.min_lr_ratio + (1.0 - cfg.min_lr_ratio) * cosine)


def make_optimizer(model: StudentVLM, cfg: TrainConfig) -> torch.optim.AdamW:
    return adamw(model.named_parameters(), cfg)


# ----------------------------------------------------------------------------------------------
# Data order
# ----------------------------------------------------------------------------------------------


class Batches:
    """Deterministic batches over ``n`` pairs; position = (epoch, index into that epoch's permutation)."""

    def __init__(self, n: int, batch_size: int, seed: int, epoch: int = 0, index: int = 0):
        if n == 0:
            raise ValueError("no training pairs")
        self.n, self.batch_size, self.seed, self.epoch, self.index = n, batch_size, seed, epoch, index
        self._perm: Tuple[int, np.ndarray] = (-1, np.empty(0, dtype=np.int64))

    def permutation(self, epoch: int) -> np.ndarray:
        if self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.seed, epoch]).permutation(self.n))
        return self._perm[1]

    def next(self) -> List[int]:
        out: List[int] = []
        while len(out) < self.batch_size:
            take = min(self.batch_size - len(out), self.n - self.index)
            out.extend(self.permutation(self.epoch)[self.index:self.index + take].tolist())
            self.index += take
            if self.index == self.n:
                self.epoch, self.index = self.epoch + 1, 0
        return out

    def position(self) -> Dict[str, int]:
        return {"epoch": self.epoch, "index": self.index}


# ----------------------------------------------------------------------------------------------
# Plumbing: the training run
# ----------------------------------------------------------------------------------------------


def run_tokenizer(cfg: TrainConfig, data_dir: str, state: Optional[Dict] = None) -> tok.Tokenizer:
    """The run's tokenizer: the one stored in the checkpoint it resumes (``state``) or starts from
    (init_checkpoint), else a new ``cfg.tokenizer`` (bpe: learnt from the training split's texts)."""
    if state is not None:
        return ckpt.tokenizer_of(state)
    if cfg.init_checkpoint:
        return ckpt.tokenizer_of(ckpt.load(cfg.init_checkpoint))
    texts = split_texts(data_dir, cfg.train_split) if cfg.tokenizer == "bpe" else []
    return tok.build(cfg.tokenizer, cfg.tokenizer_vocab_size, texts)


def _batch(ds: VQADataset, pairs: List[Tuple[int, str]], which: List[int], cfg: TrainConfig,
           student: Student) -> Tuple[Inputs, List[List[int]]]:
    rows = [pairs[j] for j in which]
    inputs = student.inputs(ds, [i for i, _ in rows])  # image + question per pair
    responses = [student.tokenizer.encode_response(text, cfg.max_response_tokens) for _, text in rows]  # fits: budget
    return inputs, responses


@torch.no_grad()
def validation_loss(student: Student, ds: VQADataset, pairs: List[Tuple[int, str]], cfg: TrainConfig) -> float:
    total, count = 0.0, 0.0
    for s in range(0, len(pairs), cfg.batch_size):
        inputs, responses = _batch(ds, pairs, list(range(s, min(s + cfg.batch_size, len(pairs)))), cfg, student)
        lp, mask = student.score_responses(inputs, responses)
        total += float(-(lp * mask).sum())
        count += float(mask.sum())
    return total / max(count, 1.0)


def training_suite(cfg: TrainConfig, path: Optional[str]) -> Optional[TrainingSuite]:
    """The suite scored during training: the --eval-suite file (its name names the series). A config naming a suite
    (eval_suite) without a file scores nothing, with a warning."""
    if not path:
        if cfg.eval_suite:
            log.info(f"eval_suite {cfg.eval_suite!r} is set but no suite file was given (--eval-suite): not scored")
        return None
    suite = TrainingSuite.read(path)
    if cfg.eval_suite and cfg.eval_suite.split("@")[0] != suite.name:
        log.info(f"eval_suite {cfg.eval_suite!r} differs from the suite file's name {suite.name!r}: the file's is used")
    return suite


def emit_suite_metrics(suite: TrainingSuite, step: int, student: Student, max_new_tokens: int, batch_size: int,
                       device: str) -> Dict[str, float]:
    """Scores the suite (greedy, rule judge) and emits eval/suite/<name>/<key> and .../avg at ``step``. Greedy
    decoding draws no random numbers, so scoring never changes the run's RNG stream (resumed = uninterrupted)."""
    res = suite.score(student, max_new_tokens, batch_size=batch_size, device=device)
    for name, value in res.items():
        log.metric(step, name, value)
    log.info(f"step {step}: suite {suite.name} avg {res[f'eval/suite/{suite.name}/avg']:.4f}")
    return res


def train(cfg: TrainConfig, data_dir: str, out_dir: str, emit_done: bool = True,
          eval_suite: Optional[str] = None) -> Dict[str, float]:
    """Run (or resume, if OUT/checkpoint.pt exists) SFT; returns the final metrics.

    emit_done=False: a warm-start phase inside a longer run (rl.py) leaves the "done" event to the run (and the
    suite's end-of-run scoring: only its every-eval_suite_every-steps points fall in the warm start).
    eval_suite: an evaluation suite file scored during training (suite_eval.TrainingSuite).
    """
    device = resolve_device(cfg.device)
    set_threads(cfg.num_threads)
    seed_everything(cfg.seed)
    # join the ranks (torchrun or --nproc) before building the model: on CUDA this picks the rank's GPU, which
    # device "cuda" then means (built first, every rank's model would sit on GPU 0)
    parallel = distributed.init_from_env(device)
    ckpt_path = os.path.join(out_dir, "checkpoint.pt")
    state = ckpt.load(ckpt_path) if os.path.exists(ckpt_path) else None
    student: Student
    if cfg.student.family == "hf":
        from .students.hf import HFStudent  # transformers is needed only for hf students
        student = HFStudent.load(cfg, device, with_reference=False)
        ds = student.dataset(data_dir, [cfg.train_split, cfg.val_split])
        budget = student.resolve_budget(cfg, ds)
    else:
        model = build_model(model_config(cfg.model, **cfg.model_overrides), cfg.seed,
                            run_tokenizer(cfg, data_dir, state)).to(device)
        student = BuiltinStudent(model, device, with_reference=False)
        ds = VQADataset(data_dir, model.cfg, splits=[cfg.train_split, cfg.val_split])
        budget = budget_mod.resolve(cfg, ds, model.cfg, model.tokenizer)
    model = student.policy
    cfg = dataclasses.replace(cfg, max_response_tokens=budget.tokens)  # the resolved budget, also in checkpoints
    train_pairs = ds.sft_pairs(cfg.train_split, cfg.target, cfg.teachers)
    val_pairs = ds.sft_pairs(cfg.val_split, cfg.target, cfg.teachers)
    if len(val_pairs) > cfg.val_loss_examples:  # a fixed subset, independent of the global RNG
        keep = np.random.default_rng([cfg.seed, 7]).choice(len(val_pairs), cfg.val_loss_examples, replace=False)
        val_pairs = [val_pairs[j] for j in sorted(keep.tolist())]
    val_acc_idx = pick_indices(ds, cfg.val_split, cfg.val_accuracy_examples) if cfg.val_accuracy_examples else []
    suite = training_suite(cfg, eval_suite)
    if suite is not None:
        suite.prepare(student)  # a dataset the student cannot read fails now, not at the first scoring

    if cfg.init_checkpoint:
        student.load_weights(ckpt.load(cfg.init_checkpoint)["model"])
    # data parallel when started as several ranks (torchrun or --nproc), the gradients averaged over the ranks: the
    # built-in family through DDP (the loss runs through the wrapper, forward_module; `model` stays the plain module
    # for eval and checkpoints); an hf student by FSDP's reduce-scatter when sharded, else one all-reduce per step
    # (hf models' forwards take keyword inputs DDP's wrapper would have to learn)
    if parallel:
        if isinstance(student, BuiltinStudent):
            forward = torch.nn.parallel.DistributedDataParallel(model)
            forward.cfg, forward.tokenizer = model.cfg, model.tokenizer  # response_logprobs reads both
            student.forward_module = forward
        student.gradient_reduction("mean")
        log.set_enabled(distributed.is_main())
    every_rank = student.sharded  # forwards are collectives: every rank evaluates and gathers the checkpoint
    optimizer = student.make_optimizer(cfg)
    batches = Batches(len(train_pairs), cfg.batch_size, cfg.seed)
    step = 0
    os.makedirs(out_dir, exist_ok=True)
    if state is not None:
        student.load_weights(state["model"])
        student.load_optimizer_state(optimizer, state["optimizer"])
        step = state["step"]
        batches.epoch, batches.index = state["data_position"]["epoch"], state["data_position"]["index"]
        ckpt.set_rng_state(state["rng"])
        log.emit("resumed", step=step, data_position=batches.position())
        log.info(f"resumed from {ckpt_path} at step {step}")

    log.emit("start", algorithm="sft", step=step, device=device, parameters=student.num_parameters(),
             train_pairs=len(train_pairs), val_pairs=len(val_pairs), config=to_dict(cfg),
             model_config=student.describe(), response_budget=budget.as_dict())
    log.metric(step, "data/budget_tokens", budget.tokens)
    log.metric(step, "data/truncated_frac", budget.truncated_frac)
    log.info(f"response budget {budget.tokens} tokens ({'auto' if budget.auto else 'given'}): "
             f"truncates {budget.truncated_frac:.2%} of {budget.targets} training targets")
    log.info(f"sft: {student.num_parameters()['total']:,} params, {len(train_pairs)} train pairs, device {device}")

    def save() -> None:
        if distributed.is_main() or every_rank:
            with sharding.discarding(not distributed.is_main()):  # the other ranks join the gathers, keep nothing
                ckpt.save(ckpt_path, student, optimizer, step, batches.position(), to_dict(cfg),
                          write=distributed.is_main())
            log.emit("checkpoint", step=step, path=ckpt_path)
        distributed.barrier()  # no rank runs ahead of a checkpoint it might resume from

    def evaluate_now() -> Dict[str, float]:
        if not (distributed.is_main() or every_rank):
            return {}
        res = {"val/loss": validation_loss(student, ds, val_pairs, cfg)} if val_pairs else {}
        if val_acc_idx:
            res[f"eval/{cfg.val_split}/accuracy"] = greedy_accuracy(student, ds, val_acc_idx, cfg.batch_size,
                                                                   cfg.max_response_tokens)
        for name, value in res.items():
            log.metric(step, name, value)
        log.info(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in res.items()))
        return res

    def score_suite_now() -> None:
        if suite is not None and distributed.is_main():
            emit_suite_metrics(suite, step, student, cfg.max_response_tokens, cfg.batch_size, device)

    model.train()
    losses: List[float] = []
    t_last = time.time()
    final: Dict[str, float] = {}
    while step < cfg.max_steps:
        lr = learning_rate(step, cfg)
        for g in optimizer.param_groups:
            g["lr"] = lr
        inputs, responses = _batch(ds, train_pairs, distributed.shard(batches.next()), cfg, student)
        lp, mask = student.response_logprobs(inputs, responses)
        loss = sft_loss(lp, mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if parallel and not isinstance(student, BuiltinStudent):  # DDP reduced the built-in's, FSDP the sharded ones
            distributed.all_reduce_grads(student.trainable_parameters(), mean=True)
        grad_norm = torch.nn.utils.clip_grad_norm_(student.trainable_parameters(),
                                                   cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
        optimizer.step()
        step += 1
        losses.append(distributed.mean_across_ranks(float(loss.detach())) if parallel else float(loss.detach()))

        if step % cfg.log_every == 0 or step == cfg.max_steps:
            now = time.time()
            log.metric(step, "train/loss", sum(losses) / len(losses))
            log.metric(step, "train/lr", lr)
            log.metric(step, "train/grad_norm", float(sharding.full(grad_norm)))
            log.metric(step, "time/step_s", (now - t_last) / len(losses))
            log.info(f"step {step}/{cfg.max_steps} loss {sum(losses) / len(losses):.4f} lr {lr:.2e}")
            losses, t_last = [], now
        if step == cfg.max_steps or (cfg.eval_every and step % cfg.eval_every == 0):
            final = evaluate_now()
        if suite is not None and suite.due(step, cfg.eval_suite_every, cfg.max_steps if emit_done else None):
            score_suite_now()
        if step == cfg.max_steps or step % cfg.checkpoint_every == 0 or step == cfg.stop_after_step:
            save()
        if cfg.stop_after_step is not None and step >= cfg.stop_after_step and step < cfg.max_steps:
            log.emit("stopped", step=step)
            return final
    if emit_done:
        log.emit("done", step=step, **final)
    return final
