"""PyTorch eager inference of a Hugging Face student, timed request by request (bench/infer-hf.ts's baseline).

  cd functions/trainer && $RIL_HF_PYTHON bench/hf_eager_infer.py --model DIR [--threads 1]

DIR: a save_pretrained directory (model + processor), the one `ril_trainer export --hf-model DIR` made the bundle
from. Loads it once, warms it up, prints {"ready": true, ...} and then answers one request per stdin line,
{"image": PATH, "question": TEXT, "max_new_tokens": N}, with one JSON line on stdout:
{"ms", "preprocess_ms", "ttft_ms", "decode_tokens_per_s", "tokens": [...]}. A long-lived process, so the Node bench
can interleave PyTorch requests with the endpoint's (the same machine load on both sides).

What is timed is what the endpoint does for a request, in PyTorch: the image read (PIL, RGB), the chat template and
the family's processor (the same call export_hf.sample_inputs makes for the parity check), then transformers'
greedy model.generate (do_sample False, num_beams 1, the KV cache) for max_new_tokens. ttft_ms: from the start to
the first new token (a streamer sees it); decode tokens/s: (tokens - 1) / (end - first token), as the endpoint
computes it. eos stops generation as it does on the endpoint; the answer's tokens are returned so the caller can
check both sides decoded the same ones.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, HERE)


class FirstToken:
    """A generate() streamer that notes when the first new token arrives (the first put is the prompt)."""

    def __init__(self) -> None:
        self.puts = 0
        self.first = 0.0

    def put(self, value) -> None:  # noqa: ANN001
        self.puts += 1
        if self.puts == 2:
            self.first = time.perf_counter()

    def end(self) -> None:
        pass


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    import torch
    from PIL import Image
    from transformers import AutoModelForImageTextToText, AutoProcessor
    from ril_trainer.export_hf import kind_of, sample_inputs

    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    model = AutoModelForImageTextToText.from_pretrained(a.model, local_files_only=True, dtype=torch.float32).eval()
    processor = AutoProcessor.from_pretrained(a.model, local_files_only=True)
    kind = kind_of(model)

    @torch.no_grad()
    def answer(image_path: str, question: str, max_new_tokens: int) -> dict:
        t0 = time.perf_counter()
        image = Image.open(image_path).convert("RGB")
        inputs = sample_inputs(processor, kind, image, question)
        t1 = time.perf_counter()
        streamer = FirstToken()
        n = inputs["input_ids"].shape[1]
        out = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, num_beams=1, streamer=streamer)
        end = time.perf_counter()
        tokens = out[0, n:].tolist()
        first = streamer.first or end
        decode_s = end - first
        return {"ms": (end - t0) * 1000, "preprocess_ms": (t1 - t0) * 1000, "ttft_ms": (first - t0) * 1000,
                "decode_tokens_per_s": (len(tokens) - 1) / decode_s if len(tokens) > 1 and decode_s > 0 else None,
                "tokens": tokens}

    with tempfile.TemporaryDirectory() as tmp:
        warm_path = os.path.join(tmp, "warm.png")
        Image.new("RGB", (28, 28), (127, 127, 127)).save(warm_path)
        for _ in range(2):
            answer(warm_path, "warm up", 4)
    print(json.dumps({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "kind": kind}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        print(json.dumps(answer(req["image"], req["question"], int(req["max_new_tokens"]))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
