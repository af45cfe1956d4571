"""GRPO / Dr.GRPO / RIL: the equations against hand-computed numbers, the step's order, resume."""
import json
import math

import pytest
import torch

from ril_trainer import checkpoint as ckpt
from ril_trainer import rl
from ril_trainer import tokenizer as tok
from ril_trainer.config import TrainConfig
from ril_trainer.discriminator import STUDENT, TEACHER, Discriminator, disc_loss, disc_probs, disc_update, \
    make_disc_optimizer
from ril_trainer.rl import ALGORITHMS, advantages, group_rewards, kl_k3, policy_loss


# ----------------------------------------------------------------------------------------------
# Equations
# ----------------------------------------------------------------------------------------------


def test_advantage_without_std_is_reward_minus_group_mean():
    R = torch.tensor([[2.0, 1.0, 0.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    assert advantages(R, std_normalise=False).tolist() == [[1.0, 0.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]


def test_advantage_with_std_divides_by_the_unbiased_group_std():
    R = torch.tensor([[1.0, 0.0, 0.0, 1.0], [3.0, 3.0, 3.0, 3.0]])
    s = math.sqrt((4 * 0.5 ** 2) / 3)  # unbiased std of [1, 0, 0, 1]
    a = 0.5 / (s + 1e-4)
    assert advantages(R, std_normalise=True)[0].tolist() == pytest.approx([a, -a, -a, a], rel=1e-6)
    assert advantages(R, std_normalise=True)[1].tolist() == [0.0, 0.0, 0.0, 0.0]  # equal rewards: no signal


def test_dr_grpo_normaliser_is_a_constant_and_grpo_averages_per_response():
    zero = torch.zeros(2, 3)
    mask = torch.tensor([[1, 1, 1], [1, 0, 0]])
    A = torch.tensor([1.0, -1.0])
    loss, _ = policy_loss(zero, zero, zero, A, mask, 0.2, 0.0, "token_sum", L=10)
    assert loss.item() == pytest.approx(-(1 * 3 + (-1) * 1) / (2 * 10))
    loss, _ = policy_loss(zero, zero, zero, A, mask, 0.2, 0.0, "response_mean", L=10)
    assert loss.item() == pytest.approx(-((1 * 3 / 3) + (-1 * 1 / 1)) / 2)


@pytest.mark.parametrize("aggregate", ["token_sum", "response_mean"])
def test_per_rank_shares_of_the_loss_sum_to_the_whole_batchs_loss_and_gradient(aggregate):
    """Data parallel (rl.py): rank r scores responses r, r+N, ... with n_responses = the whole minibatch's count."""
    g = torch.Generator().manual_seed(0)
    B, T = 6, 5
    logp = (torch.rand(B, T, generator=g) - 2).requires_grad_()
    old, ref = torch.rand(B, T, generator=g) - 2, torch.rand(B, T, generator=g) - 2
    A, kl_mask = torch.randn(B, generator=g), torch.tensor([1.0, 1.0, 0.0, 1.0, 0.0, 1.0])
    mask = torch.tensor([[1] * n + [0] * (T - n) for n in (5, 1, 3, 2, 4, 5)])
    whole, _ = policy_loss(logp, old, ref, A, mask, 0.2, 0.1, aggregate, 8, kl_mask)
    (full,) = torch.autograd.grad(whole, logp)
    shares = [policy_loss(logp[r::3], old[r::3], ref[r::3], A[r::3], mask[r::3], 0.2, 0.1, aggregate, 8, kl_mask[r::3],
                          n_responses=B)[0] for r in range(3)]
    assert sum(float(s) for s in shares) == pytest.approx(float(whole), rel=1e-6)
    (summed,) = torch.autograd.grad(sum(shares), logp)
    assert torch.allclose(summed, full, atol=1e-7)
    # a per-rank normaliser (each share over its own 2 responses) would be N = 3 times too large
    wrong = sum(float(policy_loss(logp[r::3], old[r::3], ref[r::3], A[r::3], mask[r::3], 0.2, 0.1, aggregate, 8,
                                  kl_mask[r::3])[0]) for r in range(3))
    assert wrong == pytest.approx(3 * float(whole), rel=1e-6)


def test_clip_takes_the_pessimistic_side():
    # four one-token responses: rho = 1.5, 1.5, 0.5, 0.5 with A = +1, -1, +1, -1
    logp = torch.log(torch.tensor([[1.5], [1.5], [0.5], [0.5]]))
    zero = torch.zeros(4, 1)
    A = torch.tensor([1.0, -1.0, 1.0, -1.0])
    loss, st = policy_loss(logp, zero, logp, A, torch.ones(4, 1), epsilon=0.2, beta=0.0, aggregate="token_sum", L=1)
    # min(1.5*1, 1.2*1) = 1.2; min(-1.5, -1.2) = -1.5; min(0.5, 0.8) = 0.5; min(-0.5, -0.8) = -0.8
    assert loss.item() == pytest.approx(-(1.2 - 1.5 + 0.5 - 0.8) / 4)
    assert st["clip_frac"].item() == 1.0
    loss, st = policy_loss(torch.log(torch.tensor([[1.1]])), torch.zeros(1, 1), torch.zeros(1, 1), torch.tensor([1.0]),
                           torch.ones(1, 1), 0.2, 0.0, "token_sum", 1)
    assert loss.item() == pytest.approx(-1.1) and st["clip_frac"].item() == 0.0


def test_k3_kl_by_hand():
    logp, ref = torch.log(torch.tensor([0.5])), torch.log(torch.tensor([0.25]))
    assert kl_k3(logp, ref).item() == pytest.approx(0.5 - math.log(0.5) - 1)  # exp(d) - d - 1, d = ln 0.5
    assert kl_k3(logp, logp).item() == 0.0
    # in the loss: A = 0, beta = 0.1, one token, L = 1 -> loss = beta * k3
    loss, st = policy_loss(logp[None], logp[None], ref[None], torch.zeros(1), torch.ones(1, 1), 0.2, 0.1, "token_sum", 1)
    assert loss.item() == pytest.approx(0.1 * (math.log(2) - 0.5))
    assert st["kl"].item() == pytest.approx(math.log(2) - 0.5)


def test_the_three_algorithms_on_one_fixed_batch():
    """One question; students (lengths 3,1,2; judge 1,0,0; D .9,.4,.8), teachers (2,2,1; judge 1,1,1; D .1,.6,.3).

    Every token: log pi = log pi_old = ln .5, log ref = ln .25 -> rho = 1, k3 = ln2 - 1/2; beta .1, L 4.
    """
    k, beta, L = math.log(2) - 0.5, 0.1, 4
    lens_s, lens_t = [3, 1, 2], [2, 2, 1]

    def batch(lens):
        mask = torch.tensor([[1] * n + [0] * (3 - n) for n in lens])
        return torch.full((len(lens), 3), math.log(0.5)), torch.full((len(lens), 3), math.log(0.25)), mask

    def loss_of(name, r_ans, D, lens):
        algo = ALGORITHMS[name]
        R, _ = group_rewards(algo, r_ans[None], None if D is None else D[None])
        A = advantages(R, algo.std_normalise)[0]
        lp, ref, mask = batch(lens)
        return policy_loss(lp, lp, ref, A, mask, 0.2, beta, algo.aggregate, L)[0].item()

    student = torch.tensor([1.0, 0.0, 0.0])
    # grpo: per-response means of A_i sum to 0 (rho = 1), so only the KL is left: -J = beta k
    assert loss_of("grpo", student, None, lens_s) == pytest.approx(beta * k, rel=1e-5)
    # dr_grpo: A = (2/3, -1/3, -1/3); sum A_i |o_i| = 2 - 1/3 - 2/3 = 1; 6 tokens; / (3 responses x L)
    assert loss_of("dr_grpo", student, None, lens_s) == pytest.approx(-(1 - beta * k * 6) / (3 * L), rel=1e-5)
    # ril: r_sim = (0,1,0 | 1,0,1); R = (1,1,0 | 2,1,2), mean 7/6; A = (-1,-1,-7 | 5,-1,5)/6
    r_ans = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0])
    D = torch.tensor([0.9, 0.4, 0.8, 0.1, 0.6, 0.3])
    sum_A_len = (-1 * 3 - 1 * 1 - 7 * 2 + 5 * 2 - 1 * 2 + 5 * 1) / 6
    assert loss_of("ril", r_ans, D, lens_s + lens_t) == pytest.approx(-(sum_A_len - beta * k * 11) / (6 * L), rel=1e-5)


def test_kl_on_student_tokens_only_by_hand():
    """Two responses, rho = 1: a student rollout (2 tokens, A = +1) and a teacher response (3 tokens, A = -1).

    log pi = ln .5 everywhere; student ref ln .25 -> k_s = ln2 - 1/2 per token; teacher ref ln .125 -> k_t = 2 ln2 - 3/4.
    """
    beta, L = 0.1, 4
    k_s, k_t = math.log(2) - 0.5, 2 * math.log(2) - 0.75
    logp = torch.full((2, 3), math.log(0.5))
    ref = torch.log(torch.tensor([[0.25, 0.25, 0.25], [0.125, 0.125, 0.125]]))
    mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
    A = torch.tensor([1.0, -1.0])
    is_student = torch.tensor([1.0, 0.0])
    every, st_all = policy_loss(logp, logp, ref, A, mask, 0.2, beta, "token_sum", L)
    student, st = policy_loss(logp, logp, ref, A, mask, 0.2, beta, "token_sum", L, kl_mask=is_student)
    assert every.item() == pytest.approx(-(2 - 3 - beta * (2 * k_s + 3 * k_t)) / (2 * L), rel=1e-6)
    assert student.item() == pytest.approx(-(2 - 3 - beta * 2 * k_s) / (2 * L), rel=1e-6)  # normaliser unchanged
    assert every.item() - student.item() == pytest.approx(beta * 3 * k_t / (2 * L), rel=1e-5)  # the teacher's KL / (B L)
    assert st["kl"].item() == pytest.approx(k_s, rel=1e-6)  # the mean over student tokens
    assert st_all["kl"].item() == pytest.approx((2 * k_s + 3 * k_t) / 5, rel=1e-6)
    # response_mean: the teacher's term loses its KL only
    rm, _ = policy_loss(logp, logp, ref, A, mask, 0.2, beta, "response_mean", L, kl_mask=is_student)
    assert rm.item() == pytest.approx(-((1 - beta * k_s) + (-1)) / 2, rel=1e-6)


def test_ril_reward_is_similarity_plus_answer():
    R, r_sim = group_rewards(ALGORITHMS["ril"], torch.tensor([[1.0, 0.0, 1.0]]), torch.tensor([[0.49, 0.5, 0.9]]))
    assert r_sim.tolist() == [[1.0, 0.0, 0.0]]  # strictly below 0.5 looks like a teacher
    assert R.tolist() == [[2.0, 0.0, 1.0]]


# ----------------------------------------------------------------------------------------------
# The discriminator
# ----------------------------------------------------------------------------------------------


def test_label_convention_student_is_one(nano):
    assert (STUDENT, TEACHER) == (1.0, 0.0)
    assert disc_loss(torch.zeros(2), torch.tensor([1.0, 0.0])).item() == pytest.approx(math.log(2))
    torch.manual_seed(0)
    disc = Discriminator(nano)
    opt = make_disc_optimizer(disc, 3e-3)
    stu, tea = [104, 105, 258], [84, 104, 101, 32, 97, 258]  # "hi" vs "The a"
    for _ in range(30):
        disc_update(disc, opt, ["q", "q"], [stu, tea], [STUDENT, TEACHER], grad_clip=1.0)
    p = disc_probs(disc, ["q", "q"], [stu, tea])
    assert p[0] > 0.5 > p[1]  # D = P(student)


def test_discriminator_starts_from_the_students_language_model(nano):
    disc = Discriminator(nano, with_question=True)
    for name, p in nano.named_parameters():
        if not name.startswith(("vision", "projector")):
            assert torch.equal(dict(disc.lm.named_parameters())[name], p), name
    assert not hasattr(disc.lm, "vision") and disc.head.out_features == 1
    assert disc.input_ids(["ab"], [[1, 258]]) == [[257, 97, 98, 259, 1, 258]]
    # the head reads the last real token: padding a batch does not change a row's output
    one = disc_probs(disc, ["q"], [[5, 6, 258]])
    two = disc_probs(disc, ["q", "q"], [[5, 6, 258], [5, 6, 7, 8, 9, 258]])
    assert one[0].item() == pytest.approx(two[0].item(), abs=1e-6)


# ----------------------------------------------------------------------------------------------
# One RL step: group layout, order, rewards of teacher responses
# ----------------------------------------------------------------------------------------------


def rl_cfg(**kw) -> TrainConfig:
    base = dict(algorithm="ril", model="nano", questions_per_step=2, group_size=2, max_response_tokens=24,
                disc_pretrain_questions=4, disc_pretrain_samples=2, disc_batch_size=8, max_steps=4, sft_steps=0,
                eval_every=0, val_accuracy_examples=4, checkpoint_every=100, warmup_steps=0, lr=1e-3,
                device="cpu", num_threads=1)
    base.update(kw)
    return TrainConfig(**base)


def test_teacher_responses_are_in_the_group_and_get_both_rewards(tiny_data, monkeypatch):
    run = rl.RLRun(rl_cfg(), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    fixed = torch.tensor([0.9, 0.8, 0.2, 0.3, 0.7, 0.1, 0.4, 0.6])  # D per response, [Q*2G]
    monkeypatch.setattr(rl, "disc_probs", lambda disc, q, r: fixed)
    rows = run.train_idx[:2]
    m = run.step(0, rows)
    g = run.last_group
    assert g["is_teacher"].tolist() == [[False, False, True, True]] * 2  # G student then G teacher responses
    texts = [run.tok.decode(r) for r in g["responses"]]
    answers = [run.ds.examples[i].answer for i in rows]
    assert texts[2] in (f"The answer is {answers[0]}.", f"I see: {answers[0]}!")  # tiny_data's teachers
    assert {texts[2].split()[0], texts[3].split()[0]} == {"The", "I"}  # round-robin over both teachers
    assert g["r_ans"][g["is_teacher"]].tolist() == [1.0] * 4  # the judge grades teacher text too
    assert g["r_sim"].view(-1).tolist() == (fixed < 0.5).float().tolist()
    assert torch.equal(g["R"], g["r_sim"] + g["r_ans"])
    assert torch.allclose(g["A"], g["R"] - g["R"].mean(1, keepdim=True))  # mean over all 2G
    assert m["reward/sim_teacher"] == pytest.approx(0.75) and m["reward/answer_teacher"] == 1.0


def test_discriminator_updates_before_the_rewards(tiny_data, monkeypatch):
    run = rl.RLRun(rl_cfg(), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    calls = []
    real_update, real_probs = rl.disc_update, rl.disc_probs

    def update(disc, opt, q, r, labels, clip):
        calls.append(("update", list(labels)))
        return real_update(disc, opt, q, r, labels, clip)

    def probs(disc, q, r):
        calls.append(("probs", None))
        return real_probs(disc, q, r)

    monkeypatch.setattr(rl, "disc_update", update)
    monkeypatch.setattr(rl, "disc_probs", probs)
    run.step(0, run.train_idx[:2])
    assert [c[0] for c in calls] == ["update", "probs"]
    assert calls[0][1] == [STUDENT, STUDENT, TEACHER, TEACHER] * 2


@pytest.mark.parametrize("kl_tokens,expected", [("student", [1.0, 1.0, 0.0, 0.0] * 2), ("all", [1.0] * 8)])
def test_step_applies_the_kl_to_the_students_rollouts_only_by_default(tiny_data, monkeypatch, kl_tokens, expected):
    run = rl.RLRun(rl_cfg(kl_tokens=kl_tokens), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    seen = []
    real = rl.policy_loss

    def spy(*args, **kw):
        seen.append(args[9].tolist())  # kl_mask
        return real(*args, **kw)

    monkeypatch.setattr(rl, "policy_loss", spy)
    run.step(0, run.train_idx[:2])
    assert seen == [expected]  # G student then G teacher responses per question


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_rl_learning_rate_is_constant_by_default(tiny_data, schedule):
    # 2 SFT + 4 RL steps; cosine: warmup 2 -> 1e-3 * (1/2, 2/2), then cos from 1e-3 to 1e-4 over the 2 remaining steps
    cfg = rl_cfg(algorithm="dr_grpo", rl_lr_schedule=schedule, lr=1e-3, warmup_steps=2, sft_steps=2, max_steps=6,
                 questions_per_step=1)
    assert TrainConfig().rl_lr_schedule == "constant"
    run = rl.RLRun(cfg, tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    lrs = [run.step(step, run.train_idx[:1])["policy/lr"] for step in range(2, 6)]
    assert run.optimizer.param_groups[0]["lr"] == lrs[-1]
    if schedule == "constant":
        assert lrs == [1e-3] * 4
    else:
        assert lrs == pytest.approx([5e-4, 1e-3, 1e-3, 1e-3 * (0.1 + 0.9 * 0.5)], rel=1e-12)


@pytest.mark.parametrize("name", ["grpo", "dr_grpo"])
def test_baselines_have_student_only_groups(tiny_data, name):
    run = rl.RLRun(rl_cfg(algorithm=name), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    m = run.step(0, run.train_idx[:2])
    assert run.disc is None and run.last_group["R"].shape == (2, 2)
    assert not run.last_group["is_teacher"].any() and "reward/sim_student" not in m


# ----------------------------------------------------------------------------------------------
# Discriminator pre-training
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("disc_input", ["response", "question_response"])
def test_discriminator_pretraining_reaches_its_target_on_every_question(tiny_data, disc_input, capsys):
    cfg = rl_cfg(disc_input=disc_input, disc_pretrain_questions=0, disc_pretrain_samples=16, disc_lr=1e-3,
                 disc_pretrain_target_acc=0.9, disc_pretrain_max_epochs=20)
    run = rl.RLRun(cfg, tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    before = {k: v.clone() for k, v in run.disc.state_dict().items()}
    out = run.pretrain_discriminator()
    # 16 training questions (all have cached responses); k = min(16, 4 cached) = 4 student + 4 teacher each
    assert out["disc/pretrain_questions"] == 16 and out["disc/pretrain_responses"] == 16 * 8
    assert out["disc/pretrain_heldout_acc"] >= 0.9 and 1 <= out["disc/pretrain_epochs"] < 20
    assert any(not torch.equal(before[k], v) for k, v in run.disc.state_dict().items())
    err = capsys.readouterr().err
    assert err.count("discriminator pre-training epoch") == out["disc/pretrain_epochs"] and "WARNING" not in err


def test_discriminator_pretraining_stops_at_the_target_or_warns_after_max_epochs(tiny_data, monkeypatch, capsys):
    monkeypatch.setattr(rl, "disc_probs", lambda disc, q, r: torch.full((len(r),), 0.5))  # "student" for all: acc 1/2
    run = rl.RLRun(rl_cfg(disc_pretrain_target_acc=0.5, disc_pretrain_max_epochs=3), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    out = run.pretrain_discriminator()
    assert out["disc/pretrain_epochs"] == 1 and out["disc/pretrain_heldout_acc"] == 0.5
    assert "WARNING" not in capsys.readouterr().err
    run = rl.RLRun(rl_cfg(disc_pretrain_target_acc=0.9, disc_pretrain_max_epochs=3), tiny_data, "cpu")
    run.start_from(run.policy.state_dict())
    out = run.pretrain_discriminator()
    assert out["disc/pretrain_epochs"] == 3 and out["disc/pretrain_heldout_acc"] == 0.5
    err = capsys.readouterr().err
    assert err.count("held-out acc 0.5000") == 3 and "WARNING: discriminator pre-training stopped at 0.5000" in err


# ----------------------------------------------------------------------------------------------
# The run: metrics, checkpoint contents, resume
# ----------------------------------------------------------------------------------------------

BLUEPRINT_METRICS = ["reward/sim_student", "reward/sim_teacher", "reward/answer_student", "reward/answer_teacher",
                     "reward/total", "disc/loss", "disc/acc", "policy/loss", "policy/kl", "policy/clip_frac",
                     "gen/len_mean", "time/rollout_s", "time/disc_s", "time/policy_s"]


def events(out: str):
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_nano_ril_run_end_to_end_with_sft_warm_start(tiny_data, tmp_path, capsys):
    final = rl.train(rl_cfg(sft_steps=3, max_steps=6, batch_size=4, val_loss_examples=4, max_response_tokens=0,
                            tokenizer="byte"),  # byte: the budgets below are counted by hand
                     tiny_data, str(tmp_path))
    ev = events(capsys.readouterr().out)
    # auto budgets (test_budget.py): the SFT phase's from the answers (7), the RL phase's from teachers + answers (22)
    assert [e["response_budget"]["tokens"] for e in ev if e["event"] == "start"] == [7, 22]
    assert {(e["step"], e["value"]) for e in ev if e["event"] == "metric" and e["name"] == "data/budget_tokens"} \
        == {(0, 7), (3, 22)}
    names = {e["name"] for e in ev if e["event"] == "metric" and e["step"] == 4}
    assert set(BLUEPRINT_METRICS) <= names
    assert {"eval/val/accuracy", "eval/val/teacher_likeness"} <= set(final)
    assert [e["event"] for e in ev].count("done") == 1 and ev[-1]["event"] == "done"
    assert {e["step"] for e in ev if e["event"] == "checkpoint"} >= {3, 6}
    assert all(e["path"] == str(tmp_path / "checkpoint.pt") for e in ev if e["event"] == "checkpoint")
    assert {"disc/pretrain_heldout_acc", "disc/pretrain_epochs", "data/truncated_frac"} \
        <= {e["name"] for e in ev if e["event"] == "metric" and e["step"] == 3}
    state = ckpt.load(str(tmp_path / "checkpoint.pt"))
    assert state["train_config"]["max_response_tokens"] == 22  # what `eval` of this checkpoint generates up to
    assert state["step"] == 6 and state["extra"]["phase"] == "rl"
    assert state["extra"]["disc"] is not None and state["extra"]["disc_optimizer"]["state"]
    sft_state = state["extra"]["reference"]  # the frozen reference is the SFT student of step 3
    assert not all(torch.equal(sft_state[k], state["model"][k]) for k in sft_state)


@pytest.mark.parametrize("stop", [2, 4])  # inside the SFT warm start, inside the RL phase
def test_resumed_ril_run_equals_uninterrupted_run(tiny_data, tmp_path, capsys, stop):
    cfg = dict(sft_steps=3, max_steps=6, batch_size=4, val_loss_examples=4, model_overrides={"dropout": 0.1})
    full = tmp_path / "full"
    rl.train(rl_cfg(**cfg), tiny_data, str(full))
    full_ev = events(capsys.readouterr().out)
    part = tmp_path / "part"
    rl.train(rl_cfg(stop_after_step=stop, **cfg), tiny_data, str(part))
    assert ckpt.load(str(part / "checkpoint.pt"))["step"] == stop
    rl.train(rl_cfg(**cfg), tiny_data, str(part))
    part_ev = events(capsys.readouterr().out)
    a, b = ckpt.load(str(full / "checkpoint.pt")), ckpt.load(str(part / "checkpoint.pt"))
    for key in ("model", ):
        assert all(torch.equal(a[key][k], b[key][k]) for k in a[key])
    assert all(torch.equal(a["extra"]["disc"][k], b["extra"]["disc"][k]) for k in a["extra"]["disc"])

    def rl_metrics(ev):  # the RL steps' metrics (timings differ)
        return {(e["step"], e["name"]): e["value"] for e in ev if e["event"] == "metric" and e["step"] > 4
                and not e["name"].startswith("time/")}
    assert rl_metrics(full_ev) == rl_metrics(part_ev) and rl_metrics(full_ev)


def test_cli_trains_every_rl_algorithm(tiny_data, tmp_path):
    from ril_trainer.train import ALGORITHMS as CLI, register_builtin
    register_builtin()
    assert {"sft", "grpo", "dr_grpo", "ril"} <= set(CLI) and CLI["ril"] is rl.train
