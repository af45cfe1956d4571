"""Peer cross-check: our GRPO / Dr.GRPO loss and gradients equal TRL's GRPOTrainer on one fixed batch.

One tiny Qwen2ForCausalLM (random weights from a seeded config, saved to a temp dir so TRL can build its
reference model offline), 2 prompts x G = 4 fixed completions of unequal lengths, fixed rewards. TRL's side
is TRL's own code: GRPOTrainer._generate_and_score_completions (rollouts supplied by a rollout_func that
returns the fixed completions, rewards by a reward function that returns the fixed rewards) computes its
advantages and padded batch; GRPOTrainer.compute_loss computes its loss. Our side: rl.group_rewards,
rl.advantages and rl.policy_loss on log-probs scored row by row without padding.

Both sides get the same pi_old and reference log-probs (fixed perturbations of the current ones, so the
ratio leaves the clip range and the KL is not zero). Where the defaults differ, both sides are set alike:
- Dr.GRPO's constant L: TRL's max_completion_length = our response budget (pinned: L = T' rescales exactly);
- Dr.GRPO's advantage: TRL needs scale_rewards="none" besides loss_type="dr_grpo" (pinned: GRPO's advantage
  is Dr.GRPO's divided by the group std + 1e-4, on both sides);
- KL: both k3 with beta on the per-token loss before aggregation; TRL's default use_bias_correction_kl
  weights it by the ratio (off here; pinned: the gradient gap is exactly beta k3 d log pi); our optional
  student-only KL rows (kl_mask) equal TRL with the reference := pi on the other rows (pinned);
- precision: TRL autocasts to bf16 by default, also on CPU (bf16=False here, else log-probs differ ~1e-3);
- temperature: TRL divides the logits by it when scoring, ours scores the raw model (temperature=1.0 here);
- clip: both symmetric epsilon (TRL's epsilon_high defaults to epsilon, delta=None); TRL's loss is divided by
  its gradient-accumulation steps (1 here). The clip metrics differ by definition and are not compared.

Needs trl + transformers (torch >= 2.6): .venv-hf (scripts/ensure-hf.sh); skipped on Debian's torch 1.13.
Run: cd functions/trainer && ../../.venv-hf/bin/python -m pytest -q tests/test_trl_crosscheck.py
"""
from __future__ import annotations

import pytest
import torch

try:
    import transformers
    from datasets import Dataset
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
    from trl import GRPOConfig, GRPOTrainer
    HF_MISSING = None if transformers.utils.is_torch_available() else \
        f"transformers disabled PyTorch {torch.__version__} (it needs >= 2.6)"
except ImportError as e:  # the torch 1.13 venv (no HF stack) runs the same directory
    HF_MISSING = f"the TRL cross-check needs trl + transformers (torch >= 2.6, .venv-hf): {e}"

# Skipped tests rather than a module-level skip: run alone, a file that collects nothing exits 5 (failure).
# rollout_func is marked experimental; TRL's config sets gradient_checkpointing, which transformers renames.
pytestmark = [pytest.mark.skipif(HF_MISSING is not None, reason=str(HF_MISSING)),
              pytest.mark.filterwarnings("ignore:You are using 'rollout_func'"),
              pytest.mark.filterwarnings("ignore:.*gradient_checkpointing.*is deprecated:FutureWarning")]

from ril_trainer.rl import ALGORITHMS, advantages, group_rewards, kl_k3, policy_loss

EPSILON = 0.2        # clip: ours is symmetric; TRL's epsilon_high defaults to epsilon (and delta=None: no 2-sided clip)
BETA = 0.04          # ours defaults to 0.01, TRL's to 0.0: any equal non-zero value exercises the KL term
MAX_COMPLETION = 6   # TRL's Dr.GRPO constant; the longest completion below is T' = 4 < 6
G = 4
WORDS = ["<pad>", "<eos>"] + [f"w{i}" for i in range(30)]
PAD, EOS = 0, 1
PROMPTS = ["w1 w2 w3", "w4 w5"]
PROMPT_IDS = [[3, 4, 5], [6, 7]]  # unequal lengths: TRL left-pads the prompts
# G completions per prompt, prompt-major; some end in <eos>, some are cut at the budget; TRL right-pads them
COMPLETIONS = [[5, 6, EOS], [7, EOS], [8, 9, 10, 11], [12],
               [13, 14, EOS], [15, EOS], [16], [17, 18, 19, 20]]
REWARDS = [1.0, 0.0, 2.0, 1.0,
           0.0, 0.0, 1.0, 3.0]


# ----------------------------------------------------------------------------------------------
# Plumbing: the tiny model, TRL's trainer on it, our scorer
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    torch.manual_seed(0)
    cfg = Qwen2Config(vocab_size=len(WORDS), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      pad_token_id=PAD, eos_token_id=EOS, attention_dropout=0.0)
    d = str(tmp_path_factory.mktemp("qwen2-tiny"))
    Qwen2ForCausalLM(cfg).save_pretrained(d)
    return d


def tokenizer() -> PreTrainedTokenizerFast:
    raw = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="w0"))
    raw.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<eos>", pad_token="<pad>")


def fixed_rollout(prompts, trainer):
    """TRL's rollout_func: the fixed completions for the G copies of each prompt it is handed."""
    assert prompts == [p for p in PROMPTS for _ in range(G)], prompts
    return {"prompt_ids": [PROMPT_IDS[PROMPTS.index(p)] for p in prompts], "completion_ids": COMPLETIONS,
            "logprobs": [[0.0] * len(c) for c in COMPLETIONS], "fixed_reward": REWARDS}


def fixed_reward(prompts, completions, fixed_reward, **kw):
    return fixed_reward


def trl_trainer(model_dir: str, tmp_path, loss_type: str, scale_rewards: str, bias_correction_kl: bool) -> GRPOTrainer:
    # use_bias_correction_kl: TRL's default True multiplies the KL term by the ratio; ours has no such
    # factor (test_trls_default_kl_bias_correction_adds_exactly_kl_times_grad_logp pins the difference).
    args = GRPOConfig(output_dir=str(tmp_path / f"trl-{loss_type}-{scale_rewards}-{bias_correction_kl}"),
                      loss_type=loss_type, use_bias_correction_kl=bias_correction_kl,
                      scale_rewards=scale_rewards, beta=BETA, epsilon=EPSILON, temperature=1.0,
                      num_generations=G, per_device_train_batch_size=len(COMPLETIONS),
                      max_completion_length=MAX_COMPLETION, max_steps=1, use_cpu=True, report_to="none",
                      save_strategy="no", seed=0,
                      bf16=False)  # TRL defaults to bf16 autocast (also on CPU): log-probs off by ~1e-3
    tr = GRPOTrainer(model=model_dir, reward_funcs=fixed_reward, args=args, processing_class=tokenizer(),
                     train_dataset=Dataset.from_dict({"prompt": PROMPTS * G}), rollout_func=fixed_rollout)
    tr.model.train()
    tr.current_gradient_accumulation_steps = 1  # set by Trainer's training loop; one micro-batch here
    return tr


def trl_batch(tr: GRPOTrainer) -> dict:
    """TRL's own padded batch and advantages for the fixed rollouts and rewards."""
    return tr._generate_and_score_completions([{"prompt": p} for p in PROMPTS for _ in range(G)])


def our_logprobs(model, T: int):
    """log pi(o_t | q, o_<t) per completion token, each row scored alone (no padding): logp, mask [B,T]."""
    logp, mask = torch.zeros(len(COMPLETIONS), T), torch.zeros(len(COMPLETIONS), T)
    for b, (c, row) in enumerate(zip(COMPLETIONS, [p for p in PROMPT_IDS for _ in range(G)])):
        ids = torch.tensor([row + c])  # [1, P+C]
        logits = model(input_ids=ids).logits[0, len(row) - 1:-1]  # [C,V]: position t predicts o_t
        lp = torch.log_softmax(logits.float(), -1).gather(1, torch.tensor(c)[:, None])[:, 0]  # [C]
        logp = logp.index_put((torch.tensor([b]), torch.arange(len(c))), lp)
        mask[b, :len(c)] = 1.0
    return logp, mask


def fixed_old_and_ref(logp: torch.Tensor, mask: torch.Tensor):
    """pi_old and reference log-probs: the current ones moved by seeded noise (ratio in ~[0.5, 2])."""
    g = torch.Generator().manual_seed(1)
    old = (logp.detach() + 0.35 * torch.randn(logp.shape, generator=g)) * mask
    ref = (logp.detach() + 0.5 * torch.randn(logp.shape, generator=g)) * mask
    return old, ref


def trl_loss_and_grads(tr: GRPOTrainer, batch: dict):
    tr.model.zero_grad(set_to_none=True)
    loss = tr.compute_loss(tr.model, batch)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in tr.model.named_parameters()}


def our_loss_and_grads(model, algorithm: str, old, ref, L: int, kl_mask=None):
    algo = ALGORITHMS[algorithm]
    R, _ = group_rewards(algo, torch.tensor(REWARDS).view(len(PROMPTS), G), None)  # [Q,G]
    A = advantages(R, algo.std_normalise).reshape(-1)  # [B]
    model.zero_grad(set_to_none=True)
    logp, mask = our_logprobs(model, old.shape[1])
    loss, stats = policy_loss(logp, old, ref, A, mask, EPSILON, BETA, algo.aggregate, L, kl_mask)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}, A, stats


def assert_same(ours, trl):
    (l_ours, g_ours), (l_trl, g_trl) = ours, trl
    assert abs(l_ours.item() - l_trl.item()) < 1e-5, (l_ours.item(), l_trl.item())
    assert g_ours.keys() == g_trl.keys()
    for n in g_ours:
        torch.testing.assert_close(g_ours[n], g_trl[n], rtol=0, atol=1e-5, msg=lambda m: f"{n}: {m}")
    assert any(g.abs().max() > 1e-3 for g in g_ours.values())  # the gradients compared are not all ~0


# ----------------------------------------------------------------------------------------------
# The cross-checks
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def setup(model_dir, tmp_path_factory):
    """Our copy of the model, TRL's trainer per setting, the shared pi_old / reference log-probs."""
    tmp = tmp_path_factory.mktemp("trl")
    ours = Qwen2ForCausalLM.from_pretrained(model_dir).train()
    trainers = {(lt, sr, bc): trl_trainer(model_dir, tmp, lt, sr, bc)
                for lt, sr, bc in (("dr_grpo", "none", False), ("grpo", "group", False), ("dr_grpo", "none", True))}
    batch = trl_batch(trainers["grpo", "group", False])
    T = batch["completion_ids"].shape[1]
    with torch.no_grad():
        logp, mask = our_logprobs(ours, T)
    assert torch.equal(mask, batch["completion_mask"].float())  # TRL right-pads completions to T' = 4
    old, ref = fixed_old_and_ref(logp, mask)
    return ours, trainers, old, ref, T


def with_logps(batch: dict, old, ref) -> dict:
    return {**batch, "old_per_token_logps": old, "ref_per_token_logps": ref}


def test_dr_grpo_loss_and_gradients_equal_trl(setup):
    ours, trainers, old, ref, T = setup
    tr = trainers["dr_grpo", "none", False]
    batch = trl_batch(tr)
    # Dr.GRPO = TRL loss_type="dr_grpo" AND scale_rewards="none": loss_type alone keeps TRL's default
    # scale_rewards="group" (std-normalised advantages), which is GRPO's advantage, not Dr.GRPO's.
    l_ours, g_ours, A, stats = our_loss_and_grads(ours, "dr_grpo", old, ref, L=MAX_COMPLETION)
    torch.testing.assert_close(A, batch["advantages"], rtol=0, atol=1e-6)
    assert stats["clip_frac"] > 0 and stats["kl"] > 0  # the clip and the KL both act on this batch
    assert_same((l_ours, g_ours), trl_loss_and_grads(tr, with_logps(batch, old, ref)))

    # Difference: Dr.GRPO's constant L. TRL divides by max_completion_length; ours by the response budget
    # (max_response_tokens, budget.py). They agree when L = max_completion_length (above). With L = T' (the
    # longest completion of the batch) ours is TRL's scaled by max_completion_length / T', nothing else.
    l_short, *_ = our_loss_and_grads(ours, "dr_grpo", old, ref, L=T)
    assert T < MAX_COMPLETION
    assert abs(l_short.item() - l_ours.item() * MAX_COMPLETION / T) < 1e-6


def test_grpo_loss_and_gradients_equal_trl(setup):
    ours, trainers, old, ref, T = setup
    tr = trainers["grpo", "group", False]
    batch = trl_batch(tr)
    # GRPO = TRL loss_type="grpo" with scale_rewards="group": A = (R - mean) / (unbiased std + 1e-4) per
    # group of G (the same eps 1e-4 on both sides), each response's token terms averaged over its length.
    l_ours, g_ours, A, stats = our_loss_and_grads(ours, "grpo", old, ref, L=MAX_COMPLETION)
    torch.testing.assert_close(A, batch["advantages"], rtol=0, atol=1e-5)
    assert stats["clip_frac"] > 0
    assert_same((l_ours, g_ours), trl_loss_and_grads(tr, with_logps(batch, old, ref)))

    # The two settings' advantages differ by exactly the group std + eps (the only difference of the
    # advantage between GRPO and Dr.GRPO, on both sides).
    R = torch.tensor(REWARDS).view(len(PROMPTS), G)
    scale = (R.std(dim=1, keepdim=True) + 1e-4).expand(-1, G).reshape(-1)
    torch.testing.assert_close(batch["advantages"] * scale, trl_batch(trainers["dr_grpo", "none", False])["advantages"],
                               rtol=0, atol=1e-6)


def test_student_only_kl_equals_trl_with_the_reference_set_to_pi_on_teacher_rows(setup):
    ours, trainers, old, ref, T = setup
    tr = trainers["dr_grpo", "none", False]
    batch = trl_batch(tr)
    # Difference: the KL's rows. RIL applies beta * k3 to the student's rollouts only (kl_mask, kl_tokens =
    # "student"); TRL applies it to every completion. k3 and its gradient are 0 where ref == logp, so ours
    # with kl_mask m equals TRL's with the reference log-probs replaced by pi's own (detached) where m = 0.
    kl_mask = torch.tensor([1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0])  # 0: "teacher" rows
    l_ours, g_ours, _, _ = our_loss_and_grads(ours, "dr_grpo", old, ref, L=MAX_COMPLETION, kl_mask=kl_mask)
    with torch.no_grad():
        logp, mask = our_logprobs(ours, T)
    ref_trl = torch.where(kl_mask[:, None].bool(), ref, logp * mask)
    assert_same((l_ours, g_ours), trl_loss_and_grads(tr, with_logps(batch, old, ref_trl)))
    l_all, *_ = our_loss_and_grads(ours, "dr_grpo", old, ref, L=MAX_COMPLETION)
    assert abs(l_all.item() - l_ours.item()) > 1e-4  # the mask changes the loss: the check above has teeth


def test_trls_default_kl_bias_correction_adds_exactly_kl_times_grad_logp(setup):
    ours, trainers, old, ref, T = setup
    tr = trainers["dr_grpo", "none", True]
    batch = trl_batch(tr)
    # Difference: TRL's default use_bias_correction_kl=True weights the per-token KL by the ratio rho (DeepSeek-V3.2's
    # unbiased reverse-KL gradient); ours is the paper's plain beta * k3. On-policy (pi_old = pi, rho = 1) the loss
    # values agree, and d(rho k3) = d k3 + k3 d log pi, so TRL's gradient is ours plus that of
    # beta * sum_t k3_t.detach() * log pi_t / (B L).
    with torch.no_grad():
        logp, mask = our_logprobs(ours, T)
    on_policy = logp * mask
    l_ours, g_ours, _, _ = our_loss_and_grads(ours, "dr_grpo", on_policy, ref, L=MAX_COMPLETION)
    l_trl, g_trl = trl_loss_and_grads(tr, with_logps(batch, on_policy, ref))
    assert abs(l_ours.item() - l_trl.item()) < 1e-5
    ours.zero_grad(set_to_none=True)
    lp, _ = our_logprobs(ours, T)
    extra = BETA * (kl_k3(lp, ref).detach() * lp * mask).sum() / (len(COMPLETIONS) * MAX_COMPLETION)
    extra.backward()
    g_extra = {n: p.grad.clone() for n, p in ours.named_parameters()}
    assert max((g_trl[n] - g_ours[n]).abs().max().item() for n in g_ours) > 1e-4  # the factor matters here
    assert_same((l_ours, {n: g_ours[n] + g_extra[n] for n in g_ours}), (l_trl, g_trl))
