"""Typed configs: one dataclass per entry point, a docstring under each field.

Config files are JSON. A file may carry a ``"comment"`` object (field -> why it differs from
the default) and any key starting with ``_``; both are ignored by the loader. Unknown keys are
an error, so a typo never silently falls back to a default.
"""
from __future__ import annotations

import dataclasses
import json
import typing
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar

T = TypeVar("T")


# ----------------------------------------------------------------------------------------------
# Model
# ----------------------------------------------------------------------------------------------


@dataclass
class ModelConfig:
    """Architecture and image preprocessing of the compact student (model family ``ril-vlm-v1``)."""

    size: str = "custom"
    """Name of the preset this config came from (informational)."""
    image_size: int = 28
    """Input images are image_size x image_size; images of another size are rejected (no resize)."""
    channels: int = 1
    """1 = grayscale (PIL mode "L"), 3 = RGB."""
    mean: Tuple[float, ...] = (0.2860,)
    """Per-channel mean subtracted after scaling pixels to [0, 1] (Fashion-MNIST train mean)."""
    std: Tuple[float, ...] = (0.3530,)
    """Per-channel std divided after subtracting the mean (Fashion-MNIST train std)."""
    patch_size: int = 4
    """Vision encoder patch side; image_size must be divisible by it. n_image_tokens = (image_size/patch)^2."""
    vision_dim: int = 96
    """Width of the vision encoder."""
    vision_layers: int = 2
    """Number of (bidirectional) transformer blocks in the vision encoder."""
    vision_heads: int = 4
    """Attention heads in the vision encoder."""
    d_model: int = 128
    """Width of the language model (the projector maps vision_dim -> d_model)."""
    n_layers: int = 4
    """Number of causal decoder blocks."""
    n_heads: int = 4
    """Attention heads in the decoder."""
    mlp_ratio: int = 4
    """Hidden width of every MLP is mlp_ratio * width."""
    max_seq_len: int = 256
    """Learned absolute positions: image tokens + prompt + response must fit."""
    vocab_size: int = 261
    """Ids of the tokenizer (byte-level: 256 bytes + 5 specials; a bpe student's is its tokenizer's size)."""
    dropout: float = 0.0
    """Dropout on embeddings, attention output and MLP output during training."""

    @property
    def n_image_tokens(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    def validate(self) -> "ModelConfig":
        if self.image_size % self.patch_size:
            raise ValueError(f"image_size {self.image_size} not divisible by patch_size {self.patch_size}")
        if self.d_model % self.n_heads or self.vision_dim % self.vision_heads:
            raise ValueError("width must be divisible by the number of heads")
        if len(self.mean) != self.channels or len(self.std) != self.channels:
            raise ValueError("mean/std need one value per channel")
        if self.n_image_tokens + 8 > self.max_seq_len:
            raise ValueError("max_seq_len too small for the image tokens")
        return self


SIZES: Dict[str, ModelConfig] = {
    # Trains in seconds on two CPU cores; used by the tests.
    "nano": ModelConfig(size="nano", patch_size=7, vision_dim=32, vision_layers=1, vision_heads=2,
                        d_model=48, n_layers=2, n_heads=2, max_seq_len=192),
    # The demo student.
    "small": ModelConfig(size="small", patch_size=4, vision_dim=96, vision_layers=2, vision_heads=4,
                         d_model=128, n_layers=4, n_heads=4, max_seq_len=256),
    # Tens of millions of parameters, for a GPU.
    "base": ModelConfig(size="base", patch_size=4, vision_dim=256, vision_layers=4, vision_heads=4,
                        d_model=512, n_layers=8, n_heads=8, max_seq_len=512),
}


def model_config(size: str, **overrides: Any) -> ModelConfig:
    if size not in SIZES:
        raise ValueError(f"unknown model size {size!r}; known: {sorted(SIZES)}")
    cfg = dataclasses.replace(SIZES[size], **_coerce(ModelConfig, overrides))
    return cfg.validate()


# ----------------------------------------------------------------------------------------------
# Sampling
# ----------------------------------------------------------------------------------------------


@dataclass
class SamplingConfig:
    """Decoding settings. Defaults are the RIL paper's rollout settings."""

    max_new_tokens: int = 64
    """Upper bound on generated tokens (the <eos> counts)."""
    greedy: bool = False
    """Argmax decoding (after the repetition penalty); temperature/top-p/top-k are then unused."""
    temperature: float = 1.0
    """Logits are divided by it before top-k/top-p."""
    top_p: float = 0.95
    """Nucleus sampling: keep the smallest set of tokens whose probability mass reaches top_p."""
    top_k: int = 50
    """Keep the k most likely tokens (0 = off)."""
    repetition_penalty: float = 1.05
    """CTRL-style penalty on tokens already in the prompt text or generated: logit/p if > 0, else logit*p."""
    use_cache: bool = True
    """Decode with the KV cache (False recomputes the whole sequence each step; for tests/benchmarks)."""


# ----------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------


@dataclass
class LoraConfig:
    """LoRA adapters (peft) on a Hugging Face student's language model. r = 0 means full fine-tuning."""

    r: int = 0
    """Adapter rank (0 = no adapters: every weight trains). With adapters the reference model is the same weights
    with the adapters switched off, so RL keeps one copy of the model in memory instead of two."""
    alpha: int = 16
    """LoRA scaling numerator (the update is scaled by alpha / r)."""
    dropout: float = 0.05
    """Dropout on the adapter input during training."""
    target_modules: List[str] = field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])
    """Names of the linear layers that get adapters (the attention projections of Llama/Qwen-style decoders)."""


@dataclass
class StudentConfig:
    """Which model family the student is. "builtin" is the compact family of model.py (its size is ``model``);
    "hf" is a Hugging Face vision-language model loaded with transformers (SmolVLM/Idefics3, Qwen2-VL/Qwen2.5-VL)."""

    family: str = "builtin"
    """builtin | hf."""
    model: str = ""
    """hf: a local directory with the model's config, weights and processor (save_pretrained layout), or a hub id
    that is already in the worker's Hugging Face cache. The platform never downloads weights."""
    lora: LoraConfig = field(default_factory=LoraConfig)
    """hf: LoRA adapters (r = 0: full fine-tuning)."""
    dtype: str = "auto"
    """hf: "auto" (bf16 autocast on a GPU that supports it, fp32 otherwise), "bf16" or "fp32"."""
    gradient_checkpointing: bool = False
    """hf: recompute activations in the backward pass (less memory, about a third more compute)."""
    disc_backbone: str = "copy"
    """hf, ril: the discriminator's language backbone. "copy": its own copy of the student's language model with a
    scalar head on the last token (the paper's). "lora": the student's frozen language model with a separate LoRA
    adapter and the head (about half the memory; needs lora.r > 0)."""
    sharding: str = "none"
    """hf, on several ranks: "none" (every rank holds the whole model: data parallel) or "fsdp" (PyTorch's FSDP,
    ZeRO-3-like: each rank holds 1/N of the policy's weights, gradients and AdamW moments, and of a full fine-tuning
    reference; sharding.py), and of the copy discriminator's; disc_backbone lora is refused."""


@dataclass
class TrainConfig:
    """Config of ``python3 -m ril_trainer train``. ``algorithm`` picks the trainer: sft (sft.py) or
    grpo / dr_grpo / ril (rl.py)."""

    algorithm: str = "sft"
    """Training algorithm: "sft" (warm start), "grpo", "dr_grpo" or "ril" (rl.py; one code path)."""
    model: str = "small"
    """Named model size: nano | small | base."""
    model_overrides: Dict[str, Any] = field(default_factory=dict)
    """Fields of ModelConfig that differ from the named size (vocab_size always follows the tokenizer)."""
    student: StudentConfig = field(default_factory=StudentConfig)
    """The student's family: the built-in compact family (default; ``model`` names its size) or a Hugging Face
    VLM (``{"family": "hf", "model": "<dir or id>", "lora": {...}}``)."""
    gpus: int = 0
    """GPUs the job needs. 0: any worker (CPU included). N >= 1: only a worker with at least N GPUs claims it, and
    N > 1 runs one data-parallel rank per GPU (torchrun)."""
    tokenizer: str = "bpe"
    """A new student's tokenizer: "bpe" (byte-level BPE learnt with Hugging Face tokenizers from the training
    split's questions, answers and teacher responses: a teacher sentence is tens of tokens) or "byte" (UTF-8
    bytes: hundreds). A run that starts from or resumes a checkpoint uses the tokenizer stored in it."""
    tokenizer_vocab_size: int = 1024
    """bpe: the vocabulary size the BPE is trained up to (specials and the 256 byte symbols included)."""
    init_checkpoint: Optional[str] = None
    """Start from this checkpoint's weights (not its optimizer/step), e.g. an SFT student for RL."""
    target: str = "answer"
    """SFT target: "answer" (the dataset's ground-truth answers) or "teacher" (cached teacher responses)."""
    teachers: List[str] = field(default_factory=list)
    """Teachers (empty = every teacher file under DIR/teachers/): imitated with target=teacher; for ril, the
    cached responses placed in each group (drawn round-robin from every selected teacher)."""
    train_split: str = "train"
    """Split trained on."""
    val_split: str = "val"
    """Split for validation loss and accuracy."""
    batch_size: int = 64
    """Sequences per optimizer step."""
    max_steps: int = 1000
    """Optimizer steps in the whole run."""
    lr: float = 1e-3
    """Peak learning rate (AdamW)."""
    min_lr_ratio: float = 0.1
    """Cosine decay ends at lr * min_lr_ratio."""
    warmup_steps: int = 50
    """Linear warmup from 0 to lr."""
    weight_decay: float = 0.01
    """AdamW weight decay, applied to matrices only (not to norms, biases, embeddings of positions)."""
    betas: Tuple[float, float] = (0.9, 0.95)
    """AdamW betas."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this (0 = off)."""
    max_response_tokens: int = 0
    """Response budget in tokens (+ <eos>): targets and teacher texts are truncated to it, rollouts and greedy
    evaluation generate at most it, and it is the Dr.GRPO constant L. 0 = auto: the smallest budget covering
    budget_coverage of the training targets (budget.py). Never cut to fit max_seq_len: a budget that does not fit
    next to the image and the longest prompt is an error. Checkpoints store the resolved value."""
    budget_coverage: float = 0.99
    """max_response_tokens = 0: share of the training targets (SFT: answers or teacher responses; RL: the selected
    teachers' cached responses + the answers) the auto budget must hold whole."""
    eval_every: int = 200
    """Validation loss (and accuracy) every this many steps and at the end (0 = only at the end)."""
    val_loss_examples: int = 512
    """Validation examples used for the loss."""
    val_accuracy_examples: int = 256
    """Validation examples decoded greedily for accuracy (0 = skip)."""
    eval_suite: str = ""
    """An evaluation suite to score during training: its name (the platform pins it to name@version when the
    experiment is created). Every eval_suite_every steps and at the end the student is scored greedily on each of
    the suite's datasets with the rule judge; the series are eval/suite/<name>/<column> and eval/suite/<name>/avg
    (unweighted mean over the columns). The platform sends the datasets with the TRAIN job; offline, pass
    --eval-suite FILE to `ril_trainer train`. "" = off."""
    eval_suite_every: int = 0
    """Steps between suite scorings (0 = only at the end)."""
    checkpoint_every: int = 200
    """Write OUT/checkpoint.pt every this many steps and at the end."""
    log_every: int = 10
    """Emit train/loss every this many steps (a mean over those steps)."""
    seed: int = 0
    """Seeds python, numpy and torch; the data order is a function of (seed, epoch)."""
    device: str = "auto"
    """cpu | cuda | auto (cuda when available)."""
    num_threads: int = 0
    """torch CPU threads (0 = leave torch's default)."""
    stop_after_step: Optional[int] = None
    """Stop (after checkpointing) once this step is done, as if interrupted; for resume tests."""

    # --- RL (grpo | dr_grpo | ril): defaults are the RIL paper's; see rl.py --------------------
    sft_steps: int = 0
    """RL algorithms: SFT warm-start steps run first in the same run directory (0 = start from
    init_checkpoint or, without one, from random weights). max_steps counts them: RL steps = max_steps - sft_steps."""
    sft_lr: float = 1e-3
    """Peak learning rate of the SFT warm-start phase (lr is the RL phase's)."""
    rl_lr_schedule: str = "constant"
    """RL phase learning rate: "constant" (lr at every RL step, as the paper) or "cosine" (warmup_steps of linear
    warmup, then cosine to lr * min_lr_ratio over the RL steps). SFT and the SFT warm start always use the latter."""
    questions_per_step: int = 16
    """RL: questions per step; each gets group_size rollouts (and, for ril, group_size teacher responses)."""
    group_size: int = 4
    """G: rollouts per question from pi_old (ril adds G cached teacher responses: a group of 2G)."""
    mu: int = 1
    """Passes over each step's batch for the policy and the discriminator updates."""
    policy_minibatches: int = 1
    """Optimizer steps per pass: the step's responses are split into this many minibatches (by question)."""
    epsilon: float = 0.2
    """Clip range of the ratio pi/pi_old in the token-level surrogate."""
    beta: float = 0.01
    """Weight of the per-token k3 KL to the frozen reference (the SFT student)."""
    kl_tokens: str = "student"
    """Tokens the KL term is applied on: "student" (the student's rollouts only; k3 estimates KL(pi || ref) under
    samples of pi, so ril's teacher responses get the surrogate alone) or "all" (teacher responses too). The
    Dr.GRPO normaliser stays sum / (responses x L) either way."""
    rollout_seeding: str = "auto"
    """How a step's rollouts are seeded. "auto": in one process, one batched sampling call for the whole step, seeded
    by (seed, step) (the fastest); on data-parallel ranks, one call per question seeded by (seed, step, the
    question's position in the global batch), so the rollouts do not depend on the number of ranks. "per_question":
    per question in one process too, which reproduces an N-rank run exactly (slower: on the CPU a nano step's
    rollouts take about 2.5x as long at 16 questions)."""
    temperature: float = SamplingConfig.temperature
    """Rollout temperature (SamplingConfig)."""
    top_p: float = SamplingConfig.top_p
    """Rollout nucleus mass (SamplingConfig)."""
    top_k: int = SamplingConfig.top_k
    """Rollout top-k (SamplingConfig; 0 = off)."""
    repetition_penalty: float = SamplingConfig.repetition_penalty
    """Rollout repetition penalty (SamplingConfig)."""
    disc_input: str = "response"
    """Discriminator input: "response" (the paper's prompt: the response text only) or "question_response"."""
    disc_lr: float = 1e-4
    """AdamW learning rate of the discriminator (pre-training and the per-step updates)."""
    disc_pretrain_questions: int = 0
    """Training questions used for discriminator pre-training (0 = every training question with cached teacher
    responses); 20% of them are held out for its accuracy."""
    disc_pretrain_samples: int = 16
    """Per pre-training question: k = min(this, cached responses of the question) teacher responses vs k student
    samples (paper: 16 + 16)."""
    disc_pretrain_target_acc: float = 0.9
    """Discriminator pre-training stops after the first epoch whose held-out accuracy reaches this."""
    disc_pretrain_max_epochs: int = 20
    """At most this many passes over the pre-training pairs (a warning is logged if the target is not reached)."""
    disc_batch_size: int = 64
    """Responses per discriminator pre-training step."""
    judge: str = "rule"
    """Answer judge: "rule" (deterministic, offline; the same rule as eval accuracy) or "llm" (judge_endpoint)."""
    judge_endpoint: Optional[str] = None
    """judge=llm: base URL of an OpenAI-compatible API (".../v1"; /chat/completions is appended)."""
    judge_model: str = "judge"
    """judge=llm: the "model" field sent to the endpoint."""
    judge_api_key_env: Optional[str] = None
    """judge=llm: name of the environment variable holding the bearer key (never the key itself)."""
    judge_concurrency: int = 4
    """judge=llm: requests in flight at once."""
    judge_retries: int = 3
    """judge=llm: retries per request on transport errors, 429 and 5xx (exponential backoff)."""


def _coerce(cls: Type[Any], d: Dict[str, Any]) -> Dict[str, Any]:
    names = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    out: Dict[str, Any] = {}
    for k, v in d.items():
        if k == "comment" or k.startswith("_"):
            continue
        if k not in names:
            raise ValueError(f"unknown {cls.__name__} field {k!r}")
        if isinstance(v, list) and "Tuple" in str(names[k].type):
            v = tuple(v)
        if dataclasses.is_dataclass(hints[k]) and isinstance(v, dict):
            v = hints[k](**_coerce(hints[k], v))  # nested config (student.lora): unknown keys are errors there too
        out[k] = v
    return out


def from_dict(cls: Type[T], d: Dict[str, Any]) -> T:
    return cls(**_coerce(cls, d))  # type: ignore[call-arg]


def load_json_config(cls: Type[T], path: Optional[str], **overrides: Any) -> T:
    d: Dict[str, Any] = {}
    if path:
        with open(path) as f:
            d = json.load(f)
    d.update({k: v for k, v in overrides.items() if v is not None})
    return from_dict(cls, d)


def to_dict(obj: Any) -> Dict[str, Any]:
    d = dataclasses.asdict(obj)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
