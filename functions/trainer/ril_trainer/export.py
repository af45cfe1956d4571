"""ONNX student bundle: manifest.json + prefill.onnx + decode.onnx + tokenizer.json.

Exported with the TorchScript exporter (``torch.onnx.export``, ``dynamo=False`` where torch has
that switch) at opset 17, which torch 1.13, torch 2.x and onnxruntime-node 1.30 all accept. torch >= 2.9
deprecates that exporter; why we keep it (and what the dynamo exporter did here) is in _onnx_export.

Graphs (L = n_layers, H = n_heads, Dh = head_dim, N = n_image_tokens, V = vocab_size):

  prefill.onnx  inputs   pixel_values  float32 [batch, C, S, S]   (preprocessed; see manifest)
                         input_ids     int64   [batch, prompt_len] (<bos> question <sep>, left-padded)
                         attention_mask int64  [batch, N + prompt_len] (format 2; see Batches below)
                outputs  logits        float32 [batch, V]          (next-token logits after the prompt)
                         present.{i}.key / present.{i}.value  float32 [batch, H, N + prompt_len, Dh]
  decode.onnx   inputs   input_ids     int64   [batch, 1]          (the token just chosen)
                         position_ids  int64   [batch, 1]          (its position: N + prompt_len + t)
                         attention_mask int64  [batch, past_len + 1] (format 2: 1 = a real slot, 0 = padding)
                         past.{i}.key / past.{i}.value  float32 [batch, H, past_len, Dh]
                outputs  logits        float32 [batch, V]
                         present.{i}.key / present.{i}.value  float32 [batch, H, past_len + 1, Dh]
                         new.{i}.key / new.{i}.value  float32 [batch, H, 1, Dh] (format 2: the new slot alone)

Greedy decoding: feed prefill, then repeatedly argmax(logits) -> decode with position
N + prompt_len + t, the previous presents as pasts and an all-ones mask, until <eos> or max_seq_len.

Batches (format_version 2). Both graphs take attention_mask (int64, 1 = real, 0 = padding), the model's own
key mask. Prefill: prompts of different lengths left-padded after the image, mask [B, N + prompt_len] =
[1]*N + [0]*pad + [1]*len; positions follow from the mask (StudentVLM: cumsum - 1), as in the trainer's
batched generate. Decode: rows at different lengths share one run with their pasts padded to a common past_len
(any slot may be padding: the endpoint keeps each row's real slots first, empty ones after, and
reads new.*) and the padded slots masked out (attention_mask 0 there; the new token's slot, the last, is always 1). A masked slot
gets the dtype's minimum score, so its softmax weight is exactly 0 and a padded row computes what
it would alone, up to float summation order. Each row's position_ids are its own. This is the
model's own key mask (StudentVLM.forward's attention_mask), so no new model code is traced.
Format 1 (``format_version=1``): the same graphs without the masks, for endpoints that
predate batching; such a bundle is served one request per run.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import shutil
import subprocess
import tempfile
import warnings
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn

from .config import SamplingConfig, to_dict
from .data import preprocessing_spec
from .model import StudentVLM
from .sampling import generate

MODEL_FAMILY = "ril-vlm-v1"
BUNDLE_FORMAT = "ril-student-bundle"
OPSET = 17
NODE_SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "onnx_greedy.mjs")


# ----------------------------------------------------------------------------------------------
# Graph wrappers: the same StudentVLM.forward, with flat tensor inputs/outputs
# ----------------------------------------------------------------------------------------------


class PrefillGraph(nn.Module):
    """Format 1: rows of one run share prompt_len (no mask)."""

    def __init__(self, model: StudentVLM):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor):
        logits, presents = self.model(pixel_values, input_ids)  # [B,N+L,V]
        return (logits[:, -1],) + tuple(t for kv in presents for t in kv)


class MaskedPrefillGraph(nn.Module):
    """Format 2: prompts of different lengths left-padded after the image (as the trainer's batched generate
    pads them); attention_mask [B,N+L] is the model's key mask (1 = real). Positions follow from the mask
    (cumsum - 1), so a padded row's prompt sits at N.. as it would alone; the last position is real in
    every row, so logits[:, -1] is each row's next-token distribution."""

    def __init__(self, model: StudentVLM):
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        logits, presents = self.model(pixel_values, input_ids, attention_mask)  # [B,N+L,V]
        return (logits[:, -1],) + tuple(t for kv in presents for t in kv)


class DecodeGraph(nn.Module):
    """Format 1: one step, no mask (every past slot is real)."""

    def __init__(self, model: StudentVLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, *past_flat: torch.Tensor):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(None, input_ids, None, position_ids, past)  # [B,1,V]
        return (logits[:, -1],) + tuple(t for kv in presents for t in kv)


class MaskedDecodeGraph(nn.Module):
    """Format 2: one step over a padded batch. attention_mask [B,P+1] is the model's key mask over the
    past slots and the new token (1 = real, 0 = padding); position_ids [B,1] are each row's own."""

    def __init__(self, model: StudentVLM):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor, attention_mask: torch.Tensor,
                *past_flat: torch.Tensor):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(None, input_ids, attention_mask, position_ids, past)  # [B,1,V]
        # present.* (past + the new slot) for a caller that feeds them back as they are, and new.* (the new slot
        # alone, [B,H,1,Dh]) for one that keeps its own cache and fetches only these (no copy-out of the whole past)
        return ((logits[:, -1],) + tuple(t for kv in presents for t in kv)
                + tuple(t[:, :, -1:] for kv in presents for t in kv))


def kv_names(prefix: str, n_layers: int) -> List[str]:
    return [f"{prefix}.{i}.{kind}" for i in range(n_layers) for kind in ("key", "value")]


def _onnx_export(module: nn.Module, args: Tuple[torch.Tensor, ...], path: str, input_names: List[str],
                 output_names: List[str], dynamic_axes: Dict[str, Dict[int, str]], opset: int) -> None:
    kwargs: Dict[str, Any] = dict(input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
                                  opset_version=opset, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # torch >= 2.9 defaults to the dynamo exporter; we want TorchScript
    with torch.no_grad(), warnings.catch_warnings():
        # The tracer warns that `T > 1` in Attention is baked in: intended (prefill T > 1, decode T == 1).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        # torch >= 2.9 deprecates the TorchScript exporter (it still works in 2.15). We keep it on purpose: one
        # code path from Debian's torch 1.13 (no dynamo) to 2.x, the dynamic axes exactly as named above, one
        # self-contained .onnx per graph, and seconds per export. Measured on torch 2.15 (nano): the dynamo
        # exporter needs `dynamic_shapes` (our dynamic_axes do not map onto DecodeGraph's *past), onnxscript
        # and opset >= 18, writes external .onnx.data unless told not to, took 44 s for decode.onnx, and fixed
        # the batch axis to 1 (torch.export specialises size-1 example dims); past_len stayed dynamic and
        # matched PyTorch to 1.5e-7 in onnxruntime. So the warnings below are expected, not news.
        warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx\._internal\.torchscript_exporter")
        torch.onnx.export(module, args, path, **kwargs)


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ----------------------------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------------------------


FORMAT_VERSION = 2
"""2: prefill and decode take an attention mask (batched serving); 1: no masks (one request per run)."""


def export_bundle(model: StudentVLM, out_dir: str, opset: int = OPSET, source: Optional[Dict[str, Any]] = None,
                  format_version: int = FORMAT_VERSION) -> Dict[str, Any]:
    """Write the bundle to out_dir (files are written to a temp dir first, then moved in).

    format_version 1 writes the graphs without their attention masks (an endpoint older than
    batched decoding serves only that; the current one serves both, format 1 unbatched)."""
    if format_version not in (1, 2):
        raise ValueError(f"format_version must be 1 or 2, not {format_version}")
    masked = format_version >= 2
    model = model.cpu().eval()
    cfg = model.cfg
    L, H, Dh, N = cfg.n_layers, cfg.n_heads, cfg.d_model // cfg.n_heads, cfg.n_image_tokens
    os.makedirs(out_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix=".export-", dir=out_dir)
    try:
        px = torch.zeros(1, cfg.channels, cfg.image_size, cfg.image_size)
        ids = torch.tensor([model.tokenizer.encode_prompt("What is this?")])
        present = kv_names("present", L)
        if masked:
            # traced on a batch of 2 whose second row is left-padded by one slot after the image
            pmask = torch.ones(2, N + ids.shape[1], dtype=torch.long)
            pmask[1, N] = 0
            pargs, pgraph = (px.repeat(2, 1, 1, 1), ids.repeat(2, 1), pmask), MaskedPrefillGraph(model)
        else:
            pargs, pgraph = (px, ids), PrefillGraph(model)
        _onnx_export(pgraph, pargs, os.path.join(work, "prefill.onnx"),
                     ["pixel_values", "input_ids"] + (["attention_mask"] if masked else []), ["logits"] + present,
                     {"pixel_values": {0: "batch"}, "input_ids": {0: "batch", 1: "prompt_len"}, "logits": {0: "batch"},
                      **({"attention_mask": {0: "batch", 1: "prefill_len"}} if masked else {}),
                      **{n: {0: "batch", 2: "prefill_len"} for n in present}}, opset)
        with torch.no_grad():
            _, pres = model(px, ids)
        past = kv_names("past", L)
        P = N + ids.shape[1]
        if masked:
            # traced on a padded batch of 2 (row 1's first slot masked), so nothing batch-1 is baked in
            past_flat = tuple(t.repeat(2, 1, 1, 1) for kv in pres for t in kv)
            mask = torch.ones(2, P + 1, dtype=torch.long)
            mask[1, 0] = 0
            args = (torch.tensor([[model.tokenizer.eos_id]] * 2), torch.tensor([[P], [P - 1]]), mask) + past_flat
            graph, names = MaskedDecodeGraph(model), ["input_ids", "position_ids", "attention_mask"] + past
        else:
            past_flat = tuple(t for kv in pres for t in kv)
            args = (torch.tensor([[model.tokenizer.eos_id]]), torch.tensor([[P]])) + past_flat
            graph, names = DecodeGraph(model), ["input_ids", "position_ids"] + past
        new_slot = kv_names("new", L) if masked else []
        _onnx_export(graph, args, os.path.join(work, "decode.onnx"), names, ["logits"] + present + new_slot,
                     {"input_ids": {0: "batch"}, "position_ids": {0: "batch"}, "logits": {0: "batch"},
                      **{n: {0: "batch"} for n in new_slot},
                      **({"attention_mask": {0: "batch", 1: "past_len_plus_1"}} if masked else {}),
                      **{n: {0: "batch", 2: "past_len"} for n in past},
                      **{n: {0: "batch", 2: "past_len_plus_1"} for n in present}}, opset)
        with open(os.path.join(work, "tokenizer.json"), "w") as f:
            f.write(model.tokenizer.to_json())
        for name in ("prefill.onnx", "decode.onnx", "tokenizer.json"):
            os.replace(os.path.join(work, name), os.path.join(out_dir, name))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    kv_shape = ["batch", H, "seq", Dh]
    manifest = {
        "format": BUNDLE_FORMAT,
        "format_version": format_version,
        "model_family": MODEL_FAMILY,
        "model_config": to_dict(cfg),
        "n_image_tokens": N,
        "tokenizer": model.tokenizer.spec(),
        "preprocessing": preprocessing_spec(cfg),
        "kv_cache": {"layers": L, "heads": H, "head_dim": Dh, "dtype": "float32",
                     "layout": "[batch, heads, seq, head_dim]",
                     "input_names": past, "output_names": present,
                     **({"new_slot_names": new_slot} if masked else {})},
        "graphs": {
            "prefill": {
                "file": "prefill.onnx",
                "inputs": [{"name": "pixel_values", "dtype": "float32", "shape": ["batch", cfg.channels, cfg.image_size, cfg.image_size]},
                           {"name": "input_ids", "dtype": "int64", "shape": ["batch", "prompt_len"]}]
                + ([{"name": "attention_mask", "dtype": "int64", "shape": ["batch", "n_image_tokens + prompt_len"]}] if masked else []),
                "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", cfg.vocab_size]}]
                + [{"name": n, "dtype": "float32", "shape": ["batch", H, "n_image_tokens + prompt_len", Dh]} for n in present],
            },
            "decode": {
                "file": "decode.onnx",
                "inputs": [{"name": "input_ids", "dtype": "int64", "shape": ["batch", 1]},
                           {"name": "position_ids", "dtype": "int64", "shape": ["batch", 1]}]
                + ([{"name": "attention_mask", "dtype": "int64", "shape": ["batch", "past_len + 1"]}] if masked else [])
                + [{"name": n, "dtype": "float32", "shape": ["batch", H, "past_len", Dh]} for n in past],
                "outputs": [{"name": "logits", "dtype": "float32", "shape": ["batch", cfg.vocab_size]}]
                + [{"name": n, "dtype": "float32", "shape": ["batch", H, "past_len + 1", Dh]} for n in present]
                + [{"name": n, "dtype": "float32", "shape": ["batch", H, 1, Dh]} for n in new_slot],
            },
        },
        "generation": {
            "prompt": "input_ids = [bos_id] + encode(question) + [sep_id] (tokenizer.prompt_template; encode: tokenizer.json)",
            "first_decode_position": "n_image_tokens + prompt_len",
            "loop": "token = argmax(logits); stop if token == eos_id; feed decode(input_ids=[[token]], "
                    "position_ids=[[position]], past.* = previous present.*"
                    + (", attention_mask = ones(1, past_len + 1)" if masked else "") + "); position += 1",
            "max_positions": cfg.max_seq_len,
            "max_new_tokens": "min(requested, max_seq_len - n_image_tokens - prompt_len)",
            "logprobs": "log_softmax(logits) at the chosen token (raw model, temperature 1)",
            "batch": ("prefill: prompts left-padded after the image to the longest, attention_mask [1]*N + [0]*pad + [1]*len "
                      "(the padded slots' present.* are garbage: drop or mask them); decode: rows of any lengths share a "
                      "run with their pasts padded to a common past_len and attention_mask 0 on the padded slots, 1 on "
                      "real ones and on the new token; position_ids per row; new.* is the new slot alone, for a caller "
                      "that keeps its own cache") if masked
                     else "rows of one batch must share prompt_len and position (no attention mask in the graphs)",
        },
        "export": {"exporter": "torch.onnx.export (TorchScript)", "opset": opset, "torch": torch.__version__},
        "source": source or {},
        "files": {name: {"sha256": sha256_file(os.path.join(out_dir, name)),
                         "bytes": os.path.getsize(os.path.join(out_dir, name))}
                  for name in ("prefill.onnx", "decode.onnx", "tokenizer.json")},
    }
    tmp = os.path.join(out_dir, "manifest.json.tmp")
    with open(tmp, "w") as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, os.path.join(out_dir, "manifest.json"))
    return manifest


# ----------------------------------------------------------------------------------------------
# Verification through onnxruntime-node
# ----------------------------------------------------------------------------------------------


def node_available() -> Optional[str]:
    """None when node + onnxruntime-node can run the check, else the reason they cannot."""
    if not os.path.exists(NODE_SCRIPT):  # a pip-installed package carries no tools/ (they live in the repository)
        return f"{NODE_SCRIPT} is missing: the check runs from a checkout of the repository"
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH"
    try:
        r = subprocess.run([node, "--input-type=module", "-e", "await import('onnxruntime-node')"],
                           cwd=os.path.dirname(NODE_SCRIPT), capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"node failed: {e}"
    if r.returncode != 0:
        return "onnxruntime-node cannot be imported from functions/trainer/tools: " + r.stderr.strip()[-300:]
    return None


def run_node_greedy(bundle_dir: str, pixel_values: torch.Tensor, prompts: Sequence[Sequence[int]],
                    max_new_tokens: Union[int, Sequence[int]], batched: bool = False) -> Dict[str, Any]:
    """Greedy-decode each (image, prompt) with the bundle in onnxruntime-node; pixel_values [B,C,H,W].
    batched: every example decodes in one padded, masked batch (format 2 bundles; rows leave at <eos>)."""
    budgets = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    cases = [{"pixel_values": pixel_values[b].reshape(-1).tolist(), "input_ids": list(prompts[b]),
              "max_new_tokens": budgets[b]} for b in range(len(prompts))]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"cases": cases}, f)
        cases_path = f.name
    try:
        r = subprocess.run(["node", NODE_SCRIPT, "--bundle", bundle_dir, "--cases", cases_path] + (["--batched"] if batched else []),
                           capture_output=True, text=True, timeout=600)
    finally:
        os.unlink(cases_path)
    if r.returncode != 0:
        raise RuntimeError(f"onnx_greedy.mjs failed ({r.returncode}): {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def verify_parity(model: StudentVLM, bundle_dir: str, pixel_values: torch.Tensor, prompts: Sequence[Sequence[int]],
                  max_new_tokens: Union[int, Sequence[int]] = 32, batched: bool = False) -> Dict[str, Any]:
    """Greedy tokens of PyTorch (KV cache, batch 1) vs the ONNX graphs in onnxruntime-node, per example;
    batched: the ONNX side decodes every example in one padded batch (see run_node_greedy)."""
    model = model.cpu().eval()
    budgets = [max_new_tokens] * len(prompts) if isinstance(max_new_tokens, int) else list(max_new_tokens)
    torch_tokens: List[List[int]] = []
    torch_lps: List[List[float]] = []
    for b in range(len(prompts)):  # batch 1: the reference
        sc = SamplingConfig(greedy=True, max_new_tokens=budgets[b], repetition_penalty=1.0)
        g = generate(model, pixel_values[b:b + 1], [prompts[b]], sc)
        torch_tokens.append(g.tokens[0])
        torch_lps.append(g.logprobs[0])
    onnx = run_node_greedy(bundle_dir, pixel_values, prompts, budgets, batched)
    onnx_tokens = [r["tokens"] for r in onnx["results"]]
    max_lp_diff = 0.0
    for a, b in zip(torch_lps, (r["logprobs"] for r in onnx["results"])):
        for x, y in zip(a, b):
            max_lp_diff = max(max_lp_diff, abs(x - y))
    same = [t == o for t, o in zip(torch_tokens, onnx_tokens)]
    return {"examples": len(same), "identical": sum(same), "all_identical": all(same),
            "max_abs_logprob_diff": max_lp_diff, "onnx_ms_per_token": onnx.get("ms_per_token"),
            "torch_tokens": torch_tokens, "onnx_tokens": onnx_tokens}
