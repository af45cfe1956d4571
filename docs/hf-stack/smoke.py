"""Offline smoke test: tiny random SmolVLM / Idefics3 / Qwen2-VL built from config classes, processors built
from classes (tokenizer made with the `tokenizers` library), one forward+backward on CPU. No downloads."""
import os, sys, time, resource
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
import numpy as np
import torch
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
import transformers
from transformers import PreTrainedTokenizerFast, AutoModelForImageTextToText

torch.manual_seed(0)
torch.set_num_threads(int(os.environ.get("THREADS", "1")))
print("torch", torch.__version__, "transformers", transformers.__version__, "threads", torch.get_num_threads())

CORPUS = ["what is in the image? a cat sitting on a red mat.", "the answer is 42 because six times seven.",
          "User: describe the picture. Assistant: a dog runs in a green field."] * 20


def make_tokenizer(specials):
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=400, special_tokens=specials,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(CORPUS, tr)
    return tok


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name, model, inputs):
    model.train()
    labels = inputs["input_ids"].clone()
    nparams = sum(p.numel() for p in model.parameters())
    times = []
    for i in range(3):
        t0 = time.perf_counter()
        out = model(**inputs, labels=labels)
        out.loss.backward()
        times.append(time.perf_counter() - t0)
        model.zero_grad(set_to_none=True)
    g = [p for p in model.parameters()]
    print(f"RESULT {name}: params={nparams:,} seq_len={inputs['input_ids'].shape[1]} loss={out.loss.item():.4f} "
          f"finite={torch.isfinite(out.loss).item()} step_s(first,median)=({times[0]:.3f},{sorted(times)[1]:.3f}) "
          f"peak_rss_MB={rss_mb():.0f}")


img = Image.fromarray((np.random.RandomState(0).rand(48, 64, 3) * 255).astype("uint8"))

# ---------------- Idefics3 / SmolVLM ----------------
def idefics_family(kind):
    from transformers import Idefics3Config, SmolVLMConfig
    row_col = [f"<row_{i+1}_col_{j+1}>" for i in range(6) for j in range(6)]
    specials = ["<|endoftext|>", "<pad>", "<fake_token_around_image>", "<image>", "<end_of_utterance>", "<global-img>",
                "<video>"] + row_col
    raw = make_tokenizer(specials)
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, bos_token="<|endoftext|>", eos_token="<end_of_utterance>",
                                  pad_token="<pad>", unk_token=None)
    vocab = len(tok)
    image_token_id = tok.convert_tokens_to_ids("<image>")
    vision = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2, image_size=32,
                  patch_size=8)
    text = dict(model_type="llama", vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
    image_seq_len = (32 // 8) ** 2 // (2 ** 2)
    chat = ("{% for m in messages %}{{ m['role'] | capitalize }}:{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<image>{% else %} {{ c['text'] }}{% endif %}{% endfor %}"
            "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")
    if kind == "idefics3":
        from transformers import Idefics3ImageProcessor, Idefics3Processor
        cfg = Idefics3Config(vision_config=vision, text_config=text, scale_factor=2, image_token_id=image_token_id)
        ip = Idefics3ImageProcessor(do_image_splitting=False, size={"longest_edge": 32},
                                    max_image_size={"longest_edge": 32})
        proc = Idefics3Processor(image_processor=ip, tokenizer=tok, image_seq_len=image_seq_len, chat_template=chat)
    else:
        from transformers import SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor
        cfg = SmolVLMConfig(vision_config=vision, text_config=text, scale_factor=2, image_token_id=image_token_id)
        ip = SmolVLMImageProcessor(do_image_splitting=False, size={"longest_edge": 32},
                                   max_image_size={"longest_edge": 32})
        vp = SmolVLMVideoProcessor()
        proc = SmolVLMProcessor(image_processor=ip, tokenizer=tok, video_processor=vp, image_seq_len=image_seq_len,
                                chat_template=chat)
    model = AutoModelForImageTextToText.from_config(cfg)
    print(kind, "model class", type(model).__name__)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is in the image?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a cat on a red mat."}]}]
    prompt = proc.apply_chat_template(msgs, add_generation_prompt=False)
    inputs = proc(text=[prompt], images=[[img]], return_tensors="pt")
    print(kind, "inputs", {k: tuple(v.shape) for k, v in inputs.items()})
    step(kind, model, dict(inputs))
    # generation with KV cache
    gen_inputs = proc(text=[proc.apply_chat_template(msgs[:1], add_generation_prompt=True)], images=[[img]],
                      return_tensors="pt")
    model.eval()
    with torch.no_grad():
        out = model.generate(**gen_inputs, max_new_tokens=8, do_sample=True, use_cache=True,
                             pad_token_id=tok.pad_token_id)
    print(kind, "generate ok", tuple(out.shape))


def qwen2vl():
    from transformers import Qwen2VLConfig, Qwen2VLImageProcessor, Qwen2VLProcessor, Qwen2VLVideoProcessor
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]
    raw = make_tokenizer(specials)
    tok = PreTrainedTokenizerFast(tokenizer_object=raw, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  unk_token=None)
    ids = {s: tok.convert_tokens_to_ids(s) for s in specials}
    cfg = Qwen2VLConfig(
        text_config=dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                         rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
                         bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                         pad_token_id=ids["<|endoftext|>"]),
        vision_config=dict(depth=2, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                           spatial_merge_size=2, temporal_patch_size=2),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    ip = Qwen2VLImageProcessor(min_pixels=28 * 28 * 4, max_pixels=56 * 56)
    chat = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
            "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    proc = Qwen2VLProcessor(image_processor=ip, tokenizer=tok, video_processor=Qwen2VLVideoProcessor(), chat_template=chat)
    model = AutoModelForImageTextToText.from_config(cfg)
    print("qwen2vl model class", type(model).__name__)
    msgs = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is in the image?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a cat on a red mat."}]}]
    inputs = proc(text=[proc.apply_chat_template(msgs)], images=[img], return_tensors="pt")
    print("qwen2vl inputs", {k: tuple(v.shape) for k, v in inputs.items()})
    step("qwen2vl", model, dict(inputs))
    gen_inputs = proc(text=[proc.apply_chat_template(msgs[:1], add_generation_prompt=True)], images=[img],
                      return_tensors="pt")
    model.eval()
    with torch.no_grad():
        out = model.generate(**gen_inputs, max_new_tokens=8, do_sample=True, use_cache=True,
                             pad_token_id=tok.pad_token_id)
    print("qwen2vl generate ok", tuple(out.shape))


which = sys.argv[1:] or ["smolvlm", "idefics3", "qwen2vl"]
t0 = time.time()
for w in which:
    try:
        qwen2vl() if w == "qwen2vl" else idefics_family(w)
    except Exception as e:
        import traceback; traceback.print_exc()
        print(f"RESULT {w}: FAILED {type(e).__name__}: {e}")
print(f"total {time.time()-t0:.1f}s peak_rss_MB={rss_mb():.0f}")
