"""ONNX bundle of a Hugging Face student, in the layout transformers.js runs (docs/hf-bundles.md).

The bundle is the model's save_pretrained configuration (config, generation config, processor, tokenizer, chat
template) plus three graphs under onnx/, named and shaped as @huggingface/transformers expects for
image-text-to-text models, so the endpoint (onnxruntime-node) and the browser (onnxruntime-web) run the same files
through one maintained library:

  vision_encoder        pixels -> image_features (the vectors the model scatters into its image-token slots)
  embed_tokens          input_ids -> inputs_embeds
  decoder_model_merged  inputs_embeds, attention_mask, position_ids, past_key_values.{i}.key/value
                        -> logits, present.{i}.key/value (one graph for the prefill, past length 0, and each step)

Variants (manifest "variants", each a per-graph transformers.js dtype): fp32; int8 = onnxruntime dynamic
quantization of the text graphs (uint8 weights, "q8", files *_quantized.onnx), the vision encoder kept fp32 (its
convolution quantizes badly and is a small share of the time); q4 = 4-bit block-quantized MatMul weights of the
decoder (MatMulNBits, "q4") with the embeddings in int8; fp16 = every graph in float16 (for WebGPU; it also loads in
onnxruntime's CPU provider, and the manifest's per-variant "cpu" says whether each variant did at export time).

Parity (verify_parity, the CLI's --verify-data): PyTorch's greedy decoding vs OrtBundle's, which runs a bundle's graphs
the way transformers.js does (Qwen2-VL's M-RoPE positions by mrope_positions), per variant, into manifest["parity"].

Graphs are traced (the TorchScript exporter, as export.py and for the same reasons) from a model whose LoRA
adapters were merged into its weights. Where the model's own code would freeze a size into the trace (Idefics3's
padding-image filter, Qwen2-VL's per-image loops over the grid), the wrappers below compute the same thing with
tensor arithmetic for one image per request, so every graph takes any image size, prompt length and past length.
"""
from __future__ import annotations

import contextlib
import json
import os
import types
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from . import checkpoint as ckpt
from .export import _onnx_export, sha256_file

FORMAT_VERSION = 3
MODEL_FAMILY = "hf-image-text-to-text"
OPSET = 17

# transformers.js's file suffix of each dtype (utils/dtypes.js)
SUFFIX = {"fp32": "", "q8": "_quantized", "q4": "_q4", "fp16": "_fp16"}
GRAPHS = ("vision_encoder", "embed_tokens", "decoder_model_merged")


class ExportError(ValueError):
    """The student cannot be exported (a clear message for the CLI)."""


# ----------------------------------------------------------------------------------------------
# The trained model
# ----------------------------------------------------------------------------------------------


def trained_model(checkpoint_path: str) -> Tuple[nn.Module, Any, Dict[str, Any]]:
    """(model with the trained weights, LoRA merged; its processor; the checkpoint payload) of an hf checkpoint."""
    from .students.load import hf_student
    payload = ckpt.load(checkpoint_path)
    if ckpt.student_family(payload) != "hf":
        raise ExportError(f"{checkpoint_path} holds a built-in student: export it without --family hf")
    student = hf_student(payload, "cpu")  # eval and predict load it the same way (students/load.py)
    model = student.policy.merge_and_unload() if student.scfg.lora.r > 0 else student.hf  # type: ignore[attr-defined]
    return model.float().eval(), student.processor, payload


# ----------------------------------------------------------------------------------------------
# Graph wrappers
# ----------------------------------------------------------------------------------------------


def _cache_class():
    from transformers import DynamicCache
    return DynamicCache


class EmbedTokens(nn.Module):
    def __init__(self, model: nn.Module):
        super().__init__()
        self.embed = model.get_input_embeddings()

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed(input_ids)


class Idefics3Vision(nn.Module):
    """pixel_values [B, N, 3, H, W] + pixel_attention_mask [B, N, H, W] -> image_features [B*N, seq, hidden].

    get_image_features without its removal of all-zero padding images (an in-place boolean op the exporter cannot
    write, and data-dependent indexing): the processor pads only a batch of several prompts to a common image count,
    and a served request is one prompt, so every image it sends is real."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.vision = model.model.vision_model
        self.connector = model.model.connector
        self.patch = int(model.config.vision_config.patch_size)

    def forward(self, pixel_values: torch.Tensor, pixel_attention_mask: torch.Tensor) -> torch.Tensor:
        embeddings = self.vision.embeddings
        if not getattr(embeddings, "_ril_traceable", False):
            embeddings.forward = types.MethodType(_idefics3_embeddings_forward, embeddings)
            embeddings._ril_traceable = True
        b, n, c, h, w = pixel_values.shape
        pixels = pixel_values.reshape(b * n, c, h, w)
        mask = pixel_attention_mask.reshape(b * n, h, w)
        # unfold(patch) twice, as get_image_features does, written as a reshape (the exporter cannot unfold a
        # tensor of unknown size): a patch is real when any of its pixels is
        p = self.patch
        patch_mask = mask.reshape(b * n, h // p, p, w // p, p).sum(dim=(2, 4)) > 0
        hidden = self.vision(pixel_values=pixels, patch_attention_mask=patch_mask).last_hidden_state
        return self.connector(hidden)


def _idefics3_embeddings_forward(self: nn.Module, pixel_values: torch.Tensor, patch_attention_mask: torch.Tensor) -> torch.Tensor:
    """SmolVLMVisionEmbeddings.forward (transformers 5.24) with its position ids kept int64: the exporter types
    bucketize's output float, and onnxruntime refuses a float index into the position embedding. Same arithmetic."""
    batch_size, _, max_h, max_w = pixel_values.shape
    embeddings = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
    side = self.num_patches_per_side
    boundaries = torch.arange(1 / side, 1.0, 1 / side, device=pixel_values.device)
    nb_h = patch_attention_mask[:, :, 0].sum(dim=1)
    nb_w = patch_attention_mask[:, 0, :].sum(dim=1)
    h_idx = torch.arange(patch_attention_mask.size(1), device=pixel_values.device, dtype=torch.float32)
    w_idx = torch.arange(patch_attention_mask.size(2), device=pixel_values.device, dtype=torch.float32)
    frac_h = torch.clamp(h_idx[None, :] * (1.0 / nb_h)[:, None], max=(1.0 - 1e-6))
    frac_w = torch.clamp(w_idx[None, :] * (1.0 / nb_w)[:, None], max=(1.0 - 1e-6))
    bucket_h = torch.bucketize(frac_h, boundaries, right=True).long()
    bucket_w = torch.bucketize(frac_w, boundaries, right=True).long()
    pos_ids = (bucket_h[:, :, None] * side + bucket_w[:, None, :]).reshape(batch_size, -1)
    position_ids = torch.where(patch_attention_mask.reshape(batch_size, -1), pos_ids, torch.zeros_like(pos_ids))
    return embeddings + self.position_embedding(position_ids)


class QwenVision(nn.Module):
    """pixel_values [patches, C*T*P*P] + grid_thw [1, 3] -> image_features [tokens, hidden] (after the merger).

    Qwen2-VL's vision tower builds its rotary positions and its attention chunks with Python loops over
    grid_thw.tolist(), which a trace would freeze at the traced image's grid. For one image (what a request sends;
    an image's t is 1) both are written here as tensor arithmetic on grid_thw: the positions by index arithmetic
    (the same block-major order over merge x merge blocks as vision_utils.get_vision_position_ids), the
    attention as one chunk over every patch (cu_seqlens [0, N]), so the graph takes any image size."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.visual = model.model.visual
        self.merge = int(self.visual.spatial_merge_size)

    def forward(self, pixel_values: torch.Tensor, grid_thw: torch.Tensor) -> torch.Tensor:
        m = self.merge
        i = torch.arange(pixel_values.shape[0], device=pixel_values.device)
        h, w = grid_thw[0, 1], grid_thw[0, 2]
        block = i // (m * m)
        hpos = ((block // (w // m)) % (h // m)) * m + (i // m) % m
        wpos = (block % (w // m)) * m + i % m
        position_ids = torch.stack([hpos, wpos], dim=-1)
        cu_seqlens = torch.stack([torch.zeros_like(h), grid_thw[0, 0] * h * w]).to(torch.int32)
        with _one_chunk_attention(self.visual):
            out = self.visual(pixel_values, grid_thw=grid_thw, position_ids=position_ids, cu_seqlens=cu_seqlens)
        return out.pooler_output if hasattr(out, "pooler_output") else out


@contextlib.contextmanager
def _one_chunk_attention(visual: nn.Module):
    """Each vision block's attention over all patches at once (no split by cu_seqlens.tolist(), which a trace
    would freeze); restored afterwards."""
    attns = [blk.attn for blk in visual.blocks]
    for a in attns:
        a.forward = types.MethodType(_vision_attention_one_chunk, a)
    try:
        yield
    finally:
        for a in attns:
            del a.forward  # back to the class's method


def _vision_attention_one_chunk(self: nn.Module, hidden_states: torch.Tensor, cu_seqlens: torch.Tensor,
                                position_embeddings: Any = None, max_seqlen: Any = None, **kwargs: Any) -> torch.Tensor:
    """VisionAttention.forward (Qwen2-VL, transformers 5.24) for a single chunk, with eager attention."""
    from transformers.models.qwen2_vl.modeling_qwen2_vl import apply_rotary_pos_emb_vision, eager_attention_forward
    n = hidden_states.shape[0]
    q, k, v = self.qkv(hidden_states).reshape(n, 3, self.num_heads, -1).permute(1, 0, 2, 3).unbind(0)
    cos, sin = position_embeddings
    q, k = apply_rotary_pos_emb_vision(q, k, cos, sin)
    q, k, v = (x.transpose(0, 1).unsqueeze(0) for x in (q, k, v))
    out = eager_attention_forward(self, q, k, v, attention_mask=None, scaling=self.scaling, dropout=0.0)[0]
    return self.proj(out.reshape(n, -1).contiguous())


class MergedDecoder(nn.Module):
    """The language model + head over inputs_embeds with a flat KV cache in and out."""

    def __init__(self, model: nn.Module, n_layers: int):
        super().__init__()
        self.lm = model.get_decoder()
        self.head = model.get_output_embeddings()
        self.n_layers = n_layers
        self.text_config = model.config.get_text_config()

    def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor,
                *past: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        cache = _cache_class()(config=self.text_config)
        for i in range(self.n_layers):
            cache.update(past[2 * i], past[2 * i + 1], i)
        out = self.lm(inputs_embeds=inputs_embeds, attention_mask=attention_mask, position_ids=position_ids,
                      past_key_values=cache, use_cache=True)
        logits = self.head(out.last_hidden_state)
        kv = out.past_key_values
        presents: List[torch.Tensor] = []
        for i in range(self.n_layers):
            layer = kv.layers[i]
            presents += [layer.keys, layer.values]
        return (logits, *presents)


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------


def _kind(model_type: str) -> str:
    from .students.hf import IDEFICS3_TYPES, QWEN_VL_TYPES
    if model_type in IDEFICS3_TYPES:
        return "idefics3"
    if model_type in ("qwen2_vl",):
        return "qwen2_vl"
    if model_type in QWEN_VL_TYPES:
        raise ExportError(f"export of model_type {model_type!r} is not supported yet (transformers.js runs qwen2_vl; "
                          "Qwen2.5-VL's windowed vision attention is not in this export)")
    raise ExportError(f"export of model_type {model_type!r} is not supported")


def sample_inputs(processor: Any, kind: str, image: Any, question: str = "What is shown?") -> Dict[str, torch.Tensor]:
    """The processor's tensors for one image + question through the chat template (what the graphs are traced on)."""
    turn = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": question}]}]
    text = processor.apply_chat_template(turn, add_generation_prompt=True, tokenize=False)
    images = [[image]] if kind == "idefics3" else [image]
    return dict(processor(text=[text], images=images, return_tensors="pt"))


def export_hf_bundle(model: nn.Module, processor: Any, out_dir: str, image: Any, *, source: Optional[Dict[str, Any]] = None,
                     base_model: str = "", lora_merged: bool = False, variants: Sequence[str] = ("fp32", "int8", "q4", "fp16"),
                     opset: int = OPSET) -> Dict[str, Any]:
    """Writes the bundle directory; returns the manifest. ``image``: a PIL image of the size the student was trained on
    (the graphs are traced on it; for Qwen2-VL its grid is the one the vision graph holds)."""
    import transformers
    model_type = model.config.model_type
    kind = _kind(model_type)
    os.makedirs(os.path.join(out_dir, "onnx"), exist_ok=True)
    # the configuration files transformers.js reads, exactly as transformers writes them
    model.config.save_pretrained(out_dir)
    if getattr(model, "generation_config", None) is not None:
        model.generation_config.save_pretrained(out_dir)
    processor.save_pretrained(out_dir)
    _js_compat(out_dir)

    text_cfg = model.config.get_text_config()
    n_layers = int(text_cfg.num_hidden_layers)
    inputs = sample_inputs(processor, kind, image)
    onnx_dir = os.path.join(out_dir, "onnx")

    # vision encoder
    vision_meta: Dict[str, Any] = {}
    if kind == "idefics3":
        pv, pam = inputs["pixel_values"], inputs["pixel_attention_mask"].bool()
        _onnx_export(Idefics3Vision(model), (pv, pam), os.path.join(onnx_dir, "vision_encoder.onnx"),
                     ["pixel_values", "pixel_attention_mask"], ["image_features"],
                     {"pixel_values": {0: "batch_size", 1: "num_images", 3: "height", 4: "width"},
                      "pixel_attention_mask": {0: "batch_size", 1: "num_images", 2: "height", 3: "width"},
                      "image_features": {0: "num_images"}}, opset)
        with torch.no_grad():
            features = Idefics3Vision(model)(pv, pam)
    else:
        pv, grid = inputs["pixel_values"], inputs["image_grid_thw"]
        _onnx_export(QwenVision(model), (pv, grid), os.path.join(onnx_dir, "vision_encoder.onnx"),
                     ["pixel_values", "grid_thw"], ["image_features"],
                     {"pixel_values": {0: "num_patches"}, "image_features": {0: "num_image_tokens"}}, opset)
        with torch.no_grad():
            features = QwenVision(model)(pv, grid)

    # token embeddings
    ids = inputs["input_ids"]
    _onnx_export(EmbedTokens(model), (ids,), os.path.join(onnx_dir, "embed_tokens.onnx"), ["input_ids"], ["inputs_embeds"],
                 {"input_ids": {0: "batch_size", 1: "sequence_length"}, "inputs_embeds": {0: "batch_size", 1: "sequence_length"}},
                 opset)

    # merged decoder: traced with a non-empty past and two new tokens, so neither length is specialised
    heads = int(getattr(text_cfg, "num_key_value_heads", None) or text_cfg.num_attention_heads)
    head_dim = int(getattr(text_cfg, "head_dim", None) or text_cfg.hidden_size // text_cfg.num_attention_heads)
    past_len, new = 3, 2
    embeds = torch.randn(1, new, int(text_cfg.hidden_size))
    mask = torch.ones(1, past_len + new, dtype=torch.long)
    pos = torch.arange(past_len, past_len + new).unsqueeze(0)
    if kind == "qwen2_vl":
        pos = pos.unsqueeze(0).expand(3, 1, new).contiguous()
    past = [torch.randn(1, heads, past_len, head_dim) for _ in range(2 * n_layers)]
    past_names = [f"past_key_values.{i}.{w}" for i in range(n_layers) for w in ("key", "value")]
    present_names = [f"present.{i}.{w}" for i in range(n_layers) for w in ("key", "value")]
    axes: Dict[str, Dict[int, str]] = {
        "inputs_embeds": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": ({1: "batch_size", 2: "sequence_length"} if kind == "qwen2_vl" else {0: "batch_size", 1: "sequence_length"}),
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for n in past_names:
        axes[n] = {0: "batch_size", 2: "past_sequence_length"}
    for n in present_names:
        axes[n] = {0: "batch_size", 2: "total_sequence_length"}
    decoder = MergedDecoder(model, n_layers).eval()
    _onnx_export(decoder, (embeds, mask, pos, *past), os.path.join(onnx_dir, "decoder_model_merged.onnx"),
                 ["inputs_embeds", "attention_mask", "position_ids", *past_names], ["logits", *present_names], axes, opset)

    manifest_variants = _write_variants(onnx_dir, variants)
    gen = getattr(model, "generation_config", None)
    eos = getattr(gen, "eos_token_id", None) if gen is not None else None
    eos_ids = [] if eos is None else (list(eos) if isinstance(eos, (list, tuple)) else [eos])
    files = sorted(os.path.relpath(os.path.join(d, f), out_dir).replace(os.sep, "/")
                   for d, _, fs in os.walk(out_dir) for f in fs if f != "manifest.json")
    manifest: Dict[str, Any] = {
        "format": "ril-student-bundle",
        "format_version": FORMAT_VERSION,
        "model_family": MODEL_FAMILY,
        "hf": {"model_type": model_type, "architecture": type(model).__name__, "base_model": base_model,
               "transformers_version": transformers.__version__, "lora_merged": lora_merged,
               "image_features": list(features.shape)},
        "vision": vision_meta,
        "variants": manifest_variants,
        "default_variant": "fp32",
        "generation": {"eos_token_ids": [int(e) for e in eos_ids],
                       "pad_token_id": getattr(gen, "pad_token_id", None) if gen is not None else None,
                       "max_position_embeddings": int(getattr(text_cfg, "max_position_embeddings", 0) or 0)},
        "files": {f: {"sha256": sha256_file(os.path.join(out_dir, f)), "bytes": os.path.getsize(os.path.join(out_dir, f))}
                  for f in files},
        "source": source or {},
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=2)
    return manifest


def _js_compat(out_dir: str) -> None:
    """What transformers.js reads where transformers 5 no longer writes it: the image processor's own
    preprocessor_config.json (transformers 5 nests it in processor_config.json; transformers.js's AutoProcessor
    starts from this file and its processor_class), and the chat template inside tokenizer_config.json (where
    transformers 4 kept it; transformers 5 writes chat_template.jinja, which transformers.js reads for only some
    processors). Both copies come from the files save_pretrained wrote, so they cannot disagree."""
    proc_path = os.path.join(out_dir, "processor_config.json")
    pre_path = os.path.join(out_dir, "preprocessor_config.json")
    if os.path.exists(proc_path):
        with open(proc_path) as fh:
            proc = json.load(fh)
        if isinstance(proc.get("image_processor"), dict):
            with open(pre_path, "w") as fh:
                json.dump({**proc["image_processor"], "processor_class": proc.get("processor_class")}, fh, indent=2)
    config_path = os.path.join(out_dir, "config.json")
    with open(config_path) as fh:
        config = json.load(fh)
    if config.get("model_type") == "qwen2_vl" and isinstance(config.get("text_config"), dict):
        # transformers.js reads Qwen2-VL's text fields (layers, heads) at the top level, as transformers 4 wrote them
        config = {**{k: v for k, v in config["text_config"].items() if k not in ("model_type", "architectures")}, **config}
        with open(config_path, "w") as fh:
            json.dump(config, fh, indent=2)
    template_path = os.path.join(out_dir, "chat_template.jinja")
    tok_path = os.path.join(out_dir, "tokenizer_config.json")
    if os.path.exists(template_path) and os.path.exists(tok_path):
        with open(tok_path) as fh:
            tok_cfg = json.load(fh)
        with open(template_path) as fh:
            tok_cfg["chat_template"] = fh.read()
        with open(tok_path, "w") as fh:
            json.dump(tok_cfg, fh, indent=2)


def _graph(onnx_dir: str, name: str, dtype: str) -> str:
    return os.path.join(onnx_dir, f"{name}{SUFFIX[dtype]}.onnx")


def _write_variants(onnx_dir: str, wanted: Sequence[str]) -> Dict[str, Any]:
    """Quantized / half copies of the fp32 graphs; each variant that was made and loads in onnxruntime here."""
    fp32 = {g: "fp32" for g in GRAPHS}
    out: Dict[str, Any] = {"fp32": {"sessions": fp32, "cpu": _loads_on_cpu([_graph(onnx_dir, g, "fp32") for g in GRAPHS])}}
    for v in wanted:
        if v == "fp32":
            continue
        if v == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic
            for g in ("embed_tokens", "decoder_model_merged"):
                quantize_dynamic(_graph(onnx_dir, g, "fp32"), _graph(onnx_dir, g, "q8"), weight_type=QuantType.QUInt8)
            sessions = {"vision_encoder": "fp32", "embed_tokens": "q8", "decoder_model_merged": "q8"}
        elif v == "q4":
            import onnx
            from onnxruntime.quantization.matmul_nbits_quantizer import MatMulNBitsQuantizer
            q = MatMulNBitsQuantizer(onnx.load(_graph(onnx_dir, "decoder_model_merged", "fp32")), block_size=32,
                                     is_symmetric=True)
            q.process()
            q.model.save_model_to_file(_graph(onnx_dir, "decoder_model_merged", "q4"), False)
            if not os.path.exists(_graph(onnx_dir, "embed_tokens", "q8")):
                from onnxruntime.quantization import QuantType, quantize_dynamic
                quantize_dynamic(_graph(onnx_dir, "embed_tokens", "fp32"), _graph(onnx_dir, "embed_tokens", "q8"),
                                 weight_type=QuantType.QUInt8)
            sessions = {"vision_encoder": "fp32", "embed_tokens": "q8", "decoder_model_merged": "q4"}
        elif v == "fp16":
            import onnx
            for g in GRAPHS:
                onnx.save(_to_fp16(_graph(onnx_dir, g, "fp32")), _graph(onnx_dir, g, "fp16"))
            sessions = {g: "fp16" for g in GRAPHS}
        else:
            raise ExportError(f"unknown variant {v!r}: fp32, int8, q4 or fp16")
        out[v] = {"sessions": sessions, "cpu": _loads_on_cpu([_graph(onnx_dir, g, d) for g, d in sessions.items()])}
    return out


def _to_fp16(path: str) -> Any:
    """Every float tensor and op in float16, the graph's inputs and outputs kept float32 behind Casts (keep_io_types):
    transformers.js feeds a variant's graphs the float32 tensors it makes (pixel_values, inputs_embeds, the empty KV
    cache) and reads float32 logits, so with float16 inputs the server's deploy of the fp16 variant failed in its
    warm-up (onnxruntime-node: "expected: (tensor(float16))"; found by bench/infer-hf.ts). With ONNX shape inference the converter knows
    which values feed ops that have no float16 type (Range, in Idefics3's position buckets) and keeps those float32
    behind Casts; without it (measured) the fp16 vision encoder is an invalid graph that onnxruntime refuses. Shape
    inference needs the model in one protobuf (under 2 GB): a larger graph is converted without it."""
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16
    try:
        return convert_float_to_float16(onnx.load(path), keep_io_types=True, disable_shape_infer=False)
    except Exception:  # noqa: BLE001 - too large for onnx.shape_inference: the converter's own pass alone
        return convert_float_to_float16(onnx.load(path), keep_io_types=True, disable_shape_infer=True)


def _loads_on_cpu(paths: Sequence[str]) -> bool:
    import onnxruntime as ort
    try:
        for p in paths:
            ort.InferenceSession(p, providers=["CPUExecutionProvider"])
        return True
    except Exception:  # noqa: BLE001 - a missing CPU kernel (fp16) is a fact to record, not a failure of the export
        return False


# ----------------------------------------------------------------------------------------------
# Inputs, the bundle's greedy loop in onnxruntime, parity with PyTorch
# ----------------------------------------------------------------------------------------------


def kind_of(model: nn.Module) -> str:
    """"idefics3" or "qwen2_vl" (an ExportError for a family the export does not cover)."""
    return _kind(model.config.model_type)


def default_image(processor: Any, kind: str) -> Any:
    """A synthetic RGB image at the processor's own input size (what a model is traced on when no dataset is given):
    Idefics3 / SmolVLM, a square of the image processor's longest_edge; Qwen2-VL, a square whose side is a multiple
    of patch * merge inside [min_pixels, max_pixels] (448 px when that range allows it)."""
    import math

    import numpy as np
    from PIL import Image
    ip = processor.image_processor
    size = getattr(ip, "size", None) or {}
    if kind == "idefics3":
        side = int(size.get("longest_edge") or size.get("height") or 384)
    else:
        factor = int(getattr(ip, "patch_size", 14)) * int(getattr(ip, "merge_size", 2))
        lo = int(getattr(ip, "min_pixels", None) or size.get("shortest_edge") or factor * factor)
        hi = int(getattr(ip, "max_pixels", None) or size.get("longest_edge") or 448 * 448)
        side = min(max(448, math.isqrt(lo)), math.isqrt(hi))
        side = max(factor, side // factor * factor)
    px = (np.arange(side * side * 3) * 37 % 256).astype("uint8").reshape(side, side, 3)
    return Image.fromarray(px, mode="RGB")


def mrope_positions(input_ids: Sequence[int], image_token_id: int, grid_thw: Sequence[Sequence[int]],
                    merge: int) -> Tuple[Any, int]:
    """Qwen2-VL's 3-D rotary positions of a prompt ([3, 1, S] int64) and its rope delta, as
    Qwen2VLModel.get_rope_index computes them for a prompt without padding or video: text tokens count up on all three
    axes; an image's run of tokens takes (t, row, column) of its merged grid offset by the position where the run
    starts; the text after it resumes at one past the largest position so far. Decoding continues from
    len(ids) + delta on all three axes."""
    import numpy as np
    ids = list(input_ids)
    pos = np.zeros((3, len(ids)), dtype=np.int64)
    i, start, image = 0, 0, 0
    while i < len(ids):
        if ids[i] != image_token_id:
            pos[:, i] = start
            start += 1
            i += 1
            continue
        t, h, w = (int(x) for x in grid_thw[image])
        h, w = h // merge, w // merge
        n = t * h * w
        tt, hh, ww = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
        pos[:, i:i + n] = np.stack([tt.ravel(), hh.ravel(), ww.ravel()]) + start
        start = int(pos[:, i:i + n].max()) + 1
        i += n
        image += 1
    return pos[:, None, :], int(pos.max()) + 1 - len(ids)


_NP_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int64)": "int64",
             "tensor(int32)": "int32", "tensor(bool)": "bool"}


class OrtBundle:
    """One variant of a bundle in onnxruntime (CPU), decoding as transformers.js does: vision_encoder ->
    embed_tokens -> the image features scattered into the image-token slots -> decoder_model_merged with its KV cache
    (prefill from an empty past, then one token a step; Qwen2-VL's positions from mrope_positions)."""

    def __init__(self, bundle_dir: str, variant: str = "fp32", threads: int = 0):
        import onnxruntime as ort
        with open(os.path.join(bundle_dir, "manifest.json")) as fh:
            self.manifest = json.load(fh)
        with open(os.path.join(bundle_dir, "config.json")) as fh:
            self.config = json.load(fh)
        if variant not in self.manifest["variants"]:
            raise ExportError(f"the bundle has no variant {variant!r} (it has {', '.join(self.manifest['variants'])})")
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = threads
        sessions = self.manifest["variants"][variant]["sessions"]
        self.s = {g: ort.InferenceSession(_graph(os.path.join(bundle_dir, "onnx"), g, d), opts,
                                          providers=["CPUExecutionProvider"]) for g, d in sessions.items()}
        self.kind = _kind(self.manifest["hf"]["model_type"])
        self.image_token_id = int(self.config["image_token_id"] if "image_token_id" in self.config
                                  else self.config["image_token_index"])
        self.merge = int((self.config.get("vision_config") or {}).get("spatial_merge_size", 2))
        self.eos = set(int(e) for e in self.manifest["generation"]["eos_token_ids"])
        self.types = {g: {i.name: _NP_TYPES.get(i.type, "float32") for i in s.get_inputs()} for g, s in self.s.items()}
        dec = self.s["decoder_model_merged"]
        self.past_inputs = [i for i in dec.get_inputs() if i.name.startswith("past_key_values.")]
        self.present_names = [o.name for o in dec.get_outputs()][1:]

    def _run(self, graph: str, feeds: Dict[str, Any]) -> List[Any]:
        t = self.types[graph]
        return self.s[graph].run(None, {k: v.astype(t[k], copy=False) for k, v in feeds.items()})

    def _prompt(self, inputs: Dict[str, Any]) -> Tuple[Any, Any, int, int]:
        """(inputs_embeds with the image features in their slots, position_ids, rope delta, prompt length)."""
        import numpy as np
        x = {k: (v.numpy() if hasattr(v, "numpy") else np.asarray(v)) for k, v in inputs.items()}
        ids = x["input_ids"].astype(np.int64)
        emb = self._run("embed_tokens", {"input_ids": ids})[0]
        if self.kind == "idefics3":
            feat = self._run("vision_encoder", {"pixel_values": x["pixel_values"],
                                                "pixel_attention_mask": x["pixel_attention_mask"].astype(bool)})[0]
        else:
            feat = self._run("vision_encoder", {"pixel_values": x["pixel_values"], "grid_thw": x["image_grid_thw"]})[0]
        slots = ids == self.image_token_id
        feat = feat.reshape(-1, feat.shape[-1])
        if int(slots.sum()) != feat.shape[0]:
            raise ExportError(f"{int(slots.sum())} image-token slots for {feat.shape[0]} image feature vectors")
        emb[slots] = feat.astype(emb.dtype)
        n = ids.shape[1]
        if self.kind == "qwen2_vl":
            pos, delta = mrope_positions(ids[0].tolist(), self.image_token_id, x["image_grid_thw"].tolist(), self.merge)
        else:
            pos, delta = np.arange(n, dtype=np.int64)[None], 0
        return emb, pos, delta, n

    def _decoder(self, emb: Any, pos: Any, total: int, past: Optional[Dict[str, Any]]) -> List[Any]:
        import numpy as np
        if past is None:
            past = {i.name: np.zeros((1, int(i.shape[1]), 0, int(i.shape[3])), dtype=_NP_TYPES.get(i.type, "float32"))
                    for i in self.past_inputs}
        return self._run("decoder_model_merged", {"inputs_embeds": emb, "attention_mask": np.ones((1, total), np.int64),
                                                  "position_ids": pos, **past})

    def prompt_logits(self, inputs: Dict[str, Any]) -> Any:
        """The prefill's logits [prompt length, vocab] (float32) for one prompt's processor outputs."""
        emb, pos, _, n = self._prompt(inputs)
        return self._decoder(emb, pos, n, None)[0][0].astype("float32")

    def greedy(self, inputs: Dict[str, Any], max_new_tokens: int) -> List[int]:
        """Greedy ids for one prompt's processor outputs (numpy or torch tensors, batch 1), eos included when
        produced, at most max_new_tokens."""
        import numpy as np
        emb, pos, delta, total = self._prompt(inputs)
        past: Optional[Dict[str, Any]] = None
        out: List[int] = []
        for _ in range(max_new_tokens):
            o = self._decoder(emb, pos, total, past)
            tok = int(np.argmax(o[0][0, -1].astype(np.float32)))
            out.append(tok)
            if tok in self.eos:
                break
            past = {name.replace("present", "past_key_values", 1): v for name, v in zip(self.present_names, o[1:])}
            emb = self._run("embed_tokens", {"input_ids": np.array([[tok]], dtype=np.int64)})[0]
            p = total + delta  # the new token's position (all three M-RoPE axes: text after the prompt)
            pos = np.full((3, 1, 1), p, np.int64) if self.kind == "qwen2_vl" else np.array([[p]], np.int64)
            total += 1
        return out


def ort_greedy(bundle_dir: str, variant: str, processor: Any, image: Any, question: str, max_new_tokens: int) -> List[int]:
    """Greedy ids of one variant of a bundle for an image + question (the processor's inputs, as sample_inputs)."""
    runner = OrtBundle(bundle_dir, variant)
    return runner.greedy(sample_inputs(processor, runner.kind, image, question), max_new_tokens)


@torch.no_grad()
def torch_greedy(model: nn.Module, inputs: Dict[str, torch.Tensor], max_new_tokens: int) -> List[int]:
    """transformers' own greedy decoding (generate, do_sample False) of one prompt: the new ids, eos included."""
    n = inputs["input_ids"].shape[1]
    out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1)
    return out[0, n:].tolist()


def _answer_text(processor: Any, tokens: Sequence[int], eos: Sequence[int]) -> str:
    kept: List[int] = []
    for t in tokens:
        if int(t) in eos:
            break
        kept.append(int(t))
    return processor.tokenizer.decode(kept, skip_special_tokens=True)


def verify_parity(model: nn.Module, processor: Any, bundle_dir: str, examples: Sequence[Dict[str, Any]],
                  max_new_tokens: int, variants: Optional[Sequence[str]] = None) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """PyTorch greedy vs each variant's onnxruntime greedy on the same processor inputs.

    examples: {"id", "image" (PIL RGB), "image_path", "question", "answer" (or None)}. Returns (manifest["parity"],
    the PyTorch references: {"id", "image", "question", "tokens", "text"}). Variants that do not load on the CPU
    (manifest "cpu" false) are recorded as skipped."""
    with open(os.path.join(bundle_dir, "manifest.json")) as fh:
        manifest = json.load(fh)
    kind = kind_of(model)
    eos = [int(e) for e in manifest["generation"]["eos_token_ids"]]
    model = model.eval()
    encoded = [sample_inputs(processor, kind, ex["image"], ex["question"]) for ex in examples]
    refs: List[Dict[str, Any]] = []
    for ex, enc in zip(examples, encoded):
        tokens = torch_greedy(model, enc, max_new_tokens)
        refs.append({"id": ex["id"], "image": ex.get("image_path"), "question": ex["question"], "tokens": tokens,
                     "text": _answer_text(processor, tokens, eos)})

    def correct(text: str, answer: Optional[str]) -> bool:
        return answer is not None and text.strip().lower() == str(answer).strip().lower()

    has_answers = all(ex.get("answer") is not None for ex in examples) and len(examples) > 0
    parity: Dict[str, Any] = {}
    for v in (variants or list(manifest["variants"])):
        meta = manifest["variants"].get(v)
        if meta is None:
            continue
        if not meta.get("cpu"):
            parity[v] = {"skipped": "does not load in onnxruntime's CPU provider"}
            continue
        runner = OrtBundle(bundle_dir, v)
        identical = agree = positions = right_t = right_o = 0
        for ex, enc, ref in zip(examples, encoded, refs):
            got = runner.greedy(enc, max_new_tokens)
            identical += int(got == ref["tokens"])
            m = min(len(got), len(ref["tokens"]))
            agree += sum(int(a == b) for a, b in zip(got[:m], ref["tokens"][:m]))
            positions += m
            right_t += int(correct(ref["text"], ex.get("answer")))
            right_o += int(correct(_answer_text(processor, got, eos), ex.get("answer")))
        n = len(examples)
        parity[v] = {"examples": n, "identical": identical,
                     "token_agreement": (agree / positions) if positions else 1.0,
                     "accuracy_torch": (right_t / n) if has_answers else None,
                     "accuracy_onnx": (right_o / n) if has_answers else None,
                     "max_new_tokens": max_new_tokens}
    return parity, refs


def write_parity(bundle_dir: str, parity: Dict[str, Any]) -> Dict[str, Any]:
    """Adds parity to manifest.json (which is not in its own files) and rewrites it; returns the manifest."""
    path = os.path.join(bundle_dir, "manifest.json")
    with open(path) as fh:
        manifest = json.load(fh)
    manifest["parity"] = parity
    with open(path, "w") as fh:
        json.dump(manifest, fh, indent=2)
    return manifest
