"""Hugging Face students on the trainer's one SFT / GRPO / Dr.GRPO / RIL code path (students/hf.py).

Tiny random SmolVLM (Idefics3 family), Qwen2-VL and Qwen2.5-VL models are built from their config classes and saved with
save_pretrained (hf_tiny.py); nothing is downloaded. Needs transformers + peft (the .venv-hf environment):
skipped with the reason under Debian's torch 1.13.
"""
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

transformers = pytest.importorskip("transformers", reason="Hugging Face students need transformers (.venv-hf: "
                                                          "scripts/ensure-hf.sh); the built-in family's venv has none")
pytest.importorskip("peft", reason="Hugging Face students' LoRA needs peft (.venv-hf)")

import hf_tiny  # noqa: E402
from ril_trainer import checkpoint as ckpt  # noqa: E402
from ril_trainer import rl  # noqa: E402
from ril_trainer.__main__ import main  # noqa: E402
from ril_trainer.config import LoraConfig, SamplingConfig, StudentConfig, TrainConfig  # noqa: E402
from ril_trainer.sft import sft_loss  # noqa: E402
from ril_trainer.students.hf import HFStudent, HFStudentError  # noqa: E402

FAMILIES = ["smolvlm", "qwen2vl", "qwen25vl"]


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf_models")
    return {name: getattr(hf_tiny, name)(str(root / name)) for name in FAMILIES}


def hf_cfg(model_dir: str, r: int = 0, disc_backbone: str = "copy", **kw) -> TrainConfig:
    base = dict(algorithm="dr_grpo", questions_per_step=2, group_size=2, max_response_tokens=6, disc_pretrain_questions=2,
                disc_pretrain_samples=2, disc_pretrain_max_epochs=1, disc_batch_size=8, max_steps=4, sft_steps=0,
                eval_every=0, val_accuracy_examples=2, val_loss_examples=2, checkpoint_every=100, warmup_steps=0,
                lr=1e-3, batch_size=4, device="cpu", num_threads=1,
                student=StudentConfig(family="hf", model=model_dir, disc_backbone=disc_backbone,
                                      lora=LoraConfig(r=r, alpha=8, dropout=0.0)))
    base.update(kw)
    return TrainConfig(**base)


def student_of(model_dirs, family, tiny_data, r=0):
    st = HFStudent.load(hf_cfg(model_dirs[family], r=r), "cpu")
    ds = st.dataset(tiny_data, ["train", "val"])
    return st, ds


def direct_logprobs(st: HFStudent, ds, row: int, response):
    """One row alone, no padding, the model's own positions: log_softmax of a plain forward at the response ids."""
    enc = st.encode(st.inputs(ds, [row]))
    r = torch.tensor([response])
    L = enc["input_ids"].shape[1]
    full = dict(enc, input_ids=torch.cat([enc["input_ids"], r], 1),
                attention_mask=torch.ones(1, L + len(response), dtype=torch.long))
    if "mm_token_type_ids" in enc:
        full["mm_token_type_ids"] = torch.cat([enc["mm_token_type_ids"], torch.zeros_like(r)], 1)
    with torch.no_grad():
        logits = st.hf.eval()(**full).logits[0, L - 1:L + len(response) - 1]  # [R,V]
    return F.log_softmax(logits.float(), -1).gather(1, r.view(-1, 1)).view(-1)


# ----------------------------------------------------------------------------------------------
# Sampling and scoring
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", FAMILIES)
def test_greedy_sampling_equals_model_generate_and_scores_equal_a_direct_forward(model_dirs, tiny_data, family):
    st, ds = student_of(model_dirs, family, tiny_data)
    rows = [0, 1, 2]  # two questions of different lengths: the shorter prompts are left-padded
    inputs = st.inputs(ds, rows)
    ours = st.generate(inputs, SamplingConfig(greedy=True, max_new_tokens=5, repetition_penalty=1.0))
    for k, row in enumerate(rows):  # (a) each row alone through transformers' own greedy generate
        enc = st.encode(st.inputs(ds, [row]))
        with torch.no_grad():
            ref = st.hf.generate(**enc, max_new_tokens=5, do_sample=False,  # placeholders are never sampled
                                 bad_words_ids=[[i] for i in st.placeholder_ids])[0, enc["input_ids"].shape[1]:].tolist()
        assert ours.tokens[k] == ref[:len(ours.tokens[k])]
    # (b) batched, padded scoring of other responses == a plain forward of each row alone
    responses = [st.tokenizer.encode_response("The answer is bar."), st.tokenizer.encode_response("no"),
                 ours.tokens[2]]
    lp, mask = st.score_responses(inputs, responses)
    assert mask.sum(1).tolist() == [len(r) for r in responses]
    for k, row in enumerate(rows):
        n = len(responses[k])
        assert torch.allclose(lp[k, :n], direct_logprobs(st, ds, row, responses[k]), atol=1e-5)
        assert float(lp[k, n:].abs().sum()) == 0.0  # padding carries nothing
    # the sampler's own log-probs (cached decoding) agree with the scoring pass (teacher-forced, uncached)
    sampled = st.generate(inputs, SamplingConfig(max_new_tokens=5), torch.Generator().manual_seed(3))
    lp, _ = st.score_responses(inputs, sampled.tokens)
    for k, r in enumerate(sampled.logprobs):
        assert torch.allclose(lp[k, :len(r)], torch.tensor(r), atol=1e-5)
    again = st.generate(inputs, SamplingConfig(max_new_tokens=5), torch.Generator().manual_seed(3))
    assert again.tokens == sampled.tokens  # rollouts are reproducible from the generator
    with pytest.raises(HFStudentError, match="KV cache"):
        st.generate(inputs, SamplingConfig(max_new_tokens=5, use_cache=False))


def test_teacher_text_is_tokenized_with_the_models_tokenizer_and_eos(model_dirs, tiny_data):
    st, _ = student_of(model_dirs, "qwen2vl", tiny_data)
    tk = st.processor.tokenizer
    ids = st.tokenizer.encode_response("The answer is bar.")
    assert ids == tk("The answer is bar.", add_special_tokens=False)["input_ids"] + [tk.eos_token_id]
    assert st.tokenizer.decode(ids + [5, 6]) == "The answer is bar."  # stops at eos
    assert st.tokenizer.encode_response("The answer is bar.", 3) == ids[:3]


def test_missing_model_and_unsupported_disc_backbone_are_clear_errors(model_dirs, tiny_data, tmp_path, capsys):
    with pytest.raises(HFStudentError, match="never downloads"):
        HFStudent.load(hf_cfg(str(tmp_path / "nowhere")), "cpu")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps({"algorithm": "sft", "max_steps": 1, "student": {"family": "hf", "model": "no/such-model"}}))
    assert main(["train", "--config", str(path), "--data", tiny_data, "--out", str(tmp_path / "run")]) == 2
    assert "cannot load the Hugging Face student 'no/such-model'" in capsys.readouterr().err
    with pytest.raises(HFStudentError, match="lora.r > 0"):
        HFStudent.load(hf_cfg(model_dirs["smolvlm"], r=0, disc_backbone="lora", algorithm="ril"), "cpu")


# ----------------------------------------------------------------------------------------------
# Training steps
# ----------------------------------------------------------------------------------------------


def test_sft_steps_lower_the_loss_on_a_fixed_batch(model_dirs, tiny_data):
    cfg = hf_cfg(model_dirs["smolvlm"], lr=3e-3)
    st, ds = student_of(model_dirs, "smolvlm", tiny_data)
    rows = [0, 1, 2, 3]
    inputs = st.inputs(ds, rows)
    responses = [st.tokenizer.encode_response(ds.examples[i].answer) for i in rows]
    opt = st.make_optimizer(cfg)
    losses = []
    st.policy.train()
    for _ in range(4):
        lp, mask = st.response_logprobs(inputs, responses)
        loss = sft_loss(lp, mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    lp, mask = st.score_responses(inputs, responses)
    assert float(sft_loss(lp, mask)) < losses[0] - 0.5  # random init: about log(V); a few steps learn the answers


def test_gradient_checkpointing_and_bf16_autocast_keep_the_numbers(model_dirs, tiny_data):
    dirs = model_dirs["smolvlm"]
    plain = HFStudent.load(hf_cfg(dirs), "cpu")
    ds = plain.dataset(tiny_data, ["train"])
    inputs = plain.inputs(ds, [0, 1])
    responses = [plain.tokenizer.encode_response("The answer is bar."), plain.tokenizer.encode_response("yes")]

    def grads(st):
        st.policy.train()
        lp, mask = st.response_logprobs(inputs, responses)
        sft_loss(lp, mask).backward()
        return lp.detach(), {n: p.grad.clone() for n, p in st.named_trainable() if p.grad is not None}

    lp0, g0 = grads(plain)
    ckpt_cfg = hf_cfg(dirs)
    ckpt_cfg.student.gradient_checkpointing = True
    lp1, g1 = grads(HFStudent.load(ckpt_cfg, "cpu"))  # activations recomputed in backward: same values
    assert torch.allclose(lp0, lp1, atol=1e-6) and set(g0) == set(g1)
    assert all(torch.allclose(g0[n], g1[n], atol=1e-6) for n in g0)
    bf16_cfg = hf_cfg(dirs)
    bf16_cfg.student.dtype = "bf16"
    bf16 = HFStudent.load(bf16_cfg, "cpu")
    lp2, mask = bf16.score_responses(inputs, responses)
    assert lp2.dtype == torch.float32 and not torch.equal(lp2, lp0)  # bf16 matmuls, fp32 log-softmax
    assert torch.allclose(lp2, lp0, atol=0.1)


def changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


@pytest.mark.parametrize("algorithm,family", [("dr_grpo", "qwen2vl"), ("ril", "smolvlm"), ("grpo", "qwen25vl")])
def test_rl_steps_run_with_finite_loss_and_change_the_trainable_weights(model_dirs, tiny_data, algorithm, family):
    torch.manual_seed(0)
    run = rl.RLRun(hf_cfg(model_dirs[family], algorithm=algorithm), tiny_data, "cpu")
    run.start_from(run.student.weights())
    before = run.student.weights()
    disc_before = {k: v.clone() for k, v in run.disc.state_dict().items()} if run.disc is not None else None
    m = run.step(0, run.train_idx[:2])
    assert all(torch.isfinite(torch.tensor(v)) for v in m.values())
    K = 4 if algorithm == "ril" else 2  # ril: G student + G teacher responses per question
    assert run.last_group["R"].shape == (2, K)
    assert changed(before, run.student.weights())
    if disc_before is not None:
        assert changed(disc_before, run.disc.state_dict()) and 0.0 <= m["disc/acc"] <= 1.0


def test_lora_trains_adapters_only_and_its_reference_is_the_model_with_adapters_off(model_dirs, tiny_data):
    torch.manual_seed(0)
    cfg = hf_cfg(model_dirs["smolvlm"], r=4, algorithm="ril", disc_backbone="lora")
    run = rl.RLRun(cfg, tiny_data, "cpu")
    run.start_from(run.student.weights())
    st = run.student
    assert st.reference is None and st.trainable and all(".lora_" in n for n in st.trainable)
    assert not any("vision" in n for n in st.trainable)  # adapters on the language model only
    base = HFStudent.load(hf_cfg(model_dirs["smolvlm"]), "cpu")  # the same weights without peft
    rows = run.train_idx[:2]
    responses = [st.tokenizer.encode_response("The answer is bar."), st.tokenizer.encode_response("I see: no!")]
    inputs = st.inputs(run.ds, rows)
    ref0, _ = st.score_responses(inputs, responses, reference=True)
    pol0, _ = st.score_responses(inputs, responses)
    plain, _ = base.score_responses(inputs, responses)
    assert torch.allclose(ref0, plain, atol=1e-6) and torch.allclose(pol0, plain, atol=1e-6)  # B = 0 at the start
    full_before = {k: v.clone() for k, v in st.hf.state_dict().items()}
    disc_before = {k: v.clone() for k, v in run.disc.state_dict().items()}
    run.step(0, rows)
    moved = changed(full_before, st.hf.state_dict())
    assert moved and all(".lora_" in k for k in moved)  # the base weights never move
    assert any(".default." in k for k in moved) and any(".disc." in k for k in moved)  # policy's and D's adapters
    assert changed(disc_before, run.disc.state_dict())
    assert set(st.weights()) == set(st.trainable) and not any(".disc." in k for k in st.weights())
    ref1, _ = st.score_responses(inputs, responses, reference=True)
    pol1, _ = st.score_responses(inputs, responses)
    assert torch.allclose(ref1, plain, atol=1e-6) and not torch.allclose(pol1, plain, atol=1e-4)


# ----------------------------------------------------------------------------------------------
# Runs: resume, the CLI
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("family,r,disc_backbone,sft_steps,stop", [("smolvlm", 4, "lora", 2, 1), ("qwen2vl", 0, "copy", 1, 2)])
def test_resumed_hf_run_equals_uninterrupted_run(model_dirs, tiny_data, tmp_path, capsys, family, r, disc_backbone,
                                                 sft_steps, stop):
    # LoRA with adapter dropout (the RNG state must be restored too) and D's own adapter, stopped in the SFT phase;
    # full fine-tuning with the reference copy and D's copy in the checkpoint, stopped in the RL phase
    cfg = hf_cfg(model_dirs[family], algorithm="ril", sft_steps=sft_steps, max_steps=3,
                 student=StudentConfig(family="hf", model=model_dirs[family], disc_backbone=disc_backbone,
                                       lora=LoraConfig(r=r, alpha=8, dropout=0.1)))
    full, part = tmp_path / "full", tmp_path / "part"
    rl.train(cfg, tiny_data, str(full))
    rl.train(dataclasses.replace(cfg, stop_after_step=stop), tiny_data, str(part))
    assert ckpt.load(str(part / "checkpoint.pt"))["step"] == stop
    rl.train(cfg, tiny_data, str(part))
    assert any('"event": "resumed"' in line for line in capsys.readouterr().out.splitlines())
    a, b = ckpt.load(str(full / "checkpoint.pt")), ckpt.load(str(part / "checkpoint.pt"))
    assert a["step"] == b["step"] == 3 and a["student"]["family"] == "hf"
    assert set(a["model"]) == set(b["model"]) and all(".lora_" in k for k in a["model"]) == (r > 0)
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert all(torch.equal(a["extra"]["disc"][k], b["extra"]["disc"][k]) for k in a["extra"]["disc"])
    if r > 0:
        assert a["extra"]["reference"] is None  # LoRA: the reference is the policy with its adapters off
    else:  # the frozen reference is the SFT student, not the final policy
        ref = a["extra"]["reference"]
        assert all(torch.equal(ref[k], b["extra"]["reference"][k]) for k in ref)
        assert not all(torch.equal(ref[k], a["model"][k]) for k in ref)


def test_cli_trains_an_hf_student_end_to_end_exports_and_evaluates_it(model_dirs, tiny_data, tmp_path):
    cfg = {"algorithm": "ril", "sft_steps": 1, "max_steps": 2, "questions_per_step": 2, "group_size": 2,
           "max_response_tokens": 6, "disc_pretrain_questions": 2, "disc_pretrain_samples": 2,
           "disc_pretrain_max_epochs": 1, "batch_size": 4, "val_loss_examples": 2, "val_accuracy_examples": 2,
           "warmup_steps": 0, "eval_every": 0, "num_threads": 1,
           "student": {"family": "hf", "model": "tiny-org/qwen2vl", "lora": {"r": 0}}}
    # a hub id served from a local Hugging Face cache (the layout huggingface_hub writes): nothing is downloaded
    snapshot = tmp_path / "hub" / "models--tiny-org--qwen2vl" / "snapshots" / "0123abcd"
    shutil.copytree(model_dirs["qwen2vl"], snapshot)
    (tmp_path / "hub" / "models--tiny-org--qwen2vl" / "refs").mkdir()
    (tmp_path / "hub" / "models--tiny-org--qwen2vl" / "refs" / "main").write_text("0123abcd")
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=here, OMP_NUM_THREADS="1", HF_HUB_CACHE=str(tmp_path / "hub"))
    out = tmp_path / "run"
    res = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(path), "--data", tiny_data,
                          "--out", str(out), "--device", "cpu"], capture_output=True, text=True, env=env, cwd=here,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    events = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "done" and events[-1]["step"] == 2
    assert {"policy/loss", "disc/acc", "reward/total"} <= {e["name"] for e in events if e["event"] == "metric"}
    state = ckpt.load(str(out / "checkpoint.pt"))
    assert state["student"]["model"] == "tiny-org/qwen2vl" and state["extra"]["reference"] is not None
    # export reads the family from the checkpoint (an hf bundle, test_export_hf.py); eval still refuses clearly
    res = subprocess.run([sys.executable, "-m", "ril_trainer", "export", "--checkpoint", str(out / "checkpoint.pt"),
                          "--out", str(tmp_path / "bundle"), "--variants", "fp32"], capture_output=True, text=True,
                         env=env, cwd=here, timeout=300)  # the hub cache of this env
    assert res.returncode == 0, res.stderr[-3000:]
    manifest = json.loads((tmp_path / "bundle" / "manifest.json").read_text())
    assert manifest["format_version"] == 3 and manifest["hf"]["base_model"] == "tiny-org/qwen2vl"
    # eval restores the student from the hub id's cached base model + the checkpoint's weights (test_hf_eval.py)
    res = subprocess.run([sys.executable, "-m", "ril_trainer", "eval", "--checkpoint", str(out / "checkpoint.pt"),
                          "--data", tiny_data, "--limit", "2", "--device", "cpu"], capture_output=True, text=True,
                         env=env, cwd=here, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    result = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")][-1]
    assert result["event"] == "result" and result["split"] == "test" and result["n"] == 2


def test_ril_of_a_lora_hf_student_on_two_gloo_ranks_equals_one_process(model_dirs, tiny_data, tmp_path):
    """The same data parallelism as the built-in family (tests/test_distributed.py): sharded questions, gradients of
    the trainable weights (the adapters; D's adapter and head) summed over the ranks. Adapter dropout 0: dropout
    draws from each rank's own RNG, so with dropout the ranks' masks differ from one process's."""
    cfg = {"algorithm": "ril", "questions_per_step": 2, "group_size": 2, "max_response_tokens": 6,
           "disc_pretrain_questions": 2, "disc_pretrain_samples": 2, "disc_pretrain_max_epochs": 1, "disc_batch_size": 8,
           "max_steps": 2, "sft_steps": 0, "eval_every": 0, "val_accuracy_examples": 0, "checkpoint_every": 100,
           "warmup_steps": 0, "lr": 1e-3, "policy_minibatches": 2, "mu": 2, "num_threads": 1,
           "rollout_seeding": "per_question",  # one process seeds its rollouts per question as the ranks must
           "student": {"family": "hf", "model": model_dirs["smolvlm"], "disc_backbone": "lora",
                       "lora": {"r": 4, "alpha": 8, "dropout": 0.0}}}
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def run(nproc: int):
        out = tmp_path / f"run{nproc}"
        res = subprocess.run([sys.executable, "-m", "ril_trainer", "train", "--config", str(path), "--data", tiny_data,
                              "--out", str(out), "--device", "cpu", "--threads", "1", "--nproc", str(nproc)],
                             capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"), cwd=here,
                             timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        ev = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
        return ev, ckpt.load(str(out / "checkpoint.pt"))

    (one_ev, one), (two_ev, two) = run(1), run(2)
    for name in ("policy/loss", "policy/grad_norm", "disc/loss", "reward/total"):
        a = [e["value"] for e in one_ev if e["event"] == "metric" and e["name"] == name]
        b = [e["value"] for e in two_ev if e["event"] == "metric" and e["name"] == name]
        assert len(a) == len(b) == 2 and all(abs(x - y) < 1e-6 for x, y in zip(a, b)), (name, a, b)
    assert set(one["model"]) == set(two["model"]) and all(".lora_" in k for k in one["model"])
    for a, b in ((one["model"], two["model"]), (one["extra"]["disc"], two["extra"]["disc"])):
        assert max(float((a[k] - b[k]).abs().max()) for k in a) < 5e-5  # test_distributed.py's WEIGHT_TOL
    # LoRA's B starts at 0, so |B| is how far the adapters moved: far more than the tolerance
    assert max(float(one["model"][k].abs().max()) for k in one["model"] if "lora_B" in k) > 5e-3
