"""Thin CLI: ``python3 -m ril_trainer <train|eval|predict|export|info|worker>``: parses options, calls the library.

stdout carries JSON lines only (one object per line); human-readable logs go to stderr.

  train   --config CFG --data DIR --out DIR [--device D] [--max-steps N] [--eval-suite FILE]
  eval    --checkpoint C --data DIR [--split test] [--limit N] [--out FILE]   (either student family)
  predict --checkpoint C --cases FILE [--batch-size 32]   greedy answers, one JSON line per batch (either family)
  export  --checkpoint C | --hf-model DIR --out DIR [--format-version 2] [--variants fp32,int8,q4,fp16]
          [--verify-data DIR --verify-split test --verify-n 50 --max-new-tokens 64 --verify-out refs.json]
  info   [--size small]   parameter counts of the named sizes
"""
from __future__ import annotations

import argparse
import json
import sys
from typing import List, Optional

import torch

from . import checkpoint as ckpt
from . import log
from .config import SIZES, TrainConfig, load_json_config, model_config
from .runtime import resolve_device, set_threads
from .students.base import StudentError
from .train import UnsupportedTraining, train


def cmd_train(a: argparse.Namespace) -> int:
    cfg = load_json_config(TrainConfig, a.config, device=a.device, max_steps=a.max_steps, seed=a.seed,
                           num_threads=a.threads)
    try:
        train(cfg, a.data, a.out, nproc=a.nproc, eval_suite=a.eval_suite)
    except (UnsupportedTraining, StudentError) as err:
        log.info(str(err))
        return 2
    return 0


def cmd_eval(a: argparse.Namespace) -> int:
    from .evaluate import accuracy, checkpoint_budget, pick_indices
    from .students.load import load_student
    set_threads(a.threads or 0)
    device = resolve_device(a.device)
    student, state = load_student(a.checkpoint, device)  # either family (an hf one: base model + trained weights)
    ds = student.dataset(a.data, [a.split])
    idx = pick_indices(ds, a.split, a.limit)
    max_new = a.max_new_tokens if a.max_new_tokens is not None else checkpoint_budget(state.get("train_config") or {})
    res = accuracy(student, ds, idx, batch_size=a.batch_size, max_new_tokens=max_new, device=device)
    step = int(state["step"])
    log.metric(step, f"eval/{a.split}/accuracy", float(res["accuracy"]))  # type: ignore[arg-type]
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    log.emit("result", split=a.split, accuracy=res["accuracy"], n=res["n"], by_question=res["by_question"])
    log.info(f"{a.split}: accuracy {res['accuracy']:.4f} on {res['n']} examples")
    return 0


def cmd_predict(a: argparse.Namespace) -> int:
    """Greedy answers of a checkpoint to the cases of a JSONL file ({"id", "image", "question"}): one line
    {"event": "answers", "answers": [{"id", "text", "tokens"}]} per batch as it is decoded, then "done"."""
    from .suite_eval import Case, CheckpointSubject
    set_threads(a.threads or 0)
    cases = []
    with open(a.cases) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                cases.append(Case(str(d["id"]), d["question"], "", d["image"]))
    subject = CheckpointSubject(a.checkpoint, a.batch_size, a.max_new_tokens, resolve_device(a.device))
    n = 0
    for batch in subject.batches(cases):
        log.emit("answers", answers=[{"id": x.id, "text": x.text, "tokens": x.tokens} for x in batch])
        n += len(batch)
    log.emit("done", n=n, max_new_tokens=subject.max_new_tokens)
    return 0


def cmd_export(a: argparse.Namespace) -> int:
    if bool(a.checkpoint) == bool(a.hf_model):
        log.info("export: name exactly one of --checkpoint (a trained run's checkpoint.pt) or --hf-model (a "
                 "save_pretrained directory, exported as it is)")
        return 2
    if a.hf_model or ckpt.student_family(ckpt.load(a.checkpoint)) == "hf":
        return export_hf_cli(a)
    from .export import export_bundle, node_available, verify_parity
    set_threads(a.threads or 0)
    state = ckpt.load(a.checkpoint)
    model = ckpt.load_model(a.checkpoint)
    manifest = export_bundle(model, a.out, opset=a.opset, source={"checkpoint": a.checkpoint, "step": state["step"]},
                             format_version=a.format_version)
    log.emit("exported", out=a.out, files=manifest["files"])
    log.info(f"bundle written to {a.out}")
    if a.verify_data:
        reason = node_available()
        if reason:
            log.info(f"parity check skipped: {reason}")
            log.emit("parity", skipped=reason)
            return 0
        from .data import VQADataset, normalise
        ds = VQADataset(a.verify_data, model.cfg, splits=[a.verify_split])
        idx = ds.split_indices(a.verify_split)[:a.verify_n]
        px = normalise(ds.images[idx], model.cfg)
        prompts = [model.tokenizer.encode_prompt(ds.examples[i].question) for i in idx]
        r = verify_parity(model, a.out, px, prompts, a.max_new_tokens)
        log.emit("parity", examples=r["examples"], identical=r["identical"],
                 max_abs_logprob_diff=r["max_abs_logprob_diff"], onnx_ms_per_token=r["onnx_ms_per_token"])
        log.info(f"parity: {r['identical']}/{r['examples']} identical greedy sequences, "
                 f"max |logprob diff| {r['max_abs_logprob_diff']:.2e}")
        if not r["all_identical"]:
            return 1
    return 0


def export_hf_cli(a: argparse.Namespace) -> int:
    """A Hugging Face student (an hf checkpoint, LoRA merged, or a save_pretrained directory as it is) as a format-3
    bundle (export_hf.py, docs/hf-bundles.md); with --verify-data, PyTorch vs onnxruntime greedy per variant."""
    import os

    from PIL import Image

    from . import export_hf
    set_threads(a.threads or 0)
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    bad = [v for v in variants if v not in ("fp32", "int8", "q4", "fp16")]
    if bad:
        log.info(f"export: unknown variant(s) {', '.join(bad)}: fp32, int8, q4, fp16")
        return 2
    try:
        if a.hf_model:
            from .students.hf import load_pretrained
            model, processor = load_pretrained(a.hf_model)
            model = model.float().eval()
            source = {"hf_model": a.hf_model}
            base_model, lora_merged = a.hf_model, False
        else:
            model, processor, payload = export_hf.trained_model(a.checkpoint)
            source = {"checkpoint": a.checkpoint, "step": payload["step"]}
            student = payload.get("student") or {}
            base_model = str(student.get("model", ""))
            lora_merged = int((student.get("lora") or {}).get("r", 0) or 0) > 0
        kind = export_hf.kind_of(model)
    except (StudentError, export_hf.ExportError) as err:
        log.info(str(err))
        return 2
    examples = []
    if a.verify_data:
        from .data import VQADataset
        ds = VQADataset(a.verify_data, None, splits=[a.verify_split])
        for i in ds.split_indices(a.verify_split)[:a.verify_n]:
            ex = ds.examples[i]
            with Image.open(os.path.join(ds.root, ex.image)) as im:  # as students/hf.py reads them
                image = im.convert("RGB")
            examples.append({"id": ex.id, "image": image, "image_path": ex.image, "question": ex.question,
                             "answer": getattr(ex, "answer", None)})
        if not examples:
            log.info(f"export: {a.verify_data} has no {a.verify_split!r} examples to verify on")
            return 2
    image = examples[0]["image"] if examples else export_hf.default_image(processor, kind)
    manifest = export_hf.export_hf_bundle(model, processor, a.out, image, source=source, base_model=base_model,
                                          lora_merged=lora_merged, variants=variants, opset=a.opset)
    log.emit("exported", out=a.out, files=manifest["files"], variants=manifest["variants"])
    log.info(f"bundle written to {a.out} (variants {', '.join(manifest['variants'])})")
    if not examples:
        return 0
    only = [v.strip() for v in a.verify_variants.split(",") if v.strip()] if a.verify_variants else None
    parity, refs = export_hf.verify_parity(model, processor, a.out, examples, a.max_new_tokens, only)
    export_hf.write_parity(a.out, parity)
    if a.verify_out:
        with open(a.verify_out, "w") as fh:
            json.dump({"examples": refs, "max_new_tokens": a.max_new_tokens}, fh, indent=1)
    log.emit("parity", variants=parity)
    for v, r in parity.items():
        if "skipped" in r:
            log.info(f"parity {v}: skipped ({r['skipped']})")
        else:
            log.info(f"parity {v}: {r['identical']}/{r['examples']} identical greedy sequences, token agreement "
                     f"{r['token_agreement']:.4f}")
    fp32 = parity.get("fp32") or {}
    return 0 if fp32.get("examples") and fp32["identical"] == fp32["examples"] else 1


def cmd_info(a: argparse.Namespace) -> int:
    from .model import build_model
    for name in ([a.size] if a.size else list(SIZES)):
        cfg = model_config(name)
        log.emit("model", size=name, parameters=build_model(cfg).num_parameters(), n_image_tokens=cfg.n_image_tokens,
                 d_model=cfg.d_model, n_layers=cfg.n_layers)
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["worker"]:  # the worker has its own options (and imports no model code until a job runs)
        from .worker import main as worker_main
        return worker_main(args[1:])
    p = argparse.ArgumentParser(prog="python3 -m ril_trainer", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a student (algorithm from the config: sft | grpo | dr_grpo | ril)")
    t.add_argument("--config", required=True, help="JSON TrainConfig file (configs/*.json)")
    t.add_argument("--data", required=True, help="dataset directory (examples.jsonl, images/, teachers/)")
    t.add_argument("--out", required=True, help="run directory (checkpoint.pt; resumes if present)")
    t.add_argument("--device", default=None, help="cpu | cuda | auto (overrides the config)")
    t.add_argument("--max-steps", type=int, default=None, help="override max_steps")
    t.add_argument("--seed", type=int, default=None, help="override seed")
    t.add_argument("--threads", type=int, default=None, help="torch CPU threads (overrides num_threads)")
    t.add_argument("--nproc", type=int, default=1,
                   help="data-parallel ranks on this machine (DDP; gloo on CPU). Under torchrun, leave it: the env decides")
    t.add_argument("--eval-suite", default=None,
                   help="an evaluation suite file (JSON: name, version, datasets [{key, data_dir, split, limit}]) scored "
                        "every eval_suite_every steps and at the end: metrics eval/suite/<name>/<key> and .../avg")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="greedy accuracy of a checkpoint (built-in or hf student) against the ground truth")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data", required=True)
    e.add_argument("--split", default="test")
    e.add_argument("--limit", type=int, default=None, help="first N examples of the split")
    e.add_argument("--batch-size", type=int, default=128)
    e.add_argument("--max-new-tokens", type=int, default=None,
                   help="default: the checkpoint's response budget (its config's resolved max_response_tokens; 160 for "
                        "checkpoints without one); clamped to max_seq_len; rows stop at <eos>")
    e.add_argument("--device", default="auto")
    e.add_argument("--threads", type=int, default=None)
    e.add_argument("--out", default=None, help="write per-example predictions to this JSON file")
    e.set_defaults(func=cmd_eval)

    r = sub.add_parser("predict", help="greedy answers of a checkpoint to the cases of a JSONL file (the worker's RUN subject)")
    r.add_argument("--checkpoint", required=True)
    r.add_argument("--cases", required=True, help='JSONL, one case a line: {"id", "image" (a path), "question"}')
    r.add_argument("--batch-size", type=int, default=32, help="cases per generation batch (one output line each)")
    r.add_argument("--max-new-tokens", type=int, default=None, help="default: the checkpoint's response budget (as eval)")
    r.add_argument("--device", default="auto")
    r.add_argument("--threads", type=int, default=None)
    r.set_defaults(func=cmd_predict)

    x = sub.add_parser("export", help="write the ONNX student bundle (and optionally check parity)")
    x.add_argument("--checkpoint", default=None,
                   help="a run's checkpoint.pt: a built-in student (format 1/2) or a Hugging Face one (format 3, "
                        "LoRA merged; docs/hf-bundles.md)")
    x.add_argument("--hf-model", default=None,
                   help="instead of --checkpoint: a Hugging Face save_pretrained directory (model + processor), "
                        "exported as it is (format 3)")
    x.add_argument("--out", required=True)
    x.add_argument("--opset", type=int, default=17)
    x.add_argument("--format-version", type=int, default=2, choices=(1, 2),
                   help="built-in bundles: 2 (default) has the decode mask for batched serving; 1 is for endpoints "
                        "older than that (hf bundles are format 3)")
    x.add_argument("--variants", default="fp32,int8,q4,fp16",
                   help="hf bundles: the variants to write, of fp32,int8,q4,fp16 (fp32 is always written)")
    x.add_argument("--verify-data", default=None,
                   help="dataset directory for the PyTorch vs ONNX parity check (hf: also the image the graphs are "
                        "traced on, the split's first)")
    x.add_argument("--verify-split", default="test")
    x.add_argument("--verify-n", type=int, default=50)
    x.add_argument("--verify-variants", default=None,
                   help="hf: check only these variants against PyTorch (comma-separated; default: every variant written)")
    x.add_argument("--verify-out", default=None,
                   help="hf: write the PyTorch greedy references (id, image, question, tokens, text) to this JSON file")
    x.add_argument("--max-new-tokens", type=int, default=64)
    x.add_argument("--threads", type=int, default=None)
    x.set_defaults(func=cmd_export)

    sub.add_parser("worker", help="claim TRAIN/EVALUATE jobs from the platform (see ril_trainer/worker/; --help there)",
                   add_help=False)

    i = sub.add_parser("info", help="parameter counts of the named sizes")
    i.add_argument("--size", default=None, choices=sorted(SIZES))
    i.set_defaults(func=cmd_info)

    a = p.parse_args(argv)
    try:
        return int(a.func(a))
    except (ckpt.UnsupportedCheckpoint, StudentError) as err:  # e.g. an hf checkpoint without transformers installed
        log.info(str(err))
        return 2


if __name__ == "__main__":
    torch.set_grad_enabled(True)
    sys.exit(main())
