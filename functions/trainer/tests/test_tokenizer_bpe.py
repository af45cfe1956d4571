"""The subword tokenizer: trained from a dataset's texts, stored with checkpoints and bundles, same ids after a reload."""
import json
import os

import pytest

from ril_trainer import checkpoint as ckpt
from ril_trainer import tokenizer as tok
from ril_trainer.config import model_config
from ril_trainer.data import split_texts
from ril_trainer.model import build_model

tokenizers = pytest.importorskip("tokenizers")

CORPUS = ["What item of clothing is shown?", "Ankle boot.", "It has a heel and thin straps, so it is a sandal.",
          "Is this worn on the feet?", "No, it isn't.", "I can see a pullover with long sleeves."] * 20


@pytest.fixture(scope="module")
def bpe():
    return tok.build("bpe", 500, CORPUS)


def test_specials_are_the_first_ids_and_prompts_follow_the_contract(bpe):
    assert (bpe.pad_id, bpe.bos_id, bpe.eos_id, bpe.sep_id) == (0, 1, 2, 3)
    assert bpe.vocab_size <= 500
    q = "What item of clothing is shown?"
    p = bpe.encode_prompt(q)
    assert p[0] == bpe.bos_id and p[-1] == bpe.sep_id and bpe.decode(p) == q  # specials dropped on decode
    r = bpe.encode_response("Ankle boot.")
    assert r[-1] == bpe.eos_id and bpe.decode(r + [65, 66]) == "Ankle boot."  # stops at <eos>
    assert bpe.encode_response("It has a heel and thin straps, so it is a sandal.", max_tokens=3) == \
        bpe.encode("It has a heel and thin straps, so it is a sandal.")[:3]


def test_a_teacher_sentence_is_a_few_tokens_and_any_text_round_trips(bpe):
    s = "It has a heel and thin straps, so it is a sandal."
    assert len(bpe.encode(s)) <= len(s.split()) + 2  # seen words are one token each (+ the punctuation)
    for text in ["Zebra-striped  scarf\n", "Größe: 38 ✓ 👟", "", " leading space", "tab\there"]:
        assert bpe.decode(bpe.encode(text)) == text  # byte-level: nothing is unknown


def test_training_is_deterministic_and_the_json_reloads_to_the_same_ids(bpe):
    again = tok.build("bpe", 500, CORPUS)
    assert again.to_json() == bpe.to_json()
    reloaded = tok.from_stored(tok.stored(bpe))
    s = "Is this a sandal with thin straps?"
    assert reloaded.encode(s) == bpe.encode(s)
    assert json.loads(bpe.to_json())["model"]["type"] == "BPE"


def test_a_checkpoint_keeps_its_tokenizer_and_the_model_sizes_its_vocabulary_by_it(bpe, tmp_path):
    model = build_model(model_config("nano"), seed=0, tokenizer=bpe)
    assert model.cfg.vocab_size == bpe.vocab_size and model.tok_emb.num_embeddings == bpe.vocab_size
    path = str(tmp_path / "c.pt")
    ckpt.save(path, model)
    loaded = ckpt.load_model(path)
    assert loaded.tokenizer.kind == "bpe" and loaded.tokenizer.to_json() == bpe.to_json()
    with pytest.raises(ValueError, match="vocab_size"):
        type(model)(model_config("nano"), bpe)  # 261 byte ids vs the bpe's


def test_byte_stays_available_and_unknown_kinds_are_refused():
    assert tok.build("byte", 0, []) is tok.BYTE
    with pytest.raises(ValueError, match="unknown tokenizer"):
        tok.build("wordpiece", 500, CORPUS)
    with pytest.raises(ValueError, match="at least"):
        tok.build("bpe", 100, CORPUS)


def test_split_texts_reads_questions_answers_and_teacher_texts_of_one_split(tmp_path):
    (tmp_path / "teachers").mkdir()
    rows = [{"id": "a", "image": "x.png", "question": "Q1?", "answer": "A1", "split": "train"},
            {"id": "b", "image": "x.png", "question": "Q2?", "answer": "A2", "split": "test"}]
    (tmp_path / "examples.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (tmp_path / "teachers" / "t.jsonl").write_text(
        json.dumps({"example": "a", "teacher": "t", "sample": 0, "text": "T on a"}) + "\n"
        + json.dumps({"example": "b", "teacher": "t", "sample": 0, "text": "T on b"}) + "\n")
    assert sorted(split_texts(str(tmp_path), "train")) == ["A1", "Q1?", "T on a"]
    assert os.path.exists(tmp_path / "examples.jsonl")
