"""GRPO, Dr.GRPO and RIL on one code path.

RIL: "Unified Reinforcement and Imitation Learning for Vision-Language Models" (NeurIPS 2025).
Per step, for a batch of questions (image, question, ground truth):
  1. sample G responses per question from pi_old (the current student, frozen for the step);
     ril adds G cached teacher responses of the same question to the group (2G in all);
  2. ril: update the discriminator D (BCE, student = 1 / teacher = 0) on the step's responses FIRST;
  3. rewards for every response in the group: grpo / dr_grpo R = judge; ril R = 1[D < 0.5] + judge;
  4. advantage A_i = R_i - mean(R of the group) (grpo also divides by the group's std);
  5. policy update with the token-level clipped surrogate and the k3 KL to the frozen reference.

Choices where the papers are silent, or where we deviate:
- **Normaliser**: grpo averages each response's token terms over its own length, then over
  responses; dr_grpo and ril sum token terms and divide by (responses x L) with the constant
  L = the response budget, as in Dr.GRPO.
- **Response budget** (budget.py): max_response_tokens, or with 0 (the default) the smallest budget
  covering budget_coverage of the training targets (the selected teachers' cached responses + the
  answers); it is L, the rollouts' and the evaluation's max_new_tokens and the teacher texts'
  truncation length. It must fit next to the image and the longest prompt (else an error, never a
  silent cut); the resolved value is in every checkpoint's config.
- **std**: grpo uses the unbiased std of the group (torch.std) plus 1e-4; a group with equal
  rewards gets A = 0.
- **KL**: k3 estimator per token, exp(ref - logp) - (ref - logp) - 1 (Schulman), with beta for all
  three algorithms (the paper's RIL has it; the baselines keep it so only the reward differs).
  k3 estimates KL(pi || ref) only under samples of pi, so by default (kl_tokens = "student") it is
  applied to the student's rollouts only: ril's teacher responses contribute the surrogate alone
  (the normaliser stays responses x L). kl_tokens = "all" applies it to every response.
- **pi_old**: with mu = 1 and one minibatch pi == pi_old at the update, so the ratio is 1 and the
  clip never acts (policy/clip_frac = 0); policy_minibatches > 1 or mu > 1 make it act.
  pi_old and reference log-probs are recomputed teacher-forced in eval mode (not taken from the
  sampler) so student and teacher responses are scored the same way.
- **Teacher responses** are tokenized with the student's tokenizer (text + <eos>), truncated to
  the response budget, scored under pi, pi_old and the reference like rollouts, judged like
  rollouts and get both rewards; they are drawn round-robin over the selected teachers
  (multi-teacher), each teacher's cached samples in a seeded order, reused when G exceeds them.
- **Discriminator pre-training**: k = min(disc_pretrain_samples, cached) student samples vs k cached
  teacher responses per question, every training question by default, 20% of the questions held out;
  epochs until the held-out accuracy reaches disc_pretrain_target_acc (at most disc_pretrain_max_epochs;
  a warning when it does not).
- **Discriminator update before the rewards**: D takes its mu passes on the step's 2G x Q
  responses, then scores them (eval mode) for r_sim. disc/loss and disc/acc are from the update
  pass (before its optimizer step).
- **Warm start in the same run**: sft_steps of SFT (sft.py, lr = sft_lr) write OUT/checkpoint.pt
  as usual; then the discriminator is pre-trained (discriminator.py) and the RL phase starts at
  step sft_steps. max_steps counts both phases. The reference model (the SFT student) is stored in
  every RL checkpoint, with the discriminator and its optimizer; rollouts and teacher draws use
  generators seeded by (seed, step), so a resumed run repeats an uninterrupted one.
- **Students**: the loop reaches the model only through students.Student (students/base.py): the built-in family
  (bit-identical to before the interface) or a Hugging Face VLM (students/hf.py: its processor and chat template,
  LoRA or full fine-tuning, reference = adapters off with LoRA, its own discriminator backbones).
- **Data parallel** (N ranks, distributed.py): each rank takes the step's questions at global positions rank,
  rank + N, ... with their whole groups; the losses carry the global minibatch's normaliser and the gradients are
  summed over the ranks by hand (distributed.all_reduce_grads, once per optimizer step, any Student) rather than
  through DDP, so a step equals one process's on the whole batch. On N > 1 ranks rollouts are seeded per question
  (seed, step, position in the global batch), one sampling call per question, so they do not depend on N; one process
  samples the whole step in one batched call (faster) unless rollout_seeding = "per_question", which reproduces an
  N-rank run exactly (the equivalence tests use it).
- Rollouts use the paper's sampling settings (T 1.0, top-p 0.95, top-k 50, repetition penalty 1.05).
- **Learning rate**: constant at lr over the RL steps, as the paper (rl_lr_schedule = "constant");
  "cosine" follows sft.learning_rate over the RL steps (warmup, cosine). The SFT warm start keeps
  its warmup + cosine at sft_lr.

Run: python3 -m ril_trainer train --config configs/ril_nano_fm.json --data DIR --out runs/ril
"""
from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from . import budget as budget_mod
from . import checkpoint as ckpt
from . import distributed
from . import log
from . import sft
from . import sharding
from . import tokenizer as tok
from .config import SamplingConfig, TrainConfig, model_config, to_dict
from .data import VQADataset
from .discriminator import STUDENT, TEACHER, disc_probs, disc_update, make_disc_optimizer
from .judges import make_judge
from .model import build_model
from .runtime import resolve_device, seed_everything, set_threads
from .students import Student, greedy_responses
from .students.builtin import BuiltinStudent


@dataclass(frozen=True)
class Algorithm:
    teachers_in_group: bool
    """G cached teacher responses join each group (and a discriminator gives r_sim)."""
    std_normalise: bool
    """Divide the group-centred reward by the group's std (GRPO)."""
    aggregate: str
    """"response_mean" (GRPO) or "token_sum" (Dr.GRPO: sum over tokens / (responses x L))."""


ALGORITHMS: Dict[str, Algorithm] = {
    "grpo": Algorithm(teachers_in_group=False, std_normalise=True, aggregate="response_mean"),
    "dr_grpo": Algorithm(teachers_in_group=False, std_normalise=False, aggregate="token_sum"),
    "ril": Algorithm(teachers_in_group=True, std_normalise=False, aggregate="token_sum"),
}


# ----------------------------------------------------------------------------------------------
# The algorithm: rewards, advantages, loss (no logging, no loop state)
# ----------------------------------------------------------------------------------------------


def ril_rewards(D: torch.Tensor, r_ans: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """r_sim = 1[D(o) < 0.5] (D = P(student)), R = r_sim + r_ans; all [Q,K]. Returns (R, r_sim)."""
    r_sim = (D < 0.5).float()
    return r_sim + r_ans, r_sim


def group_rewards(algo: Algorithm, r_ans: torch.Tensor, D: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """(R, r_sim) for groups [Q,K]: ril R = 1[D < 0.5] + judge; grpo / dr_grpo R = judge (r_sim = 0)."""
    if algo.teachers_in_group:
        assert D is not None, "ril needs the discriminator's D(o)"
        return ril_rewards(D, r_ans)
    return r_ans, torch.zeros_like(r_ans)


def advantages(R: torch.Tensor, std_normalise: bool, eps: float = 1e-4) -> torch.Tensor:
    """A_i = R_i - mean_group(R) (/ (std_group(R) + eps) for GRPO); R [Q,K] one group per row -> [Q,K]."""
    A = R - R.mean(dim=1, keepdim=True)
    if std_normalise:
        A = A / (R.std(dim=1, keepdim=True) + eps)
    return A


def kl_k3(logp: torch.Tensor, logp_ref: torch.Tensor) -> torch.Tensor:
    """Per-token k3 estimate of KL(pi || pi_ref): exp(ref - logp) - (ref - logp) - 1 (>= 0)."""
    d = logp_ref - logp
    return torch.exp(d) - d - 1.0


def policy_loss(logp: torch.Tensor, logp_old: torch.Tensor, logp_ref: torch.Tensor, A: torch.Tensor,
                mask: torch.Tensor, epsilon: float, beta: float, aggregate: str, L: int,
                kl_mask: Optional[torch.Tensor] = None, n_responses: Optional[int] = None
                ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor]]:
    """-J: the clipped token-level surrogate minus beta * KL, aggregated per algorithm.

    logp, logp_old, logp_ref, mask [b,T] (mask 1 = real token); A [b] one advantage per response;
    kl_mask [b] m_i = 1 where the KL applies (kl_tokens = "student": the student's rollouts), None = all;
    n_responses: B, the minibatch's responses over all ranks (None: b, one process). With data parallelism
    these b responses are one rank's share and -J its share of the minibatch's loss: the shares sum to it.
    J = (1/(B L)) sum_i sum_t [min(rho A_i, clip(rho, 1-eps, 1+eps) A_i) - beta m_i KL_t]   (token_sum)
    J = (1/B) sum_i (1/|o_i|) sum_t [...]                                                   (response_mean)
    stats: kl = the mean KL_t over the tokens with m_i = 1, clip_frac over every token (of these b).
    """
    B = logp.shape[0] if n_responses is None else n_responses
    mask = mask.float()
    m = torch.ones_like(A) if kl_mask is None else kl_mask.float()  # [B]
    rho = torch.exp(logp - logp_old)  # [B,T]
    A_t = A[:, None]  # [B,1]
    surrogate = torch.min(rho * A_t, torch.clamp(rho, 1 - epsilon, 1 + epsilon) * A_t)  # [B,T]
    kl = kl_k3(logp, logp_ref)  # [B,T]
    per_token = (surrogate - beta * m[:, None] * kl) * mask  # [B,T]
    if aggregate == "token_sum":
        J = per_token.sum() / (B * L)
    elif aggregate == "response_mean":
        J = (per_token.sum(1) / mask.sum(1).clamp(min=1)).sum() / B
    else:
        raise ValueError(f"unknown aggregate {aggregate!r}")
    n = mask.sum().clamp(min=1)
    kl_tokens = mask * m[:, None]  # [B,T]
    clipped = ((rho - 1).abs() > epsilon).float()
    # logging only: detached (float() of a tensor that requires grad warns on torch 2.x)
    stats = {"kl": ((kl * kl_tokens).sum() / kl_tokens.sum().clamp(min=1)).detach(),
             "clip_frac": (clipped * mask).sum() / n}
    return -J, stats


# ----------------------------------------------------------------------------------------------
# Plumbing: groups of responses
# ----------------------------------------------------------------------------------------------


def sampling_config(cfg: TrainConfig) -> SamplingConfig:
    return SamplingConfig(max_new_tokens=cfg.max_response_tokens, temperature=cfg.temperature, top_p=cfg.top_p,
                          top_k=cfg.top_k, repetition_penalty=cfg.repetition_penalty)


def step_generator(seed: int, step: int, salt: int, *more: int) -> torch.Generator:
    return torch.Generator().manual_seed(int(np.random.SeedSequence([seed, step, salt, *more]).generate_state(1)[0]))


def draw_teacher_texts(cached: Sequence[Tuple[str, str]], n: int, rng: np.random.Generator) -> List[Tuple[str, str]]:
    """n (teacher, text) responses, round-robin over the teachers present, each in a seeded order."""
    by_teacher: Dict[str, List[str]] = {}
    for name, text in cached:
        by_teacher.setdefault(name, []).append(text)
    if not by_teacher:
        return []
    names = sorted(by_teacher)
    orders = {t: rng.permutation(len(by_teacher[t])) for t in names}
    out = []
    for k in range(n):
        t = names[k % len(names)]
        j = (k // len(names)) % len(by_teacher[t])
        out.append((t, by_teacher[t][int(orders[t][j])]))
    return out


def judge_cache_name() -> str:
    """Rank 0's LLM-judge cache is OUT/judge_cache.jsonl; other ranks keep their own (no two writers on one file)."""
    rank = distributed.world()[0]
    return "judge_cache.jsonl" if rank == 0 else f"judge_cache.rank{rank}.jsonl"


class RLRun:
    """Everything a step touches: data, the student (policy, reference, sampler), discriminator, judge, optimizers.

    The student is any family behind students.Student (built-in or Hugging Face): this class never touches a model.
    """

    def __init__(self, cfg: TrainConfig, data_dir: str, device: str, out_dir: Optional[str] = None,
                 tokenizer: Optional[tok.Tokenizer] = None):
        if cfg.algorithm not in ALGORITHMS:
            raise ValueError(f"unknown RL algorithm {cfg.algorithm!r}; known: {sorted(ALGORITHMS)}")
        if cfg.rl_lr_schedule not in ("constant", "cosine"):
            raise ValueError(f"rl_lr_schedule must be 'constant' or 'cosine', not {cfg.rl_lr_schedule!r}")
        if cfg.kl_tokens not in ("student", "all"):
            raise ValueError(f"kl_tokens must be 'student' or 'all', not {cfg.kl_tokens!r}")
        self.device, self.algo = device, ALGORITHMS[cfg.algorithm]
        self.student: Student
        if cfg.student.family == "hf":
            from .students.hf import HFStudent  # transformers is needed only for hf students
            self.student = HFStudent.load(cfg, device)
            self.mcfg = None
            self.ds = self.student.dataset(data_dir, [cfg.train_split, cfg.val_split])
            self.budget = self.student.resolve_budget(cfg, self.ds)
        else:
            tk = tokenizer or sft.run_tokenizer(cfg, data_dir)
            self.mcfg = dataclasses.replace(model_config(cfg.model, **cfg.model_overrides), vocab_size=tk.vocab_size)
            self.ds = VQADataset(data_dir, self.mcfg, splits=[cfg.train_split, cfg.val_split])
            self.budget = budget_mod.resolve(cfg, self.ds, self.mcfg, tk)
        cfg = self.cfg = dataclasses.replace(cfg, max_response_tokens=self.budget.tokens)  # resolved: L, max_new_tokens
        self.train_idx = self.ds.split_indices(cfg.train_split)
        self.val_idx = self.ds.split_indices(cfg.val_split)[:cfg.val_accuracy_examples]
        self.teacher_cache = self.ds.teacher_responses(cfg.teachers) if self.algo.teachers_in_group else {}
        if self.algo.teachers_in_group:
            self.train_idx = [i for i in self.train_idx if self.ds.examples[i].id in self.teacher_cache]
            if not self.train_idx:
                raise ValueError("ril needs cached teacher responses for the training questions (DIR/teachers/)")
        self.judge = make_judge(cfg.judge, cfg.judge_endpoint, cfg.judge_model, cfg.judge_api_key_env,
                                cfg.judge_concurrency, cfg.judge_retries,
                                cache_path=os.path.join(out_dir, judge_cache_name()) if out_dir else None)
        if self.mcfg is not None:
            self.student = BuiltinStudent(build_model(self.mcfg, cfg.seed, tk).to(device), device)
        self.tok = self.student.tokenizer
        self.policy = self.student.policy
        self.disc: Optional[torch.nn.Module] = None
        self.disc_opt: Optional[torch.optim.Optimizer] = None
        self.optimizer = self.student.make_optimizer(cfg)
        self.batches = sft.Batches(len(self.train_idx), cfg.questions_per_step, cfg.seed)
        self.rl_cfg = dataclasses.replace(cfg, max_steps=max(1, cfg.max_steps - cfg.sft_steps))

    # --- building blocks -----------------------------------------------------------------------

    @property
    def reference(self) -> torch.nn.Module:
        """The built-in student's frozen reference copy (tests read it)."""
        return self.student.reference  # type: ignore[attr-defined]

    def start_from(self, weights: Dict[str, torch.Tensor]) -> None:
        """Policy and reference := the warm-start weights; a fresh discriminator copies them too."""
        self.student.load_weights(weights)
        self.student.reset_reference()
        self.optimizer = self.student.make_optimizer(self.cfg)
        if self.algo.teachers_in_group:
            self.disc = self.student.make_discriminator(self.cfg.disc_input == "question_response")
            self.disc_opt = make_disc_optimizer(self.disc, self.cfg.disc_lr)

    def rollouts(self, rows: Sequence[int], n: int, generator: torch.Generator) -> List[List[int]]:
        """n sampled responses (token ids) per dataset row, row-major: [rows x n]."""
        rep = [i for i in rows for _ in range(n)]
        out: List[List[int]] = []
        scfg = sampling_config(self.cfg)
        chunk = 256
        for s in range(0, len(rep), chunk):
            part = rep[s:s + chunk]
            out.extend(self.student.generate(self.student.inputs(self.ds, part), scfg, generator).tokens)
        return out

    def teacher_group(self, row: int, n: int, rng: np.random.Generator) -> List[List[int]]:
        ex = self.ds.examples[row]
        texts = draw_teacher_texts(self.teacher_cache.get(ex.id, []), n, rng)
        return [self.tok.encode_response(text, self.cfg.max_response_tokens) for _, text in texts]

    def judge_rows(self, rows: Sequence[int], responses: Sequence[Sequence[int]]) -> torch.Tensor:
        items = [(self.ds.examples[i].question, self.ds.examples[i].answer, self.tok.decode(list(r)))
                 for i, r in zip(rows, responses)]
        return torch.tensor(self.judge.grade(items), dtype=torch.float32)

    # --- discriminator pre-training ------------------------------------------------------------

    def pretrain_discriminator(self) -> Dict[str, float]:
        """Pre-train D: k = min(disc_pretrain_samples, cached) student samples vs k teacher responses per question.

        Epoch by epoch until the accuracy on the held-out 20% of the questions reaches disc_pretrain_target_acc
        (with fewer than 2 questions nothing is held out and the epoch's training accuracy decides), at most
        disc_pretrain_max_epochs; each epoch's accuracy goes to log.info, a warning if the target is not reached.
        """
        assert self.disc is not None and self.disc_opt is not None
        cfg = self.cfg
        rng = np.random.default_rng([cfg.seed, 11])
        n_all = len(self.train_idx)
        n_q = n_all if cfg.disc_pretrain_questions <= 0 else min(cfg.disc_pretrain_questions, n_all)
        qs = [self.train_idx[j] for j in rng.permutation(n_all)[:n_q].tolist()]
        per_q = [min(cfg.disc_pretrain_samples, len(self.teacher_cache.get(self.ds.examples[q].id, []))) for q in qs]
        # every question's k samples in one call: rollouts() generates in chunks of 256
        student = self.rollouts([q for q, k in zip(qs, per_q) for _ in range(k)], 1,
                                step_generator(cfg.seed, 10**9, 1))  # step 1e9: pre-training
        n_held = max(1, n_q // 5) if n_q >= 2 else 0  # the last n_held questions are held out
        questions: List[str] = []
        resp: List[List[int]] = []
        labels: List[float] = []
        cut, pos = 0, 0
        for j, (q, k) in enumerate(zip(qs, per_q)):
            if j == n_q - n_held:
                cut = len(resp)
            teacher = self.teacher_group(q, k, np.random.default_rng([cfg.seed, 12, j]))
            questions += [self.ds.examples[q].question] * (2 * k)
            resp += student[pos:pos + k] + teacher
            labels += [STUDENT] * k + [TEACHER] * k
            pos += k
        if not n_held:
            cut = len(resp)
        y_held = torch.tensor(labels[cut:])

        def heldout_acc() -> float:
            p = disc_probs(self.disc, questions[cut:], resp[cut:])
            return float(((p >= 0.5).float() == y_held).float().mean())

        out: Dict[str, float] = {"disc/pretrain_questions": float(n_q), "disc/pretrain_responses": float(len(resp))}
        acc, epochs = (heldout_acc() if n_held else 0.0), 0
        # every rank trains on the same batches: a sharded D averages its ranks' (equal) gradients here, where the RL
        # steps sum the ranks' shares of one batch
        reduce_mean = sharding.is_sharded(self.disc)
        if reduce_mean:
            sharding.set_gradient_reduction(self.disc, "mean", distributed.world()[1])
        for epoch in range(cfg.disc_pretrain_max_epochs):
            order = np.random.default_rng([cfg.seed, 13, epoch]).permutation(cut)
            losses, accs = [], []
            for s in range(0, len(order), cfg.disc_batch_size):
                b = order[s:s + cfg.disc_batch_size].tolist()
                l, a = disc_update(self.disc, self.disc_opt, [questions[j] for j in b], [resp[j] for j in b],
                                   [labels[j] for j in b], cfg.grad_clip)
                losses.append(l)
                accs.append(a)
            epochs = epoch + 1
            out["disc/pretrain_loss"], out["disc/pretrain_acc"] = float(np.mean(losses)), float(np.mean(accs))
            acc = heldout_acc() if n_held else out["disc/pretrain_acc"]
            if reduce_mean:  # another epoch is more collectives: every rank takes the same decision (equal in theory)
                acc = distributed.sum_across_ranks([acc])[0] / distributed.world()[1]
            log.info(f"discriminator pre-training epoch {epochs}/{cfg.disc_pretrain_max_epochs}: loss "
                     f"{out['disc/pretrain_loss']:.4f}, train acc {out['disc/pretrain_acc']:.4f}, "
                     f"{'held-out' if n_held else 'train (nothing held out)'} acc {acc:.4f}")
            if acc >= cfg.disc_pretrain_target_acc:
                break
        if reduce_mean:
            sharding.set_gradient_reduction(self.disc, "sum", distributed.world()[1])
        if n_held:
            out["disc/pretrain_heldout_acc"] = acc
        out["disc/pretrain_epochs"] = float(epochs)
        if acc < cfg.disc_pretrain_target_acc:
            log.info(f"WARNING: discriminator pre-training stopped at {acc:.4f} accuracy after {epochs} epochs, below "
                     f"disc_pretrain_target_acc {cfg.disc_pretrain_target_acc} (raise disc_pretrain_max_epochs or disc_lr)")
        return out

    # --- one RL step ----------------------------------------------------------------------------

    def step(self, step: int, rows: Sequence[int]) -> Dict[str, float]:
        """One RL step on the questions ``rows`` (the global batch); returns the step's metrics (means over it).

        Data parallel (distributed.world() size N > 1): this rank takes the questions at global positions
        rank, rank + N, ... with their whole groups (advantages need no communication); the losses carry the
        global batch's normalisers and the gradients are summed over the ranks (distributed.all_reduce_grads),
        so the update equals one process's on the whole batch; the metrics are global means on every rank.
        """
        cfg, algo = self.cfg, self.algo
        G, Q = cfg.group_size, len(rows)
        rank, size = distributed.world()
        if Q < size:
            raise ValueError(f"questions_per_step ({Q}) must be at least the number of ranks ({size})")
        mine = list(range(rank, Q, size))  # global positions of this rank's questions
        Qr = len(mine)
        m: Dict[str, float] = {}
        sums: Dict[str, List[float]] = {}  # metric -> [sum, count] over this rank's share, reduced at the end

        # 1. rollouts from pi_old (+ G teacher responses per question for ril)
        t0 = time.time()
        groups: List[List[int]] = []  # per question: G student then G teacher responses
        responses: List[List[int]] = []
        is_teacher: List[bool] = []
        # one sampling span: a sharded student gathers its weights once here, so ranks holding different numbers of
        # questions (Q not a multiple of N) may call generate a different number of times
        with self.student.sampling():
            if size > 1 or cfg.rollout_seeding == "per_question":  # k: the question's global position seeds its draws
                student = {k: self.rollouts([rows[k]], G, step_generator(cfg.seed, step, 0, k)) for k in mine}
            else:  # one process: the whole step in one batched call (rows of a batch share the sampler's generator)
                flat = self.rollouts([rows[k] for k in mine], G, step_generator(cfg.seed, step, 0))
                student = {k: flat[j * G:(j + 1) * G] for j, k in enumerate(mine)}
        for k in mine:
            own = student[k]
            theirs = self.teacher_group(rows[k], G, np.random.default_rng([cfg.seed, step, k])) \
                if algo.teachers_in_group else []
            responses += own + theirs
            is_teacher += [False] * len(own) + [True] * len(theirs)
            groups.append([rows[k]] * (len(own) + len(theirs)))
        K = len(groups[0])
        flat_rows = [q for g in groups for q in g]  # [Qr*K]
        r_ans = self.judge_rows(flat_rows, responses).view(Qr, K)  # [Qr,K]
        teacher_mask = torch.tensor(is_teacher).view(Qr, K)  # [Qr,K]
        m["time/rollout_s"] = time.time() - t0

        # 2. discriminator update (before the rewards), 3. rewards
        t0 = time.time()
        if algo.teachers_in_group:
            assert self.disc is not None and self.disc_opt is not None
            questions = [self.ds.examples[q].question for q in flat_rows]
            labels = [TEACHER if t else STUDENT for t in is_teacher]
            total = {"total": Q * K} if size > 1 else {}  # the global batch's size: its loss and gradient
            d_l, d_a = [], []
            for _ in range(cfg.mu):
                l, a = disc_update(self.disc, self.disc_opt, questions, responses, labels, cfg.grad_clip, **total)
                d_l.append(l)
                d_a.append(a)
            m["disc/loss"], m["disc/acc"] = float(np.mean(d_l)), float(np.mean(d_a))
            D = disc_probs(self.disc, questions, responses).view(Qr, K)  # [Qr,K], after the update
            R, r_sim = group_rewards(algo, r_ans, D)
            sums["reward/sim_student"] = [float(r_sim[~teacher_mask].sum()), float((~teacher_mask).sum())]
            sums["reward/sim_teacher"] = [float(r_sim[teacher_mask].sum()), float(teacher_mask.sum())]
            sums["reward/answer_teacher"] = [float(r_ans[teacher_mask].sum()), float(teacher_mask.sum())]
        else:
            D = None
            R, r_sim = group_rewards(algo, r_ans, None)
        sums["reward/answer_student"] = [float(r_ans[~teacher_mask].sum()), float((~teacher_mask).sum())]
        sums["reward/total"] = [float(R.sum()), float(R.numel())]
        A = advantages(R, algo.std_normalise).view(-1)  # [Qr*K]
        self.last_group = {"r_ans": r_ans, "r_sim": r_sim, "D": D, "R": R, "A": A.view(Qr, K),
                           "is_teacher": teacher_mask, "responses": responses}  # for tests and debugging
        m["time/disc_s"] = time.time() - t0

        # 4-5. policy update: mu passes over policy_minibatches minibatches (split by question, global positions)
        t0 = time.time()
        inputs = self.student.inputs(self.ds, flat_rows)  # image + question per response, [Qr*K]
        logp_old, mask = self.student.score_responses(inputs, responses)  # [Qr*K,T]
        logp_ref, _ = self.student.score_responses(inputs, responses, reference=True)
        lr = cfg.lr if cfg.rl_lr_schedule == "constant" else sft.learning_rate(step - cfg.sft_steps, self.rl_cfg)
        kl_mask = torch.ones(Qr * K) if cfg.kl_tokens == "all" else (~teacher_mask).view(-1).float()  # [Qr*K]
        for g in self.optimizer.param_groups:
            g["lr"] = lr
        n_mb = max(1, min(cfg.policy_minibatches, Q))
        local = {k: j for j, k in enumerate(mine)}  # global position -> this rank's row
        shares: List[List[float]] = []  # per minibatch, this rank's: [loss share, KL sum, KL tokens, clipped, tokens]
        grad_norms: List[float] = []  # per minibatch: of the summed gradient (the same on every rank)
        params = self.student.trainable_parameters()
        self.policy.train()
        for _ in range(cfg.mu):
            for part in np.array_split(np.arange(Q), n_mb):
                idx = [local[int(q)] * K + k for q in part if int(q) in local for k in range(K)]
                self.optimizer.zero_grad(set_to_none=True)
                loss_v, kl_v, kl_n, clip_v, n_tok = 0.0, 0.0, 0.0, 0.0, 0.0
                if not idx and self.student.sharded:  # FSDP's forward and backward are collectives: join them
                    logp, _ = self.student.response_logprobs(inputs.select([0]), [responses[0]])
                    (logp.sum() * 0.0).backward()
                if idx:  # a rank may have no question in a minibatch: it adds nothing but joins the all-reduce
                    T = int(mask[idx].sum(1).max())
                    logp, mb_mask = self.student.response_logprobs(inputs.select(idx),
                                                                   [responses[i] for i in idx])  # [b,T]
                    loss, st = policy_loss(logp, logp_old[idx, :T], logp_ref[idx, :T], A[idx].to(self.device),
                                           mb_mask, cfg.epsilon, cfg.beta, algo.aggregate, cfg.max_response_tokens,
                                           kl_mask[idx].to(self.device), n_responses=len(part) * K)
                    loss.backward()
                    tok_mask = mb_mask.float()
                    kl_n = float((tok_mask * kl_mask[idx].to(self.device)[:, None]).sum())
                    n_tok = float(tok_mask.sum())
                    loss_v, kl_v, clip_v = float(loss.detach()), float(st["kl"]) * kl_n, float(st["clip_frac"]) * n_tok
                distributed.all_reduce_grads(params)
                grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip if cfg.grad_clip > 0 else float("inf"))
                self.optimizer.step()
                shares.append([loss_v, kl_v, kl_n, clip_v, n_tok])
                grad_norms.append(float(sharding.full(grad_norm)))

        # metrics: means over the global batch (sums and counts over the ranks, one all-reduce); times are this rank's
        own_lens = [len(r) for j in range(Qr) for r in responses[j * K:j * K + G]]  # the student's rollouts
        sums["gen/len_mean"] = [float(sum(own_lens)), float(len(own_lens))]
        names = sorted(sums)
        red = distributed.sum_across_ranks([v for k in names for v in sums[k]] + [v for row in shares for v in row])
        for j, k in enumerate(names):
            m[k] = red[2 * j] / red[2 * j + 1]
        mbs = [red[o:o + 5] for o in range(2 * len(names), len(red), 5)]  # per minibatch, over all ranks
        m["policy/loss"] = float(np.mean([r[0] for r in mbs]))  # the shares sum to the minibatch's loss
        m["policy/kl"] = float(np.mean([r[1] / max(r[2], 1.0) for r in mbs]))
        m["policy/clip_frac"] = float(np.mean([r[3] / max(r[4], 1.0) for r in mbs]))
        m["policy/grad_norm"] = float(np.mean(grad_norms))
        m["policy/lr"] = lr
        m["time/policy_s"] = time.time() - t0
        if self.judge.kind == "llm":
            m["judge/unparseable"] = distributed.sum_across_ranks([float(self.judge.stats["unparseable"])])[0]
        return m

    # --- evaluation ------------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, rows: Sequence[int], split: str) -> Tuple[Dict[str, float], List[str]]:
        """Greedy answers: eval/<split>/accuracy (judge), teacher_likeness (share with D < 0.5), len_mean."""
        tokens = greedy_responses(self.student, self.ds, rows, 128, self.cfg.max_response_tokens)
        # a sharded student's ranks all sample and score (collectives, the same rows); rank 0 judges and logs
        D = None if self.disc is None else disc_probs(self.disc, [self.ds.examples[i].question for i in rows], tokens)
        if not distributed.is_main():
            return {}, []
        res = {f"eval/{split}/accuracy": float(self.judge_rows(rows, tokens).mean()),
               f"eval/{split}/len_mean": float(np.mean([len(t) for t in tokens]))}
        if D is not None:
            res[f"eval/{split}/teacher_likeness"] = float((D < 0.5).float().mean())
        return res, [self.tok.decode(t) for t in tokens]

    # --- checkpoints -----------------------------------------------------------------------------

    def save(self, path: str, step: int, pretrain: Dict[str, float]) -> None:
        """Rank 0 writes (every rank holds the same state); the others wait so none runs ahead of the file. A sharded
        student's state is gathered from every rank first."""
        if not distributed.is_main() and not self.student.sharded:
            distributed.barrier()
            return
        with sharding.discarding(not distributed.is_main()):  # the other ranks join the gathers, keep nothing
            extra = {"phase": "rl", "algorithm": self.cfg.algorithm,
                     "reference": self.student.reference_weights(),  # None: the policy with its adapters off
                     "disc": None if self.disc is None else sharding.full_state(self.disc),
                     "disc_optimizer": None if self.disc_opt is None else self.student.optimizer_state(self.disc_opt),
                     "disc_pretrain": pretrain}
            ckpt.save(path, self.student, self.optimizer, step, self.batches.position(), to_dict(self.cfg), extra,
                      write=distributed.is_main())
        distributed.barrier()

    def restore(self, state: Dict) -> Dict[str, float]:
        extra = state["extra"]
        self.start_from(extra["reference"] if extra.get("reference") is not None else state["model"])
        self.student.load_weights(state["model"])
        self.student.load_optimizer_state(self.optimizer, state["optimizer"])
        if self.disc is not None:
            assert self.disc_opt is not None
            if sharding.is_sharded(self.disc):
                sharding.load_full_state(self.disc, extra["disc"])
            else:
                self.disc.load_state_dict(extra["disc"])
            self.student.load_optimizer_state(self.disc_opt, extra["disc_optimizer"])
        self.batches.epoch, self.batches.index = state["data_position"]["epoch"], state["data_position"]["index"]
        ckpt.set_rng_state(state["rng"])
        return extra.get("disc_pretrain", {})


# ----------------------------------------------------------------------------------------------
# Plumbing: the run (warm start -> discriminator pre-training -> RL loop)
# ----------------------------------------------------------------------------------------------


def train(cfg: TrainConfig, data_dir: str, out_dir: str, eval_suite: Optional[str] = None) -> Dict[str, float]:
    """Run (or resume from OUT/checkpoint.pt) a grpo | dr_grpo | ril run; returns the final metrics.
    eval_suite: an evaluation suite file scored every eval_suite_every steps (both phases) and at the end."""
    device = resolve_device(cfg.device)
    set_threads(cfg.num_threads)
    seed_everything(cfg.seed)
    # data parallel when started as several ranks (torchrun or --nproc): RLRun.step shards the questions and
    # sums the gradients; rank 0 alone logs, evaluates and writes checkpoints
    if distributed.init_from_env(device):
        log.set_enabled(distributed.is_main())
    if cfg.sft_steps >= cfg.max_steps:
        raise ValueError(f"max_steps ({cfg.max_steps}) must exceed sft_steps ({cfg.sft_steps}): it counts both phases")
    os.makedirs(out_dir, exist_ok=True)
    ckpt_path = os.path.join(out_dir, "checkpoint.pt")
    state = ckpt.load(ckpt_path) if os.path.exists(ckpt_path) else None
    in_rl = state is not None and (state.get("extra") or {}).get("phase") == "rl"

    # --- warm start (SFT in this run directory, or init_checkpoint) ---
    if not in_rl and cfg.sft_steps > 0 and (state is None or state["step"] < cfg.sft_steps):
        stop = cfg.stop_after_step if cfg.stop_after_step is not None and cfg.stop_after_step < cfg.sft_steps else None
        sft_cfg = dataclasses.replace(cfg, algorithm="sft", max_steps=cfg.sft_steps, lr=cfg.sft_lr, stop_after_step=stop)
        sft.train(sft_cfg, data_dir, out_dir, emit_done=False, eval_suite=eval_suite)
        state = ckpt.load(ckpt_path)
        if state["step"] < cfg.sft_steps:
            return {}  # stopped inside the warm start (sft emitted "stopped")
        seed_everything(cfg.seed)

    # the tokenizer of the checkpoint this run resumes or starts from (SFT phase, init_checkpoint), else a new one
    tokenizer = None
    if cfg.student.family == "builtin":
        tokenizer = ckpt.tokenizer_of(state) if state is not None else sft.run_tokenizer(cfg, data_dir)
    run = RLRun(cfg, data_dir, device, out_dir, tokenizer)  # an LLM judge's verdicts persist in OUT/judge_cache.jsonl
    if in_rl:
        assert state is not None
        pretrain = run.restore(state)
        step = int(state["step"])
        log.emit("resumed", step=step, data_position=run.batches.position(), phase="rl")
        log.info(f"resumed {cfg.algorithm} from {ckpt_path} at step {step}")
    else:
        if cfg.sft_steps > 0:
            assert state is not None
            weights = state["model"]
        elif cfg.init_checkpoint:
            weights = ckpt.load(cfg.init_checkpoint)["model"]
        else:
            weights = run.student.weights()
        run.start_from(weights)
        step = cfg.sft_steps
        pretrain = {}
        if run.disc is not None:
            t0 = time.time()
            pretrain = run.pretrain_discriminator()  # every rank alike; then rank 0's D is everyone's (unless sharded)
            distributed.broadcast_state(run.disc, run.disc_opt)
            pretrain["time/disc_pretrain_s"] = time.time() - t0
            for k, v in pretrain.items():
                log.metric(step, k, v)
            log.info("discriminator pre-training: " + ", ".join(f"{k} {v:.4f}" for k, v in pretrain.items()))
        run.save(ckpt_path, step, pretrain)
        log.emit("checkpoint", step=step, path=ckpt_path)

    log.emit("start", algorithm=cfg.algorithm, step=step, device=device, parameters=run.student.num_parameters(),
             train_questions=len(run.train_idx), config=to_dict(run.cfg), model_config=run.student.describe(),
             response_budget=run.budget.as_dict())
    log.metric(step, "data/budget_tokens", run.budget.tokens)
    log.metric(step, "data/truncated_frac", run.budget.truncated_frac)
    log.info(f"response budget {run.budget.tokens} tokens ({'auto' if run.budget.auto else 'given'}): truncates "
             f"{run.budget.truncated_frac:.2%} of {run.budget.targets} training targets; rl lr {cfg.rl_lr_schedule}, "
             f"KL on {cfg.kl_tokens} tokens")

    suite = sft.training_suite(cfg, eval_suite)
    if suite is not None:
        suite.prepare(run.student)
    final: Dict[str, float] = {}
    if cfg.stop_after_step is not None and step >= cfg.stop_after_step and step < cfg.max_steps:
        log.emit("stopped", step=step)
        return final
    while step < cfg.max_steps:
        rows = [run.train_idx[j] for j in run.batches.next()]
        m = run.step(step, rows)
        step += 1
        for name, value in m.items():
            log.metric(step, name, value)
        log.info(f"step {step}/{cfg.max_steps} " + " ".join(
            f"{k.split('/')[-1]} {m[k]:.3f}" for k in ("reward/total", "reward/answer_student", "reward/sim_student",
                                                        "disc/acc", "policy/kl", "gen/len_mean") if k in m))
        if step == cfg.max_steps or (cfg.eval_every and step % cfg.eval_every == 0):
            if run.val_idx and (distributed.is_main() or run.student.sharded):
                final, _ = run.evaluate(run.val_idx, cfg.val_split)
                for name, value in final.items():
                    log.metric(step, name, value)
        if suite is not None and suite.due(step, cfg.eval_suite_every, cfg.max_steps) and distributed.is_main():
            sft.emit_suite_metrics(suite, step, run.student, run.cfg.max_response_tokens, 128, device)
        if step == cfg.max_steps or (cfg.checkpoint_every and step % cfg.checkpoint_every == 0) \
                or step == cfg.stop_after_step:
            run.save(ckpt_path, step, pretrain)
            log.emit("checkpoint", step=step, path=ckpt_path)
        if cfg.stop_after_step is not None and step >= cfg.stop_after_step and step < cfg.max_steps:
            log.emit("stopped", step=step)
            return final
    log.emit("done", step=step, **final)
    return final
