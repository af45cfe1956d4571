"""Hugging Face vision-language students (transformers + peft) behind the Student interface.

Families: Idefics3 / SmolVLM (``pixel_values`` + ``pixel_attention_mask``, llama text model, 1-D positions) and
Qwen2-VL / Qwen2.5-VL (flattened ``pixel_values`` + ``image_grid_thw``, M-RoPE positions). Loaded with
``AutoModelForImageTextToText`` from a save_pretrained directory or the local Hugging Face cache only
(``local_files_only``): the platform never downloads weights.

Choices where the paper is silent, or where we deviate:
- **Prompt**: the model's own processor and chat template, one user turn (the image, then the question) with the
  generation prompt added; prompts are left-padded (``padding_side="left"``) and responses appended right-padded,
  so a batched row scores exactly like the row alone (positions are computed from the attention mask: cumsum for
  1-D positions, ``get_rope_index`` for M-RoPE).
- **Sampling** is our own loop over the model's forward with its KV cache, with the logit processing of
  sampling.py (repetition penalty -> temperature -> top-k -> top-p, a torch.Generator), so rollouts are
  reproducible from (seed, step) as for the built-in family. The penalty covers the prompt's non-special tokens
  and the generated ones. A row stops at its first end-of-sequence id (the tokenizer's eos and the generation
  config's). The log-probs the loss uses come from the teacher-forced scoring pass, never from the sampler.
- **Responses** (teacher texts, answers) are the tokenizer's ids of the text + its eos; special tokens spelled in
  the text are read as plain characters. The sampler never emits the image / video placeholder ids (their logits
  are -inf): the model would read one inside a response as a slot for image features.
- **LoRA** (peft) on the language model's ``target_modules`` only (the vision tower stays frozen); r = 0 trains
  every weight. With LoRA the **reference** is the policy with its adapters switched off (``disable_adapter()``):
  the base model. After an SFT warm start done with adapters that is the pre-SFT model, not the SFT student (the
  paper's reference): the price of keeping one copy in memory. Full fine-tuning keeps a frozen copy (the SFT
  student).
- **Precision**: fp32 weights; dtype "auto" runs forwards under bf16 autocast on a GPU that supports it (fp32 on
  the CPU); "bf16" asks for bf16 autocast wherever it runs. Log-softmax is taken in fp32.
- **Discriminator** (ril): the language backbone with a scalar head on the last non-pad token. "copy": its own copy
  of the student's language model (adapters included) that trains fully; "lora": the student's frozen language
  model (base weights, the policy's adapters off) with its own LoRA adapter ("disc") + head (needs lora.r > 0).
  Input: [bos] + response, or [bos] + question ids + response (disc_input = "question_response"); no image.
- **Sharding** (``sharding: "fsdp"`` on several ranks, sharding.py): the model and a full-fine-tuning reference are
  sharded block by block, and so is the copy discriminator (copied before sharding, sharded on its own); "lora" is
  refused with sharding (its adapter would sit inside the sharded policy).

Run: python3 -m ril_trainer train --config CONFIG_WITH_student.family=hf --data DIR --out runs/hf
"""
from __future__ import annotations

import contextlib
import copy
import os
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import budget as budget_mod
from .. import distributed, sharding
from ..config import SamplingConfig, TrainConfig, to_dict
from ..data import VQADataset, pad_responses
from ..sampling import Generation, choose_tokens
from .base import Inputs, Student, StudentError, TextCodec, adamw

IDEFICS3_TYPES = ("idefics3", "smolvlm")
QWEN_VL_TYPES = ("qwen2_vl", "qwen2_5_vl")
DISC_ADAPTER = "disc"
IMAGE_CACHE = 4096  # decoded images kept per student


class HFStudentError(StudentError):
    """A Hugging Face student that cannot be loaded or trained as configured."""


# ----------------------------------------------------------------------------------------------
# Text and prompts
# ----------------------------------------------------------------------------------------------


class HFTextCodec(TextCodec):
    def __init__(self, tokenizer: Any, stop_ids: Sequence[int]):
        self.tk = tokenizer
        if tokenizer.eos_token_id is None:
            raise HFStudentError("the student's tokenizer has no eos token: responses could never end")
        self.eos_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else self.eos_id)
        self.bos_id: Optional[int] = tokenizer.bos_token_id
        self.stop_ids = sorted({self.eos_id, *(int(i) for i in stop_ids)})

    def encode(self, text: str) -> List[int]:
        # split_special_tokens: a text that spells "<image>" gets the characters, never the image placeholder id
        return list(self.tk(text, add_special_tokens=False, split_special_tokens=True)["input_ids"])

    def encode_response(self, response: str, max_tokens: int = 0) -> List[int]:
        ids = self.encode(response) + [self.eos_id]
        return ids[:max_tokens] if max_tokens > 0 else ids

    def decode(self, ids: Sequence[int]) -> str:
        kept: List[int] = []
        for i in ids:
            if int(i) in self.stop_ids:
                break
            kept.append(int(i))
        return self.tk.decode(kept, skip_special_tokens=True)


@dataclass
class HFInputs(Inputs):
    images: List[Any]
    """PIL RGB image per row."""
    questions: List[str]
    encoded: Optional[Dict[str, torch.Tensor]] = None
    """The processor's output, kept after the first use (an RL step scores the same rows under pi_old and the
    reference)."""

    def select(self, idx: Sequence[int]) -> "HFInputs":
        return HFInputs([self.images[i] for i in idx], [self.questions[i] for i in idx])

    def __len__(self) -> int:
        return len(self.questions)


# ----------------------------------------------------------------------------------------------
# Families: how images are batched and how positions are counted
# ----------------------------------------------------------------------------------------------


class Family:
    """1-D positions (llama-style text models: Idefics3 / SmolVLM): position = index among the row's real tokens."""

    def images_arg(self, images: List[Any]) -> List[Any]:
        return [[im] for im in images]  # one image per sample

    def positions(self, model: nn.Module, enc: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, Any]:
        mask = enc["attention_mask"]  # [B,S]
        return (mask.long().cumsum(-1) - 1).clamp(min=0), None  # [B,S]

    def next_positions(self, mask: torch.Tensor, state: Any) -> torch.Tensor:
        return mask.long().sum(1, keepdim=True) - 1  # [B,1] the new token's index among real tokens


class MRopeFamily(Family):
    """Qwen2-VL / Qwen2.5-VL: 3-D M-RoPE positions from get_rope_index; after the prompt, text positions advance by
    one per token from the per-row offset (rope delta) it returns."""

    def images_arg(self, images: List[Any]) -> List[Any]:
        return list(images)

    def positions(self, model: nn.Module, enc: Dict[str, torch.Tensor]) -> Tuple[torch.Tensor, Any]:
        extra = {k: v for k, v in enc.items() if k in ("image_grid_thw", "video_grid_thw", "second_per_grid_ts")}
        pos, deltas = model.model.get_rope_index(enc["input_ids"], mm_token_type_ids=enc["mm_token_type_ids"],
                                                 attention_mask=enc["attention_mask"], **extra)
        return pos, deltas  # [3,B,S], [B,1]

    def next_positions(self, mask: torch.Tensor, state: Any) -> torch.Tensor:
        text = mask.long().sum(1, keepdim=True) - 1 + state.to(mask.device)  # [B,1]
        return text[None].expand(3, -1, -1)  # [3,B,1]


def family_of(model_type: str) -> Family:
    if model_type in IDEFICS3_TYPES:
        return Family()
    if model_type in QWEN_VL_TYPES:
        return MRopeFamily()
    raise HFStudentError(f"Hugging Face student of model_type {model_type!r} is not supported; supported: "
                         f"{', '.join(IDEFICS3_TYPES + QWEN_VL_TYPES)}")


def load_pretrained(source: str) -> Tuple[nn.Module, Any]:
    """(model, processor) from a local directory or the local Hugging Face cache; never downloads."""
    if not source:
        raise HFStudentError("student.model is empty: name a save_pretrained directory or a cached hub id")
    # offline for the whole process: local_files_only alone still lets transformers look for a peft adapter config
    # on the hub (measured: 24 s of retries against an unreachable host before the "not found" error)
    os.environ["HF_HUB_OFFLINE"] = "1"  # read when huggingface_hub is first imported
    try:
        import huggingface_hub
        from transformers import AutoModelForImageTextToText, AutoProcessor
        huggingface_hub.constants.HF_HUB_OFFLINE = True  # ... and here if it was imported before
    except ImportError as err:
        raise HFStudentError(f"Hugging Face students need transformers and peft ({err}): install the trainer's [hf] "
                             "extra (functions/trainer/requirements-hf.txt; scripts/ensure-hf.sh builds .venv-hf)") from None
    try:
        # local_files_only: never downloads; trust_remote_code stays off: a model directory cannot run code here
        model = AutoModelForImageTextToText.from_pretrained(source, local_files_only=True, dtype=torch.float32)
        processor = AutoProcessor.from_pretrained(source, local_files_only=True)
    except (OSError, ValueError) as err:
        where = "directory" if os.path.isdir(source) else "hub id (looked up in the local Hugging Face cache only)"
        raise HFStudentError(f"cannot load the Hugging Face student {source!r} from its {where}: {err}. The platform "
                             "never downloads weights: put a save_pretrained directory (model + processor) there, "
                             "or pre-fill the cache") from None
    return model, processor


def _module_name(root: nn.Module, target: nn.Module) -> str:
    for name, module in root.named_modules():
        if module is target:
            return name
    raise HFStudentError("the model's language model is not one of its modules")


# ----------------------------------------------------------------------------------------------
# The student
# ----------------------------------------------------------------------------------------------


class HFStudent(Student):
    family = "hf"

    def __init__(self, cfg: TrainConfig, model: nn.Module, processor: Any, device: str, with_reference: bool = True):
        scfg = cfg.student
        if scfg.dtype not in ("auto", "bf16", "fp32"):
            raise HFStudentError(f"student.dtype must be auto, bf16 or fp32, not {scfg.dtype!r}")
        if scfg.disc_backbone not in ("copy", "lora"):
            raise HFStudentError(f"student.disc_backbone must be copy or lora, not {scfg.disc_backbone!r}")
        if scfg.sharding not in ("none", "fsdp"):
            raise HFStudentError(f"student.sharding must be none or fsdp, not {scfg.sharding!r}")
        if scfg.sharding == "fsdp" and scfg.disc_backbone == "lora" and cfg.algorithm == "ril":
            raise HFStudentError("student.sharding fsdp with disc_backbone lora is not supported: the discriminator's "
                                 "adapter would live inside the sharded policy, whose forwards every rank must run "
                                 "together; use disc_backbone copy (sharded like the policy)")
        if scfg.disc_backbone == "lora" and scfg.lora.r <= 0 and cfg.algorithm == "ril":
            raise HFStudentError("student.disc_backbone = lora needs LoRA adapters (student.lora.r > 0): with full "
                                 "fine-tuning the student's backbone is not frozen; use disc_backbone = copy")
        self.scfg, self.device, self.processor = scfg, device, processor
        self.ftype = family_of(model.config.model_type)
        will_shard = scfg.sharding == "fsdp" and distributed.world()[1] > 1
        # sharded: the model stays in host memory until fully_shard moves each rank's shards to its device, block by
        # block, so a model larger than one GPU never lands on one whole
        self.hf = model if will_shard else model.to(device)
        """The transformers model (with LoRA its layers hold the adapters; forwards always call it)."""
        self.lm_name = _module_name(self.hf, self.hf.get_decoder())  # e.g. model.text_model, model.language_model
        gen = getattr(self.hf, "generation_config", None)
        stop = getattr(gen, "eos_token_id", None)
        self.tokenizer = HFTextCodec(processor.tokenizer, [] if stop is None else (stop if isinstance(stop, list) else [stop]))
        text_cfg = self.hf.config.get_text_config()
        self.context = int(getattr(text_cfg, "max_position_embeddings", 0) or 0)
        self.hidden = int(text_cfg.hidden_size)
        self.placeholder_ids = sorted({int(i) for i in (getattr(self.hf.config, k, None) for k in
                                                         ("image_token_id", "video_token_id", "image_token_index"))
                                       if i is not None})
        """Multimodal placeholder ids: never sampled (a response holding one would ask for image features)."""
        if scfg.gradient_checkpointing:
            self.hf.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if scfg.lora.r > 0:
            from peft import get_peft_model
            self.policy: nn.Module = get_peft_model(self.hf, self._lora_config())
        else:
            self.policy = self.hf
        self.trainable = [n for n, p in self.policy.named_parameters() if p.requires_grad]
        """Names (in ``policy``) of the weights the policy trains: the adapters, or every weight."""
        self.reference: Optional[nn.Module] = None
        if with_reference and scfg.lora.r <= 0:
            self.reference = copy.deepcopy(self.hf).eval().requires_grad_(False)
        self._images: "OrderedDict[str, Any]" = OrderedDict()
        """Decoded images, least recently used first (at most IMAGE_CACHE: a dataset's images may not fit in memory)."""
        self._sampling_depth = 0
        """Nesting of sampling() spans: only the outermost gathers."""
        self._disc_lm: Optional[nn.Module] = None
        """Sharded: a whole copy of the language model taken before sharding, for the copy discriminator."""
        if will_shard:
            self._shard(with_discriminator=cfg.algorithm == "ril")

    def _shard(self, with_discriminator: bool) -> None:
        """FSDP over the ranks (sharding.py): the model (adapters inside) and the reference copy, block by block."""
        if with_discriminator:  # D's backbone is copied from the language model, which is whole only now
            self._disc_lm = copy.deepcopy(self.language_model())
        sharding.shard(self.hf)
        if self.reference is not None:
            sharding.shard(self.reference)
        self.sharded = True
        # the sharded parameters, taken now: while a unit is gathered (a root between its forward and the backward)
        # its module lists the whole temporary tensors instead, which neither receive gradients nor persist
        self._policy_params = dict(self.policy.named_parameters())
        self._ref_params = None if self.reference is None else dict(self.reference.named_parameters())
        self._lm_params = dict(self.language_model().named_parameters())  # named as in D's copy of it
        self.gradient_reduction("sum")

    def _policy_named(self) -> Dict[str, nn.Parameter]:
        """The policy's parameters by name (the sharded ones when sharded: see _shard)."""
        return self._policy_params if self.sharded else dict(self.policy.named_parameters())

    def _reference_named(self) -> Dict[str, nn.Parameter]:
        assert self.reference is not None
        return self._ref_params if self.sharded else dict(self.reference.named_parameters())

    def gradient_reduction(self, mode: str) -> None:
        if self.sharded:
            sharding.set_gradient_reduction(self.hf, mode, distributed.world()[1])

    @classmethod
    def load(cls, cfg: TrainConfig, device: str, with_reference: bool = True) -> "HFStudent":
        model, processor = load_pretrained(cfg.student.model)
        return cls(cfg, model, processor, device, with_reference)

    def _lora_config(self) -> Any:
        from peft import LoraConfig
        lc = self.scfg.lora
        names = "|".join(sorted(set(lc.target_modules)))
        # a regex (peft matches it on the full module name): adapters on the language model only, never the vision tower
        target = rf"{self.lm_name.replace('.', '[.]')}[.].*[.]({names})"
        return LoraConfig(r=lc.r, lora_alpha=lc.alpha, lora_dropout=lc.dropout, target_modules=target)

    # --- data ----------------------------------------------------------------------------------

    def dataset(self, data_dir: str, splits: Sequence[str]) -> VQADataset:
        return VQADataset(data_dir, None, splits=splits)  # images: decoded on demand by image()

    def image(self, ds: VQADataset, row: int) -> Any:
        from PIL import Image
        path = os.path.join(ds.root, ds.examples[row].image)
        if path in self._images:
            self._images.move_to_end(path)
        else:
            with Image.open(path) as im:
                self._images[path] = im.convert("RGB")
            if len(self._images) > IMAGE_CACHE:
                self._images.popitem(last=False)
        return self._images[path]

    def inputs(self, ds: VQADataset, rows: Sequence[int]) -> HFInputs:
        return HFInputs([self.image(ds, i) for i in rows], [ds.examples[i].question for i in rows])

    def prompt_text(self, question: str) -> str:
        turn = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
        return self.processor.apply_chat_template(turn, add_generation_prompt=True, tokenize=False)

    def encode(self, inputs: Inputs) -> Dict[str, torch.Tensor]:
        """Processor outputs for the prompts, left-padded: input_ids, attention_mask [B,L] + the family's pixels."""
        assert isinstance(inputs, HFInputs)
        if inputs.encoded is None:
            enc = self.processor(text=[self.prompt_text(q) for q in inputs.questions],
                                 images=self.ftype.images_arg(inputs.images), return_tensors="pt", padding=True,
                                 padding_side="left")
            inputs.encoded = {k: v.to(self.device) for k, v in enc.items()}
        return dict(inputs.encoded)

    def resolve_budget(self, cfg: TrainConfig, ds: VQADataset) -> budget_mod.Budget:
        """budget.resolve for this tokenizer; the check is the longest prompt (image tokens included) + budget
        against the text model's max_position_embeddings."""
        lengths = budget_mod.target_lengths(ds, cfg, self.tokenizer)
        auto = cfg.max_response_tokens <= 0
        tokens = budget_mod.response_budget(lengths, cfg.budget_coverage) if auto else int(cfg.max_response_tokens)
        longest = 0
        if ds.examples:
            # image tokens grow with the image (Qwen2-VL's dynamic resolution, Idefics3's splitting): the largest
            # image (its header is enough) with each of the longest questions
            from PIL import Image
            sizes = {}
            for i, ex in enumerate(ds.examples):
                if ex.image not in sizes:
                    with Image.open(os.path.join(ds.root, ex.image)) as im:
                        sizes[ex.image] = (im.size[0] * im.size[1], i)
            big = max(sizes.values())[1]
            for q in sorted({ex.question for ex in ds.examples}, key=len)[-4:]:  # the longest few by characters
                enc = self.encode(HFInputs([self.image(ds, big)], [q]))
                longest = max(longest, int(enc["input_ids"].shape[1]))
        if self.context and longest + tokens > self.context:
            raise HFStudentError(f"responses do not fit: longest prompt {longest} (image tokens included) + response "
                                 f"budget {tokens} > the model's max_position_embeddings {self.context}; lower "
                                 "max_response_tokens or budget_coverage")
        return budget_mod.Budget(tokens, budget_mod.truncated_frac(lengths, tokens), auto, len(lengths))

    # --- forwards ------------------------------------------------------------------------------

    def autocast(self) -> Any:
        kind = "cuda" if str(self.device).startswith("cuda") else "cpu"
        bf16 = self.scfg.dtype == "bf16" or (self.scfg.dtype == "auto" and kind == "cuda"
                                               and torch.cuda.is_available() and torch.cuda.is_bf16_supported())
        return torch.autocast(kind, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    def _forward(self, model: nn.Module, enc: Dict[str, torch.Tensor], position_ids: torch.Tensor, **kw: Any) -> Any:
        with self.autocast():
            return model(**enc, position_ids=position_ids, **kw)

    @contextlib.contextmanager
    def sampling(self) -> Iterator[None]:
        outermost = self.sharded and not self._sampling_depth  # an enclosing span has gathered the weights already
        self._sampling_depth += 1
        try:
            with sharding.gathered(self.hf) if outermost else contextlib.nullcontext():
                yield
        finally:
            self._sampling_depth -= 1

    def generate(self, inputs: Inputs, cfg: SamplingConfig, generator: Optional[torch.Generator] = None) -> Generation:
        """Sample (or greedy-decode) one response per row with the KV cache; see the module docstring. Sharded: every
        rank calls it together (the weights are gathered once; each rank's rows may stop at other lengths), unless
        inside ``sampling()``, where the weights are gathered already and each rank calls it as often as it needs."""
        with self.sampling():
            return self._generate(inputs, cfg, generator)

    @torch.no_grad()
    def _generate(self, inputs: Inputs, cfg: SamplingConfig, generator: Optional[torch.Generator] = None) -> Generation:
        if not cfg.use_cache:
            raise HFStudentError("hf students always decode with the KV cache (use_cache=False is not supported)")
        was_training = self.policy.training
        self.policy.eval()
        enc = self.encode(inputs)
        ids, mask = enc["input_ids"], enc["attention_mask"]  # [B,L]
        B, L = ids.shape
        steps = cfg.max_new_tokens if not self.context else min(cfg.max_new_tokens, self.context - L)
        if steps <= 0:
            raise HFStudentError(f"prompt too long: {L} tokens, max_position_embeddings {self.context}")
        banned = torch.tensor(self.placeholder_ids, dtype=torch.long, device=self.device)
        pos, state = self.ftype.positions(self.hf, enc)
        out = self._forward(self.hf, enc, pos, use_cache=True, logits_to_keep=1)  # the prompt's last logits only
        cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
        raw = out.logits[:, -1].float()  # [B,V] (left padding: the last position is real in every row)
        V = raw.shape[-1]
        is_text = torch.ones(V, dtype=torch.bool, device=self.device)  # the penalty spares special tokens
        specials = [i for i in self.tokenizer.tk.all_special_ids if i < V]
        is_text[specials] = False
        seen = torch.zeros(B, V, dtype=torch.bool, device=self.device)  # [B,V]
        seen.scatter_(1, ids, is_text[ids] & mask.bool())
        stop = torch.tensor(self.tokenizer.stop_ids, device=self.device)
        out_ids = torch.zeros(B, steps, dtype=torch.long, device=self.device)
        out_lp = torch.zeros(B, steps, device=self.device)
        done = torch.zeros(B, dtype=torch.bool, device=self.device)
        lengths = torch.full((B,), steps, dtype=torch.long, device=self.device)
        for t in range(steps):
            nxt = choose_tokens(raw.index_fill(1, banned, float("-inf")), seen, cfg, generator)  # [B]
            out_ids[:, t] = nxt
            out_lp[:, t] = F.log_softmax(raw, dim=-1).gather(1, nxt[:, None]).squeeze(1)  # the raw model's
            newly = torch.isin(nxt, stop) & ~done
            lengths = torch.where(newly, torch.full_like(lengths, t + 1), lengths)
            done = done | newly
            if bool(done.all()) or t == steps - 1:
                break
            seen.scatter_(1, nxt[:, None], is_text[nxt][:, None])
            mask = torch.cat([mask, torch.ones(B, 1, dtype=mask.dtype, device=self.device)], dim=1)  # [B,L+t+1]
            step_pos = self.ftype.next_positions(mask, state)
            out = self._forward(self.hf, {"input_ids": nxt[:, None], "attention_mask": mask}, step_pos,
                                cache=cache, use_cache=True)
            cache = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
            raw = out.logits[:, -1].float()
        if was_training:
            self.policy.train()
        ids_l, lp_l, n_l = out_ids.tolist(), out_lp.tolist(), lengths.tolist()
        return Generation(tokens=[ids_l[b][:n_l[b]] for b in range(B)], logprobs=[lp_l[b][:n_l[b]] for b in range(B)])

    def _logprobs(self, model: nn.Module, inputs: Inputs,
                  responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
        enc = self.encode(inputs)
        r_ids, r_mask = pad_responses(responses, self.tokenizer.pad_id)  # right-padded [B,R]
        r_ids, r_mask = r_ids.to(self.device), r_mask.to(self.device)
        B, L = enc["input_ids"].shape
        R = r_ids.shape[1]
        full = dict(enc)
        for k, v in enc.items():  # every per-token input grows by the response: ids, mask, token types (0 = text)
            if k in ("input_ids", "attention_mask", "mm_token_type_ids", "token_type_ids"):
                tail = r_ids if k == "input_ids" else (r_mask if k == "attention_mask" else torch.zeros_like(r_ids))
                full[k] = torch.cat([v, tail.to(v.dtype)], dim=1)  # [B,L+R]
        if self.context and L + R > self.context:
            raise HFStudentError(f"sequence of {L + R} tokens exceeds max_position_embeddings {self.context}")
        pos, _ = self.ftype.positions(self.hf, full)
        logits = self._forward(model, full, pos, use_cache=False, logits_to_keep=R + 1).logits  # [B,R+1,V]
        # the token at position L+j is predicted by the logits at L+j-1: the first R of the kept R+1
        lp = F.log_softmax(logits[:, :R].float(), dim=-1).gather(2, r_ids[:, :, None]).squeeze(2)  # [B,R]
        return lp * r_mask, r_mask

    def response_logprobs(self, inputs: Inputs, responses: Sequence[Sequence[int]]) -> Tuple[torch.Tensor, torch.Tensor]:
        return self._logprobs(self.hf, inputs, responses)

    @torch.no_grad()
    def score_responses(self, inputs: Inputs, responses: Sequence[Sequence[int]],
                        reference: bool = False) -> Tuple[torch.Tensor, torch.Tensor]:
        was_training = self.policy.training
        self.policy.eval()
        try:
            if not reference:
                return self._logprobs(self.hf, inputs, responses)
            if self.reference is not None:
                try:
                    return self._logprobs(self.reference, inputs, responses)
                finally:  # no backward follows: free the sharded reference's gathered root (sharding.reshard)
                    if self.sharded:
                        sharding.reshard(self.reference)
            if self.scfg.lora.r <= 0:
                raise HFStudentError("this student was built without a reference")
            try:
                with self.policy.disable_adapter():  # the reference: the same weights, adapters off
                    return self._logprobs(self.hf, inputs, responses)
            finally:
                self.restore_trainable()  # peft's switch back re-derives requires_grad from the active adapter
        finally:
            if was_training:
                self.policy.train()

    # --- optimisation and weights ----------------------------------------------------------------

    def named_trainable(self) -> List[Tuple[str, nn.Parameter]]:
        params = self._policy_named()
        return [(n, params[n]) for n in self.trainable]

    def restore_trainable(self) -> None:
        """requires_grad as training needs it: the policy's trainable weights and the discriminator's adapter (if any)
        on, every other weight off. peft's adapter switches (set_adapter, disable_adapter) reset these flags to
        "active adapter only"; a parameter whose flag is off when backward runs receives no gradient."""
        on = set(self.trainable)
        for n, p in self._policy_named().items():
            p.requires_grad_(n in on or f".{DISC_ADAPTER}." in n)

    def trainable_parameters(self) -> List[nn.Parameter]:
        return [p for _, p in self.named_trainable()]

    def make_optimizer(self, cfg: TrainConfig) -> torch.optim.Optimizer:
        return adamw(self.named_trainable(), cfg)

    def weights(self) -> Dict[str, torch.Tensor]:
        return {n: sharding.to_host(p) for n, p in self.named_trainable()}

    def load_weights(self, weights: Dict[str, torch.Tensor]) -> None:
        mine = dict(self.named_trainable())
        if set(weights) != set(mine):
            missing, unknown = sorted(set(mine) - set(weights)), sorted(set(weights) - set(mine))
            raise HFStudentError(f"the weights do not match this student (lora.r {self.scfg.lora.r}): missing "
                                 f"{missing[:3]}, unexpected {unknown[:3]}")
        with torch.no_grad():
            for n, p in mine.items():
                p.copy_(sharding.like(p, weights[n].to(p.device, p.dtype)))

    def reset_reference(self) -> None:
        if self.reference is None:
            return
        if self.sharded:  # shard by shard (both are laid out alike); the buffers never train
            with torch.no_grad():
                for n, p in self._ref_params.items():
                    p.copy_(self._policy_params[n])
        else:
            self.reference.load_state_dict(self.hf.state_dict())

    def reference_weights(self) -> Optional[Dict[str, torch.Tensor]]:
        if self.reference is None:
            return None
        names = set(self.trainable)
        return {n: sharding.to_host(p) for n, p in self._reference_named().items() if n in names}

    def load_reference_weights(self, weights: Dict[str, torch.Tensor]) -> None:
        params = self._reference_named()
        with torch.no_grad():
            for n, v in weights.items():
                params[n].copy_(sharding.like(params[n], v.to(params[n].device, params[n].dtype)))

    def optimizer_state(self, optimizer: torch.optim.Optimizer) -> Dict[str, Any]:
        return sharding.optimizer_state(optimizer) if self.sharded else optimizer.state_dict()

    def load_optimizer_state(self, optimizer: torch.optim.Optimizer, state: Dict[str, Any]) -> None:
        if self.sharded:
            sharding.load_optimizer_state(optimizer, state)
        else:
            optimizer.load_state_dict(state)

    def checkpoint_header(self) -> Dict[str, Any]:
        return {"student": {"family": "hf", "model": self.scfg.model, "model_type": self.hf.config.model_type,
                            "lora": to_dict(self.scfg.lora)}}

    def num_parameters(self) -> Dict[str, int]:
        return {"total": sum(p.numel() for p in self.hf.parameters()),
                "trainable": sum(p.numel() for p in self.trainable_parameters())}

    def describe(self) -> Dict[str, Any]:
        return {"family": "hf", "model": self.scfg.model, "model_type": self.hf.config.model_type,
                "hidden_size": self.hidden, "max_position_embeddings": self.context, "lora": to_dict(self.scfg.lora),
                "dtype": self.scfg.dtype, "gradient_checkpointing": self.scfg.gradient_checkpointing}

    # --- the discriminator ---------------------------------------------------------------------

    def language_model(self) -> nn.Module:
        return self.hf.get_submodule(self.lm_name)

    def make_discriminator(self, with_question: bool) -> nn.Module:
        if self.scfg.disc_backbone == "lora":
            return LoraDiscriminator(self, with_question)
        if not self.sharded:
            backbone = copy.deepcopy(self.language_model()).requires_grad_(True)
            return CopyDiscriminator(backbone, self, with_question).to(self.device)
        # sharded: the whole copy taken before sharding (in host memory), holding the language model's weights as
        # they are now, then sharded as the policy is (block by block, the head with the root): each rank holds 1/N
        # of D's weights, gradients and AdamW moments
        if self._disc_lm is None:
            raise HFStudentError("a sharded student builds its copy discriminator once")
        backbone, self._disc_lm = self._disc_lm, None
        with torch.no_grad():
            for n, p in backbone.named_parameters():  # the same order on every rank (full() is a collective)
                p.copy_(sharding.full(self._lm_params[n]))
        disc = CopyDiscriminator(backbone.requires_grad_(True), self, with_question)
        sharding.shard(disc.lm)  # two roots, each called as a module (D's logits() is not its forward)
        sharding.shard(disc.head, blocks=())
        sharding.set_gradient_reduction(disc, "sum", distributed.world()[1])
        return disc


class _DiscriminatorBase(nn.Module):
    """Scalar head on the last non-pad token's final hidden state (discriminator.py's contract)."""

    def __init__(self, student: HFStudent, with_question: bool):
        super().__init__()
        self.with_question = with_question
        self.head = nn.Linear(student.hidden, 1)
        nn.init.normal_(self.head.weight, 0.0, 0.02)
        nn.init.zeros_(self.head.bias)
        self._codec = student.tokenizer
        self._autocast = student.autocast

    def input_ids(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> List[List[int]]:
        start = [] if self._codec.bos_id is None else [int(self._codec.bos_id)]
        if self.with_question:
            return [start + self._codec.encode(q) + list(r) for q, r in zip(questions, responses)]
        return [start + list(r) for r in responses]

    def backbone_forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def logits(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> torch.Tensor:
        """Logit of P(student) per response, [B]."""
        device = self.head.weight.device
        ids, mask = pad_responses(self.input_ids(questions, responses), self._codec.pad_id)  # right-padded [B,T]
        ids, mask = ids.to(device), mask.to(device)
        with self._autocast():
            h = self.backbone_forward(ids, mask)  # [B,T,D]
        last = mask.sum(1) - 1  # [B] index of the last real token
        h_last = h[torch.arange(h.shape[0], device=device), last].float()  # [B,D]
        return self.head(h_last).squeeze(-1)  # [B]

    def forward(self, questions: Sequence[str], responses: Sequence[Sequence[int]]) -> torch.Tensor:
        return torch.sigmoid(self.logits(questions, responses))


class CopyDiscriminator(_DiscriminatorBase):
    """disc_backbone "copy": its own copy of the student's language model."""

    def __init__(self, backbone: nn.Module, student: HFStudent, with_question: bool):
        super().__init__(student, with_question)
        self.lm = backbone

    def backbone_forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.lm(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state


class LoraDiscriminator(_DiscriminatorBase):
    """disc_backbone "lora": the student's frozen language model with a separate LoRA adapter ("disc") + the head.

    The adapter lives in the student's peft model next to the policy's ("default"); a forward of D switches to it
    and back, so the policy never sees it and D never sees the policy's adapter. Only the adapter and the head are
    this module's parameters (what its optimizer, clipping and state_dict see)."""

    def __init__(self, student: HFStudent, with_question: bool):
        super().__init__(student, with_question)
        peft_model = student.policy
        if DISC_ADAPTER not in peft_model.peft_config:
            peft_model.add_adapter(DISC_ADAPTER, student._lora_config())
        peft_model.set_adapter("default")  # add_adapter leaves the policy's adapter active; keep it explicit
        self._student = [student]  # a list: not a submodule (the policy's weights are not D's parameters)
        self._adapter = [(n, p) for n, p in peft_model.named_parameters() if f".{DISC_ADAPTER}." in n]
        student.restore_trainable()

    def _own(self) -> List[Tuple[str, nn.Parameter]]:
        return [("adapter." + n, p) for n, p in self._adapter] + [("head." + n, p) for n, p in self.head.named_parameters()]

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]:  # type: ignore[override]
        return iter([p for _, p in self._own()])

    def named_parameters(self, *args: Any, **kw: Any) -> Iterator[Tuple[str, nn.Parameter]]:  # type: ignore[override]
        return iter(self._own())

    def state_dict(self, *args: Any, **kw: Any) -> Dict[str, torch.Tensor]:  # type: ignore[override]
        return {n: p.detach().clone() for n, p in self._own()}

    def load_state_dict(self, state: Dict[str, torch.Tensor], strict: bool = True) -> Any:  # type: ignore[override]
        own = dict(self._own())
        if set(state) != set(own):
            raise HFStudentError("discriminator state does not match its adapter")
        with torch.no_grad():
            for n, p in own.items():
                p.copy_(state[n].to(p.device, p.dtype))

    def backbone_forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        student = self._student[0]
        peft_model = student.policy
        peft_model.base_model.set_adapter(DISC_ADAPTER)  # D's adapter alone (peft flips requires_grad: restored below)
        student.restore_trainable()  # before the forward: the graph must reach D's adapter
        try:
            return student.language_model()(input_ids=ids, attention_mask=mask, use_cache=False).last_hidden_state
        finally:
            peft_model.base_model.set_adapter("default")
            student.restore_trainable()
