"""Hugging Face students: RIL vs Dr.GRPO step time (and an SFT step for reference), per model and LoRA / full.

  cd functions/trainer && ../../.venv-hf/bin/python bench/hf_students.py --preset tiny [--threads 2]   # CPU
  cd functions/trainer && python3 bench/hf_students.py --preset smolvlm-256m                            # one GPU

`npm run bench:hf` runs the tiny preset; scripts/hf-gpu-bench.sh runs smolvlm-256m on a CUDA GPU.

Presets (random weights, built from the families' config classes and saved with save_pretrained in a temporary
directory; nothing is downloaded):
- tiny: tests/hf_tiny.py's 2-layer SmolVLM and Qwen2-VL (width 64), CPU, fp32; full fine-tuning and LoRA r 4.
- smolvlm-256m: a SmolVLM-256M-shaped model (smolvlm_256m() below: about 256M parameters), one CUDA GPU, bf16
  autocast (student.dtype auto); full fine-tuning and LoRA r 16.

Per model and mode, in one process: an SFT step (forward + backward + AdamW on Q*G teacher responses, the batch
the Dr.GRPO policy update sees), then RLRun.step of Dr.GRPO and of RIL (disc_backbone "copy" with full
fine-tuning, "lora" with LoRA: the pairing of configs/ril_smolvlm_lora.json). Each configuration is built and takes
one warm-up step; then the RL runs' steps alternate (Dr.GRPO, RIL, Dr.GRPO, ...: a change of load on a shared
machine hits both alike) for --steps rounds. The table has the medians, the step split into rollout /
discriminator / policy by the step's own time/* metrics. Every RL step is step 0 with lr 0 (AdamW then leaves the
weights as they are), so every step of both algorithms samples the same student rollouts from the same weights:
the ratio compares equal work, and RIL's extra is its G teacher responses per question (scored and trained on
like rollouts), the discriminator update and its scoring. Rollout tokens/s = student tokens generated / rollout
time (which includes the judge and teacher-text tokenisation, small). Memory: what a configuration adds from just
before it is built to the end of its warm-up step (class Memory): CUDA max_memory_allocated on a GPU, the peak RSS
on the CPU (a lower bound there: the allocator reuses memory an earlier configuration freed).
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Dict, List, Optional

import numpy as np
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the models are built here; nothing is ever fetched
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "tests"))  # hf_tiny: the tests' tiny models
from ril_trainer import rl  # noqa: E402
from ril_trainer.config import LoraConfig, StudentConfig, TrainConfig  # noqa: E402
from ril_trainer.sft import sft_loss  # noqa: E402
from ril_trainer.students.hf import HFStudent  # noqa: E402


@dataclasses.dataclass
class Preset:
    models: List[str]
    """hf_tiny builders (smolvlm, qwen2vl, qwen25vl) or smolvlm-256m."""
    lora_r: int
    """The LoRA mode's rank (the full mode is r 0)."""
    questions: int
    """Q: questions per RL step."""
    group: int
    """G: student rollouts per question (RIL adds G teacher responses)."""
    max_tokens: int
    """Response budget: the rollout length unless eos is sampled (rare with random weights and a big vocabulary)."""
    steps: int
    """Measured rounds after the warm-up step (0: a smoke that times the warm-up step)."""
    device: str
    image_px: int
    """Side of the synthetic square images (the processor resizes them: 32 px tiny SmolVLM, 56 px tiny Qwen2-VL,
    one 512 px tile for smolvlm-256m)."""


PRESETS = {
    "tiny": Preset(models=["smolvlm", "qwen2vl"], lora_r=4, questions=4, group=4, max_tokens=16, steps=9,
                   device="cpu", image_px=28),
    "smolvlm-256m": Preset(models=["smolvlm-256m"], lora_r=16, questions=8, group=4, max_tokens=64, steps=5,
                           device="cuda", image_px=512),
}


# ----------------------------------------------------------------------------------------------
# Models and data (offline)
# ----------------------------------------------------------------------------------------------


def smolvlm_256m(out_dir: str, seed: int = 0) -> str:
    """A SmolVLM-256M-shaped model with random weights (processor included), saved with save_pretrained.

    The dimensions are recalled from the public configs of HuggingFaceTB/SmolVLM-256M-Instruct and the models it is
    built from, not looked up: APPROXIMATE (the shape and parameter count are what matter for speed and memory).
    - Vision tower: SigLIP base, patch 16, 512 px (google/siglip-base-patch16-512-like): 12 layers, width 768,
      MLP 3072, 12 heads; 512 px / 16 = 32 x 32 = 1024 patches, about 86M parameters.
    - Connector: pixel shuffle with scale factor 4 (1024 patches -> 64 image tokens of width 768 * 16) and one
      linear layer to the text width (about 7M).
    - Text model: SmolLM2-135M-like llama: 30 layers, width 576, 9 heads, 3 KV heads, MLP 1536; vocabulary 49280
      (SmolLM2's 49152 + SmolVLM's image and grid tokens); the LM head not tied to the embeddings (our reading of
      the model's config: 135M + the 28M head + vision + connector ~ 256M, the model's name).
    - Images: one 512 px tile per image (do_image_splitting off; the real processor also splits large images into
      512 px tiles, which multiplies the image tokens), 64 image tokens per image.
    The tokenizer is the tests' small in-memory byte-level BPE (a few hundred tokens, hf_tiny); the embedding table
    and LM head have the real 49280 rows, so sampling, the softmax and the head cost what they cost in the model.
    """
    import hf_tiny
    return hf_tiny.smolvlm(
        out_dir, seed, scale_factor=4, image_px=512, image_seq_len=64, tie_word_embeddings=False,
        text=dict(vocab_size=49280, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                  num_attention_heads=9, num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5,
                  tie_word_embeddings=False),
        vision=dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                    image_size=512, patch_size=16))


def num2words_shim(force: bool = False) -> None:
    """SmolVLMProcessor refuses to start without the num2words package, which it uses only to spell a video's frame
    count. The GPU machine may lack it (and has no internet): this bench never passes a video, so str() stands in.
    Bench only: the trainer itself needs the real package (the [hf] extra)."""
    from transformers.utils import is_num2words_available
    if force or not is_num2words_available():
        import transformers.models.smolvlm.processing_smolvlm as smolvlm_processing
        smolvlm_processing.num2words = lambda n, **kw: str(n)
        print("# num2words is not installed: a str() stand-in (only videos use it)", file=sys.stderr)


def build_model(name: str, out_dir: str) -> str:
    import hf_tiny
    return smolvlm_256m(out_dir) if name == "smolvlm-256m" else getattr(hf_tiny, name)(out_dir)


def build_data(root: str, px: int, n_images: int = 16) -> str:
    """A synthetic VQA directory (tests/conftest.py's layout): gray images of a bar or a square, two questions each,
    two teachers with two cached responses per question. All rows are in train (a step reads Q of them)."""
    from PIL import Image
    os.makedirs(os.path.join(root, "images"))
    os.makedirs(os.path.join(root, "teachers"))
    rng = np.random.default_rng(0)
    examples, teach = [], {"alpha": [], "beta": []}
    for k in range(n_images):
        kind = ("bar", "square")[k % 2]
        a = (rng.random((px, px)) * 40).astype(np.uint8)
        s = px // 7
        if kind == "bar":
            a[s:px - s, 3 * s:4 * s] = 230
        else:
            a[2 * s:5 * s, 2 * s:5 * s] = 230
        name = f"images/{k:03d}.png"
        Image.fromarray(a, mode="L").save(os.path.join(root, name))
        for q, ans in (("What shape is shown?", kind), ("Is it a bar?", "yes" if kind == "bar" else "no")):
            eid = f"{k:03d}-{len(examples) % 2}"
            examples.append({"id": eid, "image": name, "question": q, "answer": ans, "split": "train"})
            for t in range(2):
                teach["alpha"].append({"example": eid, "teacher": "alpha", "sample": t,
                                       "text": f"The answer is {ans}. I see a {kind} in the picture."})
                teach["beta"].append({"example": eid, "teacher": "beta", "sample": t, "text": f"I see: {ans}!"})
    with open(os.path.join(root, "examples.jsonl"), "w") as f:
        f.writelines(json.dumps(e) + "\n" for e in examples)
    for t, rows in teach.items():
        with open(os.path.join(root, "teachers", f"{t}.jsonl"), "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    return root


# ----------------------------------------------------------------------------------------------
# Memory
# ----------------------------------------------------------------------------------------------


class Memory:
    """Peak memory a configuration adds: from just before it is built to the end of its warm-up step (every step is
    the same work, see the docstring). GPU: torch.cuda.max_memory_allocated minus what was allocated before; CPU:
    the peak RSS (VmHWM, reset through /proc/self/clear_refs) minus the RSS before (memory the allocator kept from an
    earlier configuration and reuses is not counted: the CPU column is a lower bound)."""

    def __init__(self, device: str):
        self.cuda = device.startswith("cuda")
        gc.collect()
        if self.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            self.before = torch.cuda.memory_allocated()
        else:
            try:
                with open("/proc/self/clear_refs", "w") as f:
                    f.write("5")  # resets VmHWM (the peak RSS) to the current RSS
            except OSError:
                pass  # not Linux: the peak since the process started
            self.before = rss_bytes("VmRSS")

    def added_mb(self) -> float:
        if self.cuda:
            return (torch.cuda.max_memory_allocated() - self.before) / 2**20
        return (rss_bytes("VmHWM") - self.before) / 2**20


def rss_bytes(field: str) -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ----------------------------------------------------------------------------------------------
# One configuration
# ----------------------------------------------------------------------------------------------


def train_cfg(p: Preset, model_dir: str, algorithm: str, r: int, device: str) -> TrainConfig:
    return TrainConfig(algorithm=algorithm, questions_per_step=p.questions, group_size=p.group,
                       max_response_tokens=p.max_tokens, batch_size=p.questions * p.group, lr=0.0, warmup_steps=0,
                       disc_lr=1e-4, sft_steps=0, max_steps=10, eval_every=0, device=device, seed=0,
                       student=StudentConfig(family="hf", model=model_dir, dtype="auto",
                                             disc_backbone="lora" if r > 0 else "copy",
                                             lora=LoraConfig(r=r, alpha=2 * r if r else 16, dropout=0.05)))


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def build_rl(p: Preset, model_dir: str, data: str, algorithm: str, r: int, device: str) -> Dict:
    """Builds the run and takes its warm-up step (allocator, kernels, autotuning); the memory it added."""
    mem = Memory(device)
    run = rl.RLRun(train_cfg(p, model_dir, algorithm, r, device), data, device)
    run.start_from(run.student.weights())
    rows = run.train_idx[:p.questions]
    first = timed_step(run, rows, p, device)
    return {"algorithm": algorithm, "run": run, "rows": rows, "first": first, "peak_mb": mem.added_mb(),
            "disc_backbone": run.cfg.student.disc_backbone if run.disc is not None else "",
            "params": run.student.num_parameters()}


def timed_step(run: rl.RLRun, rows: List[int], p: Preset, device: str) -> List[float]:
    """[step, rollout, disc, policy] seconds and rollout tokens/s of one RL step."""
    sync(device)
    t0 = time.perf_counter()
    m = run.step(0, rows)  # step 0 and lr 0 every time: the same rollouts (see the docstring)
    sync(device)
    return [time.perf_counter() - t0, m["time/rollout_s"], m["time/disc_s"], m["time/policy_s"],
            m["gen/len_mean"] * p.questions * p.group / m["time/rollout_s"]]


def bench_rl(p: Preset, model_dir: str, data: str, algorithms: List[str], r: int, device: str) -> List[Dict]:
    """Every algorithm's run is built and warmed up in turn (its memory measured then), then their steps alternate
    (A B A B ...), so a change of load on a shared machine hits all of them alike."""
    runs = [build_rl(p, model_dir, data, algo, r, device) for algo in algorithms]
    samples: List[List[List[float]]] = [[] if p.steps else [x["first"]] for x in runs]
    for _ in range(p.steps):
        for x, acc in zip(runs, samples):
            acc.append(timed_step(x["run"], x["rows"], p, device))
    out = []
    for x, acc in zip(runs, samples):
        med = np.median(np.array(acc), axis=0)
        out.append({"algorithm": x["algorithm"], "disc_backbone": x["disc_backbone"],
                    "responses": len(x["run"].last_group["responses"]), "step_s": float(med[0]),
                    "rollout_s": float(med[1]), "disc_s": float(med[2]), "policy_s": float(med[3]),
                    "rollout_tok_s": float(med[4]), "peak_mb": x["peak_mb"], "params": x["params"]})
    return out  # the runs are freed here, before the next mode is built


def bench_sft(p: Preset, model_dir: str, data: str, r: int, device: str) -> Dict:
    mem = Memory(device)
    cfg = train_cfg(p, model_dir, "sft", r, device)
    st = HFStudent.load(cfg, device, with_reference=False)
    ds = st.dataset(data, ["train"])
    idx = [i for i in ds.split_indices("train")[:p.questions] for _ in range(p.group)]  # Q*G rows
    cached = ds.teacher_responses([])  # example id -> [(teacher, text), ...]
    texts = [cached[ds.examples[i].id][j % len(cached[ds.examples[i].id])][1] for j, i in enumerate(idx)]
    responses = [st.tokenizer.encode_response(t, p.max_tokens) for t in texts]
    opt = st.make_optimizer(cfg)
    st.policy.train()
    times, peak = [], 0.0
    for k in range(max(1, p.steps + (p.steps > 0))):
        sync(device)
        t0 = time.perf_counter()
        lp, mask = st.response_logprobs(st.inputs(ds, idx), responses)
        loss = sft_loss(lp, mask)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(st.trainable_parameters(), cfg.grad_clip)
        opt.step()
        float(loss.detach())
        sync(device)
        if k or not p.steps:
            times.append(time.perf_counter() - t0)
        if not k:
            peak = mem.added_mb()
    out = {"algorithm": "sft", "disc_backbone": "", "responses": len(idx), "step_s": statistics.median(times),
           "rollout_s": None, "disc_s": None, "policy_s": statistics.median(times), "rollout_tok_s": None,
           "peak_mb": peak, "params": st.num_parameters()}
    del st, opt
    return out


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------


def fmt(v: Optional[float], spec: str) -> str:
    return "" if v is None else format(v, spec)


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", choices=sorted(PRESETS), default="tiny")
    ap.add_argument("--steps", type=int, help="measured steps per configuration after one warm-up step; 0: a smoke "
                                              "that times the single warm-up step (labelled so in the table)")
    ap.add_argument("--group", type=int, help="responses per question (G)")
    ap.add_argument("--questions", type=int, help="questions per RL step (Q)")
    ap.add_argument("--max-tokens", type=int, help="response budget: rollout length when no eos is sampled")
    ap.add_argument("--modes", default="full,lora", help="full and/or lora")
    ap.add_argument("--algorithms", default="sft,dr_grpo,ril")
    ap.add_argument("--device", help="override the preset's device (a CPU smoke of smolvlm-256m: --device cpu)")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (1: the shared 2-core machine; with 2, "
                                                      "other jobs on the cores made single steps 5-10x slower)")
    a = ap.parse_args(argv)
    p = PRESETS[a.preset]
    p = dataclasses.replace(p, steps=p.steps if a.steps is None else a.steps, questions=a.questions or p.questions,
                            group=a.group or p.group,
                            max_tokens=a.max_tokens or p.max_tokens, device=a.device or p.device)
    torch.set_num_threads(a.threads)
    if p.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"hf_students.py: preset {a.preset} needs a CUDA GPU (torch {torch.__version__} sees none); "
              "for a CPU smoke pass --device cpu", file=sys.stderr)
        return 2
    import transformers
    num2words_shim()
    started = time.time()
    rows = []
    with tempfile.TemporaryDirectory(prefix="hf-bench-") as tmp:
        data = build_data(os.path.join(tmp, "data"), p.image_px)
        for name in p.models:
            t0 = time.time()
            model_dir = build_model(name, os.path.join(tmp, name))
            print(f"# built {name} in {time.time() - t0:.1f}s", file=sys.stderr, flush=True)
            for mode in a.modes.split(","):
                r = p.lora_r if mode == "lora" else 0
                algos = a.algorithms.split(",")
                t0 = time.time()
                res = [bench_sft(p, model_dir, data, r, p.device)] if "sft" in algos else []
                res += bench_rl(p, model_dir, data, [x for x in algos if x != "sft"], r, p.device)
                for x in res:
                    x.update(model=name, mode=f"lora r{r}" if r else "full")
                    rows.append(x)
                    print(json.dumps({"event": "bench", **x}), file=sys.stderr, flush=True)
                print(f"# {name} {mode}: {time.time() - t0:.1f}s", file=sys.stderr, flush=True)
    steps = (f"median of {p.steps} steps after 1 warm-up" if p.steps else
             "SMOKE: one step each, the warm-up step itself (not a benchmark)")
    dev = (torch.cuda.get_device_name(0) if p.device.startswith("cuda")
           else f"CPU {platform.machine()}, {os.cpu_count()} cores, {a.threads} torch threads")
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"preset {a.preset}: {dev}; torch {torch.__version__}, transformers {transformers.__version__}; "
          f"Q={p.questions} questions x G={p.group}, response budget {p.max_tokens} tokens, "
          f"{steps}; dtype auto ({'bf16 autocast' if p.device.startswith('cuda') else 'fp32'}); "
          f"load average at the end {load}; {time.time() - started:.0f}s in all\n")
    mem = "peak CUDA alloc added (MB)" if p.device.startswith("cuda") else "peak RSS added (MB)"
    print(f"| model | mode | step | D backbone | params (trainable) | responses | step (s) | rollout (s) | disc (s) | "
          f"policy (s) | rollout tok/s | {mem} |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for x in rows:
        n = x["params"]
        print(f"| {x['model']} | {x['mode']} | {x['algorithm']} | {x['disc_backbone']} | "
              f"{n['total'] / 1e6:.2f}M ({n['trainable'] / 1e6:.3f}M) | {x['responses']} | {x['step_s']:.3f} | "
              f"{fmt(x['rollout_s'], '.3f')} | {fmt(x['disc_s'], '.3f')} | {fmt(x['policy_s'], '.3f')} | "
              f"{fmt(x['rollout_tok_s'], '.0f' if (x['rollout_tok_s'] or 0) >= 100 else '.3g')} | {x['peak_mb']:.0f} |")
    print()
    for name in p.models:
        for mode in sorted({x["mode"] for x in rows if x["model"] == name}):
            by = {x["algorithm"]: x for x in rows if x["model"] == name and x["mode"] == mode}
            if "ril" in by and "dr_grpo" in by:
                ril, dr = by["ril"], by["dr_grpo"]
                print(f"- {name} {mode}: RIL / Dr.GRPO step time {ril['step_s'] / dr['step_s']:.2f}x "
                      f"(discriminator {ril['disc_s'] / ril['step_s']:.0%} of the RIL step; policy update "
                      f"{ril['policy_s'] / dr['policy_s']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
