"""RIL step time vs Dr.GRPO step time on the same batch (the discriminator's cost as a ratio).

  cd functions/trainer && /usr/bin/python3 bench/bench_ril.py --data /tmp/fmvqa [--size nano] [--threads 2]

Both runs start from the same weights and take the same questions with the same rollout seed,
so the G student rollouts are identical; RIL adds G teacher responses per question (scored and
trained on like rollouts), the discriminator update and its scoring. Reports the median of
--repeats steps after one warm-up step, with the step's own timers (rollout / disc / policy).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from ril_trainer.config import TrainConfig  # noqa: E402
from ril_trainer.rl import RLRun  # noqa: E402


def bench(algorithm: str, a: argparse.Namespace, rows) -> dict:
    cfg = TrainConfig(algorithm=algorithm, model=a.size, questions_per_step=a.questions, group_size=4,
                      max_response_tokens=a.max_tokens, teachers=["teacher-verbose"], device="cpu", seed=0)
    run = RLRun(cfg, a.data, "cpu")
    run.start_from(run.policy.state_dict())
    times, parts = [], []
    for r in range(a.repeats + 1):
        t0 = time.perf_counter()
        m = run.step(0, rows)  # step 0 every time: the same rollout seed
        if r:
            times.append(time.perf_counter() - t0)
            parts.append([m["time/rollout_s"], m["time/disc_s"], m["time/policy_s"]])
    p = np.median(np.array(parts), axis=0)
    return {"algorithm": algorithm, "step_s": float(np.median(times)), "rollout_s": float(p[0]),
            "disc_s": float(p[1]), "policy_s": float(p[2]), "responses": len(run.last_group["responses"])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="/tmp/fmvqa")
    ap.add_argument("--size", default="nano")
    ap.add_argument("--questions", type=int, default=16)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    probe = RLRun(TrainConfig(algorithm="dr_grpo", model=a.size, device="cpu"), a.data, "cpu")
    rows = probe.train_idx[:a.questions]
    res = [bench("dr_grpo", a, rows), bench("ril", a, rows)]
    for r in res:
        print(json.dumps(r))
    d, r = res
    print(f"\n{a.size}, {a.questions} questions x G=4, torch {torch.__version__}, {a.threads} threads, "
          f"{os.cpu_count()} cores ({platform.machine()})")
    print("| algorithm | responses | step (s) | rollout (s) | disc (s) | policy (s) |")
    print("|---|---|---|---|---|---|")
    for x in res:
        print(f"| {x['algorithm']} | {x['responses']} | {x['step_s']:.3f} | {x['rollout_s']:.3f} | {x['disc_s']:.3f} | "
              f"{x['policy_s']:.3f} |")
    print(f"\nRIL / Dr.GRPO step time: {r['step_s'] / d['step_s']:.2f}x; discriminator share of the RIL step: "
          f"{r['disc_s'] / r['step_s']:.0%}")


if __name__ == "__main__":
    main()
