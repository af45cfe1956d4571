"""ONNX bundle: manifest hashes, graph I/O names, and greedy parity with onnxruntime-node; the CLI."""
import json
import os
import subprocess
import sys
import warnings

import pytest
import torch

from ril_trainer import checkpoint as ckpt
from ril_trainer import tokenizer as tok
from ril_trainer.config import model_config
from ril_trainer.data import VQADataset, normalise
from ril_trainer.export import export_bundle, node_available, sha256_file, verify_parity
from ril_trainer.model import build_model

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NODE_REASON = node_available()


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    model = build_model(model_config("nano"), seed=0).eval()
    out = str(tmp_path_factory.mktemp("bundle"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manifest = export_bundle(model, out)
    return model, out, manifest, caught


def test_manifest_lists_every_file_with_its_sha256(bundle):
    _, out, manifest, _ = bundle
    with open(os.path.join(out, "manifest.json")) as f:
        assert json.load(f) == json.loads(json.dumps(manifest))
    files = sorted(n for n in os.listdir(out) if n != "manifest.json")
    assert files == sorted(manifest["files"]) == ["decode.onnx", "prefill.onnx", "tokenizer.json"]
    for name, meta in manifest["files"].items():
        assert sha256_file(os.path.join(out, name)) == meta["sha256"]
    assert manifest["model_family"] == "ril-vlm-v1" and manifest["tokenizer"]["eos_id"] == tok.EOS
    assert manifest["kv_cache"]["input_names"][:2] == ["past.0.key", "past.0.value"]
    assert manifest["format_version"] == 2
    assert [i["name"] for i in manifest["graphs"]["decode"]["inputs"][:4]] == ["input_ids", "position_ids", "attention_mask", "past.0.key"]
    assert [i["name"] for i in manifest["graphs"]["prefill"]["inputs"]] == ["pixel_values", "input_ids", "attention_mask"]
    # the new slot alone, for a batch that keeps its own cache
    assert manifest["kv_cache"]["new_slot_names"][:2] == ["new.0.key", "new.0.value"]
    assert [o["name"] for o in manifest["graphs"]["decode"]["outputs"]][-2:] == ["new.1.key", "new.1.value"]


def test_the_model_computes_a_left_padded_row_as_it_would_alone():
    """What the masked decode graph relies on: masked past slots get zero attention weight, so a row padded
    to a longer batch gets its unpadded logits (up to float summation order)."""
    torch.manual_seed(0)
    model = build_model(model_config("nano"), seed=0).eval()
    N = model.cfg.n_image_tokens
    px = torch.randn(2, 1, 28, 28)
    prompts = [tok.BYTE.encode_prompt("What shape is shown here?"), tok.BYTE.encode_prompt("Bar?")]
    with torch.no_grad():
        alone = []
        pasts = []
        for b, p in enumerate(prompts):
            _, past = model(px[b:b + 1], torch.tensor([p]))
            logits, _ = model(None, torch.tensor([[5]]), None, torch.tensor([[N + len(p)]]), past)
            alone.append(logits[0, -1])
            pasts.append(past)
        P = max(N + len(p) for p in prompts)
        pad = lambda t: torch.cat([torch.full((1, t.shape[1], P - t.shape[2], t.shape[3]), 7.0), t], dim=2)  # noqa: E731
        past = [(torch.cat([pad(pasts[0][i][0]), pad(pasts[1][i][0])]), torch.cat([pad(pasts[0][i][1]), pad(pasts[1][i][1])]))
                for i in range(model.cfg.n_layers)]  # padding is garbage (7.0): the mask alone must hide it
        mask = torch.tensor([[0] * (P - N - len(p)) + [1] * (N + len(p) + 1) for p in prompts])
        logits, _ = model(None, torch.tensor([[5], [5]]), mask, torch.tensor([[N + len(p)] for p in prompts]), past)
    for b in range(2):
        assert torch.allclose(logits[b, -1], alone[b], atol=1e-5), (b, (logits[b, -1] - alone[b]).abs().max())


@pytest.mark.skipif(NODE_REASON is not None, reason=f"onnxruntime-node parity needs node: {NODE_REASON}")
def test_masked_graphs_decode_a_padded_batch_like_pytorch_alone(bundle):
    """The masked graphs in onnxruntime-node, every example in ONE prefill run (prompts left-padded) and ONE batch of
    decode steps (pasts left-padded to the longest row, rows leaving at their own budgets), against PyTorch's greedy
    answer of each example alone."""
    model, out, *_ = bundle
    px = torch.randn(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    questions = ("What shape is shown?", "Bar?", "", "Is this worn on the feet?", "Colour?", "Which item of clothing is it, please?")
    prompts = [tok.BYTE.encode_prompt(q) for q in questions]
    assert len({len(p) for p in prompts}) == 6  # six prompt lengths: six paddings
    budgets = [24, 5, 17, 24, 1, 12]  # rows leave at different steps
    r = verify_parity(model, out, px, prompts, max_new_tokens=budgets, batched=True)
    assert [len(t) for t in r["torch_tokens"]] == budgets  # untrained: no early <eos>, every token compared
    assert r["all_identical"], (r["torch_tokens"], r["onnx_tokens"])
    assert r["max_abs_logprob_diff"] < 1e-4


@pytest.mark.skipif(NODE_REASON is not None, reason=f"onnxruntime-node parity needs node: {NODE_REASON}")
def test_format_1_bundle_has_no_masks_and_still_matches_pytorch(tmp_path):
    model = build_model(model_config("nano"), seed=0).eval()
    manifest = export_bundle(model, str(tmp_path), format_version=1)
    assert manifest["format_version"] == 1
    assert [i["name"] for i in manifest["graphs"]["decode"]["inputs"][:3]] == ["input_ids", "position_ids", "past.0.key"]
    assert [i["name"] for i in manifest["graphs"]["prefill"]["inputs"]] == ["pixel_values", "input_ids"]
    assert "new_slot_names" not in manifest["kv_cache"]
    px = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    r = verify_parity(model, str(tmp_path), px, [tok.BYTE.encode_prompt(q) for q in ("Bar?", "What is it?")], max_new_tokens=8)
    assert r["all_identical"], (r["torch_tokens"], r["onnx_tokens"])
    with pytest.raises(RuntimeError, match="attention_mask"):
        verify_parity(model, str(tmp_path), px, [tok.BYTE.encode_prompt("Bar?")] * 2, max_new_tokens=8, batched=True)


def test_export_is_quiet_on_every_torch(bundle):
    # torch >= 2.9 deprecates the TorchScript exporter that export.py keeps on purpose (see _onnx_export): the
    # expected DeprecationWarnings and the tracer's note on `T > 1` are filtered there, nothing else.
    *_, caught = bundle
    noisy = [f"{w.category.__name__}: {w.message}" for w in caught
             if issubclass(w.category, (DeprecationWarning, torch.jit.TracerWarning))]
    assert not noisy, noisy


@pytest.mark.skipif(NODE_REASON is not None, reason=f"onnxruntime-node parity needs node: {NODE_REASON}")
def test_onnx_greedy_tokens_equal_pytorch(bundle):
    model, out, _, _ = bundle
    px = torch.randn(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    prompts = [tok.BYTE.encode_prompt(q) for q in ("What shape is shown?", "Bar?", "", "Is this worn on the feet?")]
    r = verify_parity(model, out, px, prompts, max_new_tokens=24)  # varied prompt lengths: dynamic axes
    assert r["all_identical"], (r["torch_tokens"], r["onnx_tokens"])
    assert all(len(t) == 24 for t in r["torch_tokens"])  # untrained: no early <eos>, full length compared
    assert r["max_abs_logprob_diff"] < 1e-4


def run_cli(*args, cwd=HERE):
    env = dict(os.environ, PYTHONPATH=HERE)
    return subprocess.run([sys.executable, "-m", "ril_trainer", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_cli_train_eval_export_speak_json_lines(tiny_data, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"comment": {"model": "test"}, "model": "nano", "batch_size": 8, "max_steps": 4,
                               "warmup_steps": 1, "eval_every": 0, "log_every": 2, "val_accuracy_examples": 4,
                               "num_threads": 1}))
    r = run_cli("train", "--config", str(cfg), "--data", tiny_data, "--out", str(tmp_path / "run"), "--device", "cpu")
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]  # every stdout line is JSON
    names = {e["name"] for e in events if e["event"] == "metric"}
    assert {"train/loss", "train/lr", "val/loss", "eval/val/accuracy"} <= names
    assert events[-1]["event"] == "done" and events[-1]["step"] == 4

    c = str(tmp_path / "run" / "checkpoint.pt")
    r = run_cli("eval", "--checkpoint", c, "--data", tiny_data, "--split", "test", "--device", "cpu")
    assert r.returncode == 0, r.stderr
    result = [json.loads(line) for line in r.stdout.splitlines()][-1]
    assert result["event"] == "result" and result["n"] == 4

    args = ["export", "--checkpoint", c, "--out", str(tmp_path / "bundle"), "--max-new-tokens", "8"]
    if NODE_REASON is None:
        args += ["--verify-data", tiny_data, "--verify-split", "test"]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert events[0]["event"] == "exported"
    if NODE_REASON is None:
        assert events[-1]["event"] == "parity" and events[-1]["identical"] == events[-1]["examples"] == 4


def test_cli_rejects_unknown_algorithm(tiny_data, tmp_path):
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps({"algorithm": "ppo", "model": "nano"}))
    r = run_cli("train", "--config", str(cfg), "--data", tiny_data, "--out", str(tmp_path / "x"))
    assert r.returncode == 2 and "unknown algorithm" in r.stderr
