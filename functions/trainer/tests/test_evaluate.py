import pytest

from ril_trainer.evaluate import is_correct, normalise_text


@pytest.mark.parametrize("pred,answer,ok", [
    ("ankle boot", "ankle boot", True),
    ("  Ankle Boot. ", "ankle boot", True),
    ("This is an ankle boot.", "ankle boot", True),
    ("boot", "ankle boot", False),
    ("sneaker", "ankle boot", False),
    ("Yes.", "yes", True),
    ("No, it is not; yes it has", "no", True),
    ("Yes, but no", "no", False),
    ("noisy", "no", False),
    ("t-shirt", "T-shirt", True),
    ("This is a T-shirt.", "shirt", False),  # a hyphen is part of a word (mentionsAnswer)
    ("A shirt, not a t-shirt", "shirt", True),
    ("So the answer is: upper  body.", "upper body", True),
    ("", "", True),
    ("x", "", False),
])
def test_is_correct(pred, answer, ok):
    assert is_correct(pred, answer) is ok


def test_normalise_text():
    assert normalise_text(" The  T-Shirt!\n") == "the t-shirt"
    assert normalise_text("a_b, c") == "a b c"
