"""ONNX bundles of Hugging Face students (export_hf.py, docs/hf-bundles.md): the CLI (--hf-model, an hf checkpoint
with LoRA merged, a built-in checkpoint as before), onnxruntime greedy == PyTorch greedy, Qwen2-VL's vision graph on
several grids, the variants, the manifest's hashes, the files transformers.js reads.

Tiny random SmolVLM and Qwen2-VL models whose processors take 28 px images as they are (hf_tiny --native-px 28).
Needs transformers + onnxruntime (the .venv-hf environment): skipped with the reason under Debian's torch 1.13.
"""
import json
import os

import numpy as np
import pytest
import torch

transformers = pytest.importorskip("transformers", reason="Hugging Face bundles need transformers (.venv-hf: "
                                                          "scripts/ensure-hf.sh); the built-in family's venv has none")
pytest.importorskip("peft", reason="Hugging Face students' LoRA needs peft (.venv-hf)")
pytest.importorskip("onnxruntime", reason="the parity check runs the bundle in onnxruntime (.venv-hf)")

import hf_tiny  # noqa: E402
from ril_trainer import checkpoint as ckpt  # noqa: E402
from ril_trainer import export_hf  # noqa: E402
from ril_trainer.__main__ import main  # noqa: E402
from ril_trainer.config import model_config  # noqa: E402
from ril_trainer.export import sha256_file  # noqa: E402
from ril_trainer.model import build_model  # noqa: E402
from ril_trainer.students.hf import load_pretrained  # noqa: E402

FAMILIES = ["smolvlm", "qwen2vl"]
# the variants each family's bundle is made with (together: all four; fewer per bundle keeps the tests fast)
VARIANTS = {"smolvlm": "fp32,int8,fp16", "qwen2vl": "fp32,int8,q4"}
N, TOKENS = 8, 8  # examples (the tiny dataset's 8 train images, one question each) and new tokens


@pytest.fixture(scope="module")
def native_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_native")
    return {"smolvlm": hf_tiny.smolvlm_native(str(root / "smolvlm"), 28),
            "qwen2vl": hf_tiny.qwen2vl(str(root / "qwen2vl"), image_px=28)}


@pytest.fixture(scope="module")
def parity_data(tiny_data, tmp_path_factory):
    """The tiny dataset with one question per train image, as a "parity" split of 8 examples."""
    root = tmp_path_factory.mktemp("parity_data")
    rows = []
    with open(os.path.join(tiny_data, "examples.jsonl")) as f:
        for line in f:
            ex = json.loads(line)
            if ex["split"] == "train" and ex["id"].endswith("-0"):
                rows.append({**ex, "split": "parity"})
    os.symlink(os.path.join(tiny_data, "images"), root / "images")
    (root / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert len(rows) == N
    return str(root)


@pytest.fixture(scope="module", params=FAMILIES)
def exported(request, native_models, parity_data, tmp_path_factory):
    """`export --hf-model DIR` with the parity check on 8 examples; (family, bundle dir, manifest, refs, exit code)."""
    family = request.param
    out = str(tmp_path_factory.mktemp(f"bundle_{family}"))
    refs = out + ".refs.json"
    code = main(["export", "--hf-model", native_models[family], "--out", out, "--variants", VARIANTS[family],
                 "--verify-data", parity_data, "--verify-split", "parity", "--verify-n", str(N),
                 "--max-new-tokens", str(TOKENS), "--verify-out", refs, "--threads", "1"])
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    with open(refs) as f:
        return family, out, manifest, json.load(f), code


def test_onnx_greedy_equals_torch_greedy_and_the_manifest_reports_every_variant(exported):
    family, out, manifest, refs, code = exported
    assert code == 0
    parity = manifest["parity"]
    assert set(parity) == set(VARIANTS[family].split(","))
    assert parity["fp32"]["examples"] == parity["fp32"]["identical"] == N
    assert parity["fp32"]["token_agreement"] == 1.0
    for v, r in parity.items():
        assert manifest["variants"][v]["cpu"] is True, v  # every variant loads on the CPU, fp16 included
        assert r["examples"] == N and 0 <= r["identical"] <= N and 0.0 <= r["token_agreement"] <= 1.0, v
        assert r["accuracy_torch"] is not None and r["accuracy_onnx"] is not None  # the dataset has answers
    assert parity["int8"]["token_agreement"] > 0  # reported; its value is the quantization's (random tiny weights)
    if "fp16" in parity:
        assert manifest["variants"]["fp16"]["sessions"] == {g: "fp16" for g in export_hf.GRAPHS}
    # the references for the endpoint's test: PyTorch's greedy ids and text, image paths relative to the data
    assert refs["max_new_tokens"] == TOKENS and len(refs["examples"]) == N
    ex = refs["examples"][0]
    assert set(ex) == {"id", "image", "question", "tokens", "text"} and ex["image"].startswith("images/")
    assert 1 <= len(ex["tokens"]) <= TOKENS


def test_ort_greedy_of_each_variant_equals_the_manifests_count(exported, native_models, parity_data):
    """ort_greedy (the package's loop, one call) reproduces PyTorch's reference for the fp32 graphs."""
    from PIL import Image
    family, out, manifest, refs, _ = exported
    model, processor = load_pretrained(native_models[family])
    ex = refs["examples"][0]
    with Image.open(os.path.join(parity_data, ex["image"])) as im:
        image = im.convert("RGB")
    assert export_hf.ort_greedy(out, "fp32", processor, image, ex["question"], TOKENS) == ex["tokens"]
    enc = export_hf.sample_inputs(processor, export_hf.kind_of(model), image, ex["question"])
    assert export_hf.torch_greedy(model.eval(), enc, TOKENS) == ex["tokens"]


def test_every_file_has_its_sha256_and_the_transformers_js_files_exist(exported):
    family, out, manifest, _, _ = exported
    listed = sorted(os.path.relpath(os.path.join(d, f), out).replace(os.sep, "/")
                    for d, _, fs in os.walk(out) for f in fs if f != "manifest.json")
    assert sorted(manifest["files"]) == listed
    for name, meta in manifest["files"].items():
        assert sha256_file(os.path.join(out, name)) == meta["sha256"], name
        assert os.path.getsize(os.path.join(out, name)) == meta["bytes"], name
    for v in manifest["variants"].values():  # every graph a variant names is in files
        for g, dtype in v["sessions"].items():
            assert f"onnx/{g}{export_hf.SUFFIX[dtype]}.onnx" in manifest["files"]
    assert manifest["format_version"] == 3 and manifest["model_family"] == "hf-image-text-to-text"
    assert manifest["source"] == {"hf_model": manifest["hf"]["base_model"]} and manifest["hf"]["lora_merged"] is False
    with open(os.path.join(out, "preprocessor_config.json")) as f:
        assert json.load(f)["processor_class"]
    with open(os.path.join(out, "tokenizer_config.json")) as f:
        assert "{% for m in messages %}" in json.load(f)["chat_template"]
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    if family == "qwen2vl":  # transformers.js reads the text fields at the top level
        assert config["num_hidden_layers"] == config["text_config"]["num_hidden_layers"] == 2
        assert config["num_key_value_heads"] == 2 and config["vocab_size"] == config["text_config"]["vocab_size"]


def test_qwen2vl_vision_graph_takes_other_grids(exported, native_models):
    family, out, _, _, _ = exported
    if family != "qwen2vl":
        pytest.skip("Qwen2-VL's vision graph")
    import onnxruntime as ort
    from PIL import Image
    from transformers import Qwen2VLImageProcessor
    model, _ = load_pretrained(native_models[family])
    session = ort.InferenceSession(os.path.join(out, "onnx", "vision_encoder.onnx"), providers=["CPUExecutionProvider"])
    ip = Qwen2VLImageProcessor(min_pixels=28 * 28, max_pixels=200 * 200)
    grids = []
    for w, h in [(56, 56), (84, 56), (28, 112), (140, 84)]:  # square, wide, tall, neither
        image = Image.fromarray((np.random.RandomState(w * h).rand(h, w, 3) * 255).astype("uint8"))
        enc = ip(images=[image], return_tensors="pt")
        with torch.no_grad():
            ref = model.model.get_image_features(enc["pixel_values"], enc["image_grid_thw"])
        ref = ref.pooler_output if hasattr(ref, "pooler_output") else ref
        ref = torch.cat(list(ref)) if isinstance(ref, (list, tuple)) else ref
        got = session.run(None, {"pixel_values": enc["pixel_values"].numpy(), "grid_thw": enc["image_grid_thw"].numpy()})[0]
        assert got.shape == tuple(ref.shape)
        assert np.abs(got - ref.numpy()).max() < 1e-4, (w, h)
        grids.append(tuple(enc["image_grid_thw"][0].tolist()))
    assert len(set(grids)) == 4


def test_mrope_positions_equal_get_rope_index(native_models):
    from PIL import Image
    model, processor = load_pretrained(native_models["qwen2vl"])
    image = Image.fromarray((np.random.RandomState(0).rand(56, 84, 3) * 255).astype("uint8"))
    proc = processor.image_processor
    proc.min_pixels, proc.max_pixels = 28 * 28, 200 * 200  # a non-square grid, several image tokens
    proc.size = {"shortest_edge": 28 * 28, "longest_edge": 200 * 200}
    enc = export_hf.sample_inputs(processor, "qwen2_vl", image, "Is it a bar?")
    assert int(enc["image_grid_thw"][0, 1]) != int(enc["image_grid_thw"][0, 2])
    ref, delta = model.model.get_rope_index(enc["input_ids"], enc.get("mm_token_type_ids"),
                                            image_grid_thw=enc["image_grid_thw"], attention_mask=enc["attention_mask"])
    pos, d = export_hf.mrope_positions(enc["input_ids"][0].tolist(), model.config.image_token_id,
                                       enc["image_grid_thw"].tolist(), 2)
    assert np.array_equal(pos, ref.numpy()) and d == int(delta[0, 0])


@pytest.mark.parametrize("family", FAMILIES)
def test_a_lora_checkpoint_exports_the_trained_policy_merged(family, native_models, tiny_data, tmp_path):
    """Two LoRA SFT steps, then `export --checkpoint`: the bundle computes the trained policy (adapters on), not
    the base model."""
    from ril_trainer.config import LoraConfig, StudentConfig, TrainConfig
    from ril_trainer.students.hf import HFStudent
    from ril_trainer.train import train
    cfg = TrainConfig(algorithm="sft", max_steps=2, batch_size=4, lr=5e-2, warmup_steps=0, eval_every=0,
                      val_accuracy_examples=0, val_loss_examples=2, checkpoint_every=100, device="cpu", num_threads=1,
                      student=StudentConfig(family="hf", model=native_models[family],
                                            lora=LoraConfig(r=4, alpha=8, dropout=0.0)))
    run = tmp_path / "run"
    train(cfg, tiny_data, str(run))
    out = str(tmp_path / "bundle")
    assert main(["export", "--checkpoint", str(run / "checkpoint.pt"), "--out", out, "--variants", "fp32",
                 "--threads", "1"]) == 0
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["hf"]["lora_merged"] is True and manifest["source"]["step"] == 2
    assert manifest["hf"]["base_model"] == native_models[family] and list(manifest["variants"]) == ["fp32"]
    # the policy as training left it: PEFT adapters on top of the base weights, not merged
    payload = ckpt.load(str(run / "checkpoint.pt"))
    student = HFStudent.load(cfg, "cpu", with_reference=False)
    student.load_weights(payload["model"])
    ds = student.dataset(tiny_data, ["test"])
    inputs = student.inputs(ds, [0])
    enc = export_hf.sample_inputs(student.processor, export_hf.kind_of(student.hf), inputs.images[0],
                                  inputs.questions[0])
    with torch.no_grad():
        trained = student.policy.eval()(**enc).logits[0].float().numpy()
        with student.policy.disable_adapter():
            base = student.policy(**enc).logits[0].float().numpy()
    got = export_hf.OrtBundle(out, "fp32").prompt_logits(enc)
    assert np.abs(got - trained).max() < 1e-4
    assert np.abs(base - trained).max() > 1e-2  # the adapters moved the outputs: "equal to trained" means something


def test_cli_refuses_both_or_neither_source_and_a_builtin_checkpoint_exports_as_before(tmp_path, native_models, capsys):
    assert main(["export", "--out", str(tmp_path / "x")]) == 2
    assert main(["export", "--checkpoint", "c.pt", "--hf-model", native_models["smolvlm"], "--out", str(tmp_path / "x")]) == 2
    assert "exactly one of --checkpoint" in capsys.readouterr().err
    assert main(["export", "--hf-model", native_models["smolvlm"], "--variants", "fp32,int4", "--out", str(tmp_path / "x")]) == 2
    model = build_model(model_config("nano"), seed=0).eval()
    ckpt.save(str(tmp_path / "builtin.pt"), model, step=3)
    out = tmp_path / "builtin"
    assert main(["export", "--checkpoint", str(tmp_path / "builtin.pt"), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format_version"] == 2 and manifest["model_family"] == "ril-vlm-v1"
    assert sorted(manifest["files"]) == ["decode.onnx", "prefill.onnx", "tokenizer.json"]
    assert manifest["source"] == {"checkpoint": str(tmp_path / "builtin.pt"), "step": 3}


def test_a_bundle_evaluate_job_scores_an_hf_bundle_with_the_endpoints_runtime(exported, parity_data, tmp_path):
    """suite_eval.bundle_accuracy_any (an EVALUATE job of a BUNDLE artifact) on a format-3 bundle: the answers come from the
    endpoint's runtime (bundle-answers.ts), equal PyTorch's greedy text, and the rule judge scores them: the answer
    key holds the reference text on half of the examples and a word no answer contains on the other half."""
    from ril_trainer.suite_eval import bundle_accuracy_any
    family, out, manifest, refs, _ = exported
    texts = {ex["id"]: ex["text"] for ex in refs["examples"]}
    rows = []
    with open(os.path.join(parity_data, "examples.jsonl")) as f:
        for j, line in enumerate(f):
            ex = json.loads(line)
            rows.append({**ex, "answer": texts[ex["id"]] if j % 2 == 0 else "zzyzx"})
    if not all(texts[r["id"]].strip() for r in rows[::2]):
        pytest.skip("a reference answer is empty: the judge cannot match it")
    os.symlink(os.path.join(parity_data, "images"), tmp_path / "images")
    (tmp_path / "examples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    res = bundle_accuracy_any(out, str(tmp_path), "parity", max_new_tokens=TOKENS, repo_root=repo)
    assert [a.strip() for a in res["answers"]] == [texts[r["id"]].strip() for r in rows]
    assert res["n"] == N and res["accuracy"] == 0.5
