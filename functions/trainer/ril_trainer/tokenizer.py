"""The student's tokenizers: byte-level, or subword (BPE) in the Hugging Face ``tokenizer.json`` format.

Every student carries its tokenizer (``model.tokenizer``); checkpoints and bundles store it, and the serving
side rebuilds the same ids from what is stored. Both kinds share one contract:

    prompt ids   = [<bos>] + encode(question) + [<sep>]
    response ids = encode(answer) + [<eos>]

The image is not a token in the sequence: the vision encoder's ``n_image_tokens`` embeddings precede the
prompt, which starts at position ``n_image_tokens``. ``<image>`` is reserved (never emitted). Text is used as
is: no lowercasing, no Unicode normalisation, no stripping; question and response are encoded separately.

- **byte** (``ByteTokenizer``): ids 0..255 are the UTF-8 bytes, specials 256..260. A student must spell every
  character, so a teacher sentence costs one step per byte (hundreds). Kept for old checkpoints and by config.
- **bpe** (``BPETokenizer``): byte-level BPE trained with the Hugging Face ``tokenizers`` library on the
  dataset's own text (questions, answers, teacher responses), so a teacher sentence takes tens of tokens.
  Specials are ids 0..4. Byte-level pre-tokenisation means every string encodes (no unknown token). The
  serving side loads the same ``tokenizer.json`` with a maintained library (``@huggingface/tokenizers``), so
  nothing of BPE is re-implemented here or there.
"""
from __future__ import annotations

import json
from typing import Any, Dict, Iterable, List

SPECIAL_TOKENS = ["<pad>", "<bos>", "<eos>", "<sep>", "<image>"]

PAD, BOS, EOS, SEP, IMAGE = 256, 257, 258, 259, 260  # the byte tokenizer's ids
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

KINDS = ("bpe", "byte")


class Tokenizer:
    """What the trainer needs of a tokenizer; subclasses define ``encode``, ``decode_ids``, ``spec``, ``to_json``."""

    kind: str
    vocab_size: int
    pad_id: int
    bos_id: int
    eos_id: int
    sep_id: int

    def encode(self, text: str) -> List[int]:
        raise NotImplementedError

    def decode_ids(self, ids: List[int]) -> str:
        """Text of ids that hold no special token."""
        raise NotImplementedError

    def spec(self) -> Dict[str, Any]:
        """The manifest's "tokenizer" entry."""
        raise NotImplementedError

    def to_json(self) -> str:
        """The tokenizer.json text stored in checkpoints and bundles."""
        raise NotImplementedError

    def encode_prompt(self, question: str) -> List[int]:
        return [self.bos_id] + self.encode(question) + [self.sep_id]

    def encode_response(self, response: str, max_tokens: int = 0) -> List[int]:
        """encode(response) + [<eos>], truncated to max_tokens (0 = no limit; a cut response has no <eos>)."""
        ids = self.encode(response) + [self.eos_id]
        return ids[:max_tokens] if max_tokens > 0 else ids

    def decode(self, ids: Iterable[int]) -> str:
        """Text of the ids, stopping at the first <eos>; other specials are dropped."""
        kept: List[int] = []
        for i in ids:
            if i == self.eos_id:
                break
            if not self.is_special(i):
                kept.append(int(i))
        return self.decode_ids(kept)

    def is_special(self, i: int) -> bool:
        raise NotImplementedError

    def special_ids(self) -> List[int]:
        return [i for i in range(self.vocab_size) if self.is_special(i)]

    def __deepcopy__(self, memo: Dict[int, Any]) -> "Tokenizer":
        return self  # immutable: a copied model (reference, discriminator) shares its tokenizer


class ByteTokenizer(Tokenizer):
    kind = "byte"
    vocab_size, pad_id, bos_id, eos_id, sep_id = VOCAB_SIZE, PAD, BOS, EOS, SEP

    def encode(self, text: str) -> List[int]:
        return list(text.encode("utf-8"))

    def decode_ids(self, ids: List[int]) -> str:
        return bytes(ids).decode("utf-8", errors="replace")

    def is_special(self, i: int) -> bool:
        return not 0 <= i < 256

    def spec(self) -> Dict[str, Any]:
        return dict(SPEC)

    def to_json(self) -> str:
        return json.dumps(SPEC, indent=2)


def _hf():
    try:
        import tokenizers  # noqa: F401
    except ImportError:
        raise RuntimeError("the bpe tokenizer needs the Python package `tokenizers` (pip install 'tokenizers>=0.22'; "
                           "scripts/ensure-deps.sh puts it in the project's .venv); tokenizer: byte needs nothing") from None
    return tokenizers


class BPETokenizer(Tokenizer):
    """Byte-level BPE; specials are ids 0..4 in SPECIAL_TOKENS order."""

    kind = "bpe"

    def __init__(self, tokenizer_json: str):
        self.hf = _hf().Tokenizer.from_str(tokenizer_json)
        ids = [self.hf.token_to_id(t) for t in SPECIAL_TOKENS]
        if ids != list(range(len(SPECIAL_TOKENS))):
            raise ValueError(f"tokenizer.json must hold the specials {SPECIAL_TOKENS} as ids 0..4, found {ids}")
        self.pad_id, self.bos_id, self.eos_id, self.sep_id, self.image_id = ids
        self.vocab_size = self.hf.get_vocab_size(with_added_tokens=True)
        self._json = tokenizer_json

    @classmethod
    def train(cls, texts: Iterable[str], vocab_size: int) -> "BPETokenizer":
        """A byte-level BPE of at most ``vocab_size`` ids learnt from ``texts`` (deterministic for the same texts)."""
        hf = _hf()
        t = hf.Tokenizer(hf.models.BPE())
        t.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False)
        t.decoder = hf.decoders.ByteLevel()
        trainer = hf.trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                         initial_alphabet=hf.pre_tokenizers.ByteLevel.alphabet())
        t.train_from_iterator(list(texts), trainer)
        return cls(t.to_str())

    def encode(self, text: str) -> List[int]:
        return self.hf.encode(text, add_special_tokens=False).ids

    def decode_ids(self, ids: List[int]) -> str:
        return self.hf.decode(ids, skip_special_tokens=True)

    def is_special(self, i: int) -> bool:
        return 0 <= i < len(SPECIAL_TOKENS)

    def spec(self) -> Dict[str, Any]:
        return {
            "type": "hf-tokenizer-json",
            "version": 1,
            "file": "tokenizer.json",
            "model": "byte-level BPE",
            "vocab_size": self.vocab_size,
            "special_tokens": {t: i for i, t in enumerate(SPECIAL_TOKENS)},
            "pad_id": self.pad_id, "bos_id": self.bos_id, "eos_id": self.eos_id, "sep_id": self.sep_id,
            "image_id": self.image_id,
            "prompt_template": ["<bos>", "{question}", "<sep>"],
            "response_template": ["{response}", "<eos>"],
            "encode": "tokenizer.json with add_special_tokens=false; question and response encoded separately",
            "decode": "stop at <eos>, skip special tokens, tokenizer.json's ByteLevel decoder",
        }

    def to_json(self) -> str:
        return self._json


BYTE = ByteTokenizer()


def from_stored(stored: Any) -> Tokenizer:
    """The tokenizer a checkpoint holds: a tokenizer.json text (bpe), or the byte SPEC / nothing (older files)."""
    if stored is None or (isinstance(stored, dict) and stored.get("type") == "byte-level"):
        return BYTE
    if isinstance(stored, str):
        return BPETokenizer(stored)
    raise ValueError(f"unknown stored tokenizer {str(stored)[:80]!r}")


def stored(t: Tokenizer) -> Any:
    """What a checkpoint keeps of ``t`` (the inverse of from_stored)."""
    return t.spec() if t.kind == "byte" else t.to_json()


def build(kind: str, vocab_size: int, texts: Iterable[str]) -> Tokenizer:
    """A new tokenizer of ``kind``: byte, or a BPE trained on ``texts``."""
    if kind == "byte":
        return BYTE
    if kind == "bpe":
        if vocab_size < 256 + len(SPECIAL_TOKENS) + 1:
            raise ValueError(f"tokenizer_vocab_size {vocab_size} leaves no merges: use at least 262")
        return BPETokenizer.train(texts, vocab_size)
    raise ValueError(f"unknown tokenizer {kind!r}; known: {list(KINDS)}")
