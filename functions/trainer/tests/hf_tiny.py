"""Tiny random Hugging Face VLM students for the tests, built fully offline.

Each builder writes a save_pretrained directory (model + processor) that ``AutoModelForImageTextToText`` and
``AutoProcessor`` load with ``local_files_only``: random weights from the family's config class, a byte-level
BPE tokenizer trained in memory with ``tokenizers`` on a few sentences, the family's image processor and a short
chat template in the family's style. Nothing is downloaded.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

TEXTS = ["What shape is shown? bar square", "Is it a bar? yes no", "The answer is bar. The answer is square.",
         "I see: yes! I see: no! I see: bar! I see: square!", "User: Assistant: describe the picture"] * 8


def _byte_bpe(specials: List[str], vocab_size: int = 360):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    raw = Tokenizer(models.BPE(unk_token=None))
    raw.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    raw.decoder = decoders.ByteLevel()
    raw.train_from_iterator(TEXTS, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials,
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                       show_progress=False))
    return raw


def smolvlm(out_dir: str, seed: int = 0, *, text: Optional[Dict[str, Any]] = None,
            vision: Optional[Dict[str, Any]] = None, scale_factor: int = 2, image_px: int = 32, image_seq_len: int = 4,
            **config: Any) -> str:
    """A 2-layer SmolVLM (Idefics3 family): 32 px images, 4 image tokens, llama text model of width 64.

    The keyword arguments reshape it (bench/hf_students.py builds a SmolVLM-256M-shaped model this way): ``text``
    overrides fields of the llama text config, ``vision`` replaces the vision config, ``config`` adds SmolVLMConfig
    fields; image_px is the processor's image side and image_seq_len the image tokens per image."""
    import torch
    from transformers import (AutoModelForImageTextToText, PreTrainedTokenizerFast, SmolVLMConfig,
                              SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor)
    grid = [f"<row_{i + 1}_col_{j + 1}>" for i in range(6) for j in range(6)]
    specials = ["<|endoftext|>", "<pad>", "<fake_token_around_image>", "<image>", "<end_of_utterance>",
                "<global-img>", "<video>"] + grid
    tok = PreTrainedTokenizerFast(tokenizer_object=_byte_bpe(specials), bos_token="<|endoftext|>",
                                  eos_token="<end_of_utterance>", pad_token="<pad>", unk_token=None)
    text = {**dict(model_type="llama", vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                   num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                   pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id),
            **(text or {})}
    vision = vision or dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                            image_size=32, patch_size=8)
    cfg = SmolVLMConfig(vision_config=vision, text_config=text, scale_factor=scale_factor,
                        image_token_id=tok.convert_tokens_to_ids("<image>"), **config)
    chat = ("{% for m in messages %}{{ m['role'] | capitalize }}:{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<image>{% else %} {{ c['text'] }}{% endif %}{% endfor %}"
            "<end_of_utterance>\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}")
    ip = SmolVLMImageProcessor(do_image_splitting=False, size={"longest_edge": image_px},
                               max_image_size={"longest_edge": image_px})
    proc = SmolVLMProcessor(image_processor=ip, tokenizer=tok, video_processor=SmolVLMVideoProcessor(),
                            image_seq_len=image_seq_len, chat_template=chat)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(cfg)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out_dir)
    proc.save_pretrained(out_dir)
    return out_dir


def qwen2vl(out_dir: str, seed: int = 0, image_px: int = 56, *, text: Optional[Dict[str, Any]] = None,
            vision: Optional[Dict[str, Any]] = None) -> str:
    """A 2-layer Qwen2-VL: 28 px images resized to 56 px, 4 merged image tokens, width 64, M-RoPE. image_px: the
    processor's image side (min_pixels = max_pixels = image_px^2; 28 keeps 28 px images as they are: grid (1, 2, 2),
    one merged image token). ``text`` / ``vision`` override fields of the text / vision config (bench/infer-hf.ts's
    larger shape; the vision config's hidden_size is the merger's output and must equal the text hidden_size, and
    rope_parameters' mrope_section must sum to the text head_dim / 2)."""
    return _qwen(out_dir, seed, "2", image_px, text=text, vision=vision)


def qwen25vl(out_dir: str, seed: int = 0) -> str:
    """The same at Qwen2.5-VL (its vision tower: RMSNorm, SwiGLU, windowed attention)."""
    return _qwen(out_dir, seed, "2.5")


def _qwen(out_dir: str, seed: int, version: str, image_px: int = 56, *, text: Optional[Dict[str, Any]] = None,
          vision: Optional[Dict[str, Any]] = None) -> str:
    vision_over = vision
    import torch
    from transformers import (AutoModelForImageTextToText, PreTrainedTokenizerFast, Qwen2_5_VLConfig,
                              Qwen2_5_VLProcessor, Qwen2VLConfig, Qwen2VLImageProcessor, Qwen2VLProcessor,
                              Qwen2VLVideoProcessor)
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>",
                "<|video_pad|>"]
    tok = PreTrainedTokenizerFast(tokenizer_object=_byte_bpe(specials), eos_token="<|im_end|>",
                                  pad_token="<|endoftext|>", unk_token=None)
    ids = {s: tok.convert_tokens_to_ids(s) for s in specials}
    if version == "2":
        config_class, processor_class = Qwen2VLConfig, Qwen2VLProcessor
        vision = dict(depth=1, embed_dim=32, hidden_size=64, num_heads=2, mlp_ratio=2, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2)
    else:
        config_class, processor_class = Qwen2_5_VLConfig, Qwen2_5_VLProcessor
        vision = dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=64, patch_size=14,
                      spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1])
    vision = {**vision, **(vision_over or {})}
    cfg = config_class(
        text_config={**dict(vocab_size=len(tok), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                            rope_parameters={"rope_type": "default", "mrope_section": [2, 3, 3], "rope_theta": 10000.0},
                            bos_token_id=ids["<|endoftext|>"], eos_token_id=ids["<|im_end|>"],
                            pad_token_id=ids["<|endoftext|>"]), **(text or {})},
        vision_config=vision,
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"])
    chat = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
            "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
            "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    proc = processor_class(image_processor=Qwen2VLImageProcessor(min_pixels=image_px * image_px, max_pixels=image_px * image_px), tokenizer=tok,
                            video_processor=Qwen2VLVideoProcessor(), chat_template=chat)
    torch.manual_seed(seed)
    model = AutoModelForImageTextToText.from_config(cfg)
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(out_dir)
    proc.save_pretrained(out_dir)
    return out_dir


def smolvlm_native(out_dir: str, px: int, seed: int = 0, scale_factor: int = 2, *,
                   text: Optional[Dict[str, Any]] = None, vision: Optional[Dict[str, Any]] = None) -> str:
    """A SmolVLM whose processor's input size is px (a multiple of 7 * scale_factor): px x px images reach the vision
    tower unresized (vision image_size px, patch 7; (px / 7)^2 / scale_factor^2 image tokens). ``text`` / ``vision``
    override fields of the text / vision config (image_size and patch_size stay px and 7)."""
    patch = 7
    if px % (patch * scale_factor):
        raise ValueError(f"--native-px {px}: a multiple of {patch * scale_factor}")
    vision = {**dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2), **(vision or {}),
              "image_size": px, "patch_size": patch}
    return smolvlm(out_dir, seed, text=text, vision=vision, scale_factor=scale_factor, image_px=px,
                   image_seq_len=(px // patch) ** 2 // scale_factor ** 2)


def main(argv: Optional[List[str]] = None) -> int:
    """python tests/hf_tiny.py --family smolvlm|qwen2vl|qwen25vl --out DIR [--native-px 28] [--seed 0]
    [--text JSON] [--vision JSON]"""
    import argparse
    import json
    p = argparse.ArgumentParser(description="write a tiny random Hugging Face VLM (model + processor) to a directory")
    p.add_argument("--family", required=True, choices=("smolvlm", "qwen2vl", "qwen25vl"))
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--native-px", type=int, default=None,
                   help="the processor's input size in pixels, so images of that size are not resized "
                        "(smolvlm, qwen2vl)")
    p.add_argument("--text", type=json.loads, default=None,
                   help="JSON object: fields of the text config to override (smolvlm, qwen2vl), e.g. a larger shape")
    p.add_argument("--vision", type=json.loads, default=None,
                   help="JSON object: fields of the vision config to override (smolvlm, qwen2vl)")
    a = p.parse_args(argv)
    shape = {k: v for k, v in (("text", a.text), ("vision", a.vision)) if v is not None}
    if shape and a.family == "qwen25vl":
        raise SystemExit("--text / --vision: smolvlm or qwen2vl")
    if a.native_px is None:
        globals()[a.family](a.out, a.seed, **shape)
    elif a.family == "smolvlm":
        smolvlm_native(a.out, a.native_px, a.seed, **shape)
    elif a.family == "qwen2vl":
        qwen2vl(a.out, a.seed, image_px=a.native_px, **shape)
    else:
        raise SystemExit("--native-px: smolvlm or qwen2vl")
    print(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
