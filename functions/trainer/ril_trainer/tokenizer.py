"""Byte-level tokenizer with special tokens.

Token ids 0..255 are the UTF-8 bytes of the text; the specials follow. The spec (``SPEC``,
also written to ``functions/trainer/tokenizer.json`` and into every bundle) is everything the
TypeScript side needs to build identical prompt ids:

    prompt ids   = [<bos>] + utf8(question) + [<sep>]
    response ids = utf8(answer) + [<eos>]

The image is not a token in the sequence: the vision encoder's ``n_image_tokens`` embeddings are
placed *before* the prompt (positions 0..n_image_tokens-1), and the prompt starts at position
``n_image_tokens``. ``<image>`` is reserved (never emitted) so the id space stays stable.
Text is used as is: no lowercasing, no Unicode normalisation, no stripping.
"""
from __future__ import annotations

from typing import Dict, List

PAD, BOS, EOS, SEP, IMAGE = 256, 257, 258, 259, 260
SPECIALS: Dict[str, int] = {"<pad>": PAD, "<bos>": BOS, "<eos>": EOS, "<sep>": SEP, "<image>": IMAGE}
VOCAB_SIZE = 261

SPEC = {
    "type": "byte-level",
    "version": 1,
    "vocab_size": VOCAB_SIZE,
    "bytes": {"first_id": 0, "count": 256, "encoding": "utf-8"},
    "special_tokens": SPECIALS,
    "pad_id": PAD,
    "bos_id": BOS,
    "eos_id": EOS,
    "sep_id": SEP,
    "image_id": IMAGE,
    "prompt_template": ["<bos>", "{question}", "<sep>"],
    "response_template": ["{response}", "<eos>"],
    "image_placement": "prefix: the n_image_tokens vision embeddings precede the prompt ids; "
                       "<image> is reserved and never appears in input_ids",
    "normalisation": "none (text is UTF-8 encoded as is)",
    "decode": "drop ids >= 256, then decode the bytes as UTF-8 with replacement of invalid sequences",
}


def encode_text(text: str) -> List[int]:
    return list(text.encode("utf-8"))


def encode_prompt(question: str) -> List[int]:
    return [BOS] + encode_text(question) + [SEP]


def encode_response(response: str, max_tokens: int = 0) -> List[int]:
    """utf8(response) + [<eos>], truncated to max_tokens (0 = no limit; a cut response has no <eos>)."""
    ids = encode_text(response) + [EOS]
    return ids[:max_tokens] if max_tokens > 0 else ids


def decode(ids: List[int]) -> str:
    """Text of the ids, stopping at the first <eos>."""
    out = bytearray()
    for i in ids:
        if i == EOS:
            break
        if 0 <= i < 256:
            out.append(i)
    return out.decode("utf-8", errors="replace")
