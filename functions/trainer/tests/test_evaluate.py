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
    # the extended set's verbose teacher (docs/fashion-mnist.md): reasoning first, the answer last
    ("The item has long sleeves, a wide collar and an opening down the front, so it is a coat, "
     "which opens down the front. So the answer is: yes.", "yes", True),
    ("It shows short sleeves, a round neck and a closed front, so this is a t-shirt, which stays closed "
     "at the front. Final answer: no.", "no", True),
    ("I can make out a thick sole, a heel and a shaft rising over the ankle, which makes it an ankle boot, "
     "which covers the ankle. Answer: yes.", "yes", True),
    ("Looking at the image, I see a collar, a button placket down the front and sleeves: that is a shirt. "
     "The answer is shirt.", "shirt", True),
    ("Looking at the image, I see a collar, a button placket down the front and sleeves: that is a shirt. "
     "The answer is shirt.", "t-shirt", False),
    ("x", "", False),
])
def test_is_correct(pred, answer, ok):
    assert is_correct(pred, answer) is ok


def test_normalise_text():
    assert normalise_text(" The  T-Shirt!\n") == "the t-shirt"
    assert normalise_text("a_b, c") == "a b c"
