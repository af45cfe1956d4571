import os, tempfile
import os, time, sys
os.environ["HF_HUB_OFFLINE"] = "1"; os.environ["WANDB_DISABLED"] = "true"
import torch
sys.argv = [sys.argv[0], "qwen2vl"]
exec(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "smoke.py")).read().split("which = sys.argv")[0])  # reuse helpers (make_tokenizer etc.)
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM
from peft import LoraConfig, get_peft_model
# --- peft LoRA on the tiny SmolVLM text backbone: adapters-off reference, grad checkpointing
from transformers import SmolVLMConfig
t0 = time.time()
raw = make_tokenizer(["<|endoftext|>", "<pad>", "<image>"])
tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|endoftext|>", pad_token="<pad>", unk_token=None)
cfg = SmolVLMConfig(vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32, patch_size=8),
                    text_config=dict(model_type="llama", vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2),
                    image_token_id=tok.convert_tokens_to_ids("<image>"))
m = AutoModelForImageTextToText.from_config(cfg)
m.gradient_checkpointing_enable()
pm = get_peft_model(m, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
pm.print_trainable_parameters()
ids = torch.randint(0, 300, (2, 12))
pm.train(); out = pm(input_ids=ids, labels=ids); out.loss.backward()
with torch.no_grad(), pm.disable_adapter():
    ref = pm(input_ids=ids).logits
print("peft LoRA fwd/bwd ok, ref(adapters off) logits", tuple(ref.shape), "%.1fs" % (time.time() - t0))
# --- TRL GRPOTrainer, dr_grpo, tiny text model, 1 step, offline
from datasets import Dataset
from trl import GRPOConfig, GRPOTrainer
t0 = time.time()
tok.chat_template = None
lm = Qwen2ForCausalLM(Qwen2Config(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=1,
                                  pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id))
ds = Dataset.from_dict({"prompt": ["what is in the image?", "the answer is"] * 2})
args = GRPOConfig(output_dir=os.path.join(tempfile.gettempdir(), "grpo-out"), loss_type="dr_grpo", num_generations=2, per_device_train_batch_size=2,
                  max_completion_length=4, max_steps=1, report_to="none", logging_steps=1, use_cpu=True, save_strategy="no", beta=0.0)
tr = GRPOTrainer(model=lm, reward_funcs=lambda completions, **kw: [float(len(c)) for c in completions], args=args, train_dataset=ds, processing_class=tok)
res = tr.train()
print("GRPOTrainer dr_grpo 1 step ok", {k: round(v, 4) if isinstance(v, float) else v for k, v in res.metrics.items()}, "%.1fs" % (time.time() - t0))
