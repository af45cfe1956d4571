"""Students: what the SFT and RL loops need from a model family, behind one small interface (base.py).

builtin.py wraps the compact family of model.py; hf.py wraps Hugging Face vision-language models (Idefics3 /
SmolVLM, Qwen2-VL / Qwen2.5-VL). rl.py and sft.py see only ``Student``, so GRPO, Dr.GRPO and RIL run the same
code for both.
"""
from .base import Inputs, Student, StudentError, greedy_accuracy, greedy_responses  # noqa: F401
