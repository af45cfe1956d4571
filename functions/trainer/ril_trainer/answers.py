"""The answer rule: does a generated text give the ground-truth answer? One implementation, used by
evaluation (``evaluate.accuracy``), the RL rule judge (``judges.RuleJudge``) and the replication.

It lives in its own module, importing nothing of the package, so that ``evaluate`` and ``judges`` can
both depend on it without depending on each other.

It agrees with the TypeScript reference matcher ``mentionsAnswer``: whole words, case-insensitive,
runs of whitespace equal, and **a hyphen is part of a word** ("shirt" is not in "t-shirt").
Rules of ``rule_verdict``, in order:
- numbers: the answer is a number -> the first number in the response equals it numerically
  ("3" = "3.0" = "three");
- yes/no: the answer is a yes/no and the response's first "yes"/"no" word equals it;
- otherwise (``is_correct``): both texts normalised (lowercase, every character that is not a
  letter, digit, hyphen or whitespace -> space, whitespace collapsed), the answer must occur in the
  response as a whole-word phrase (so "This is an ankle boot." matches "ankle boot"; exact equality
  is the special case of a one-phrase response).
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

_PUNCT = re.compile(r"[^\w\s-]|_", re.UNICODE)  # keeps letters, digits, "-", whitespace
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())}


def normalise_text(s: str) -> str:
    return " ".join(_PUNCT.sub(" ", s.lower()).split())


def is_correct(prediction: str, answer: str) -> bool:
    """The yes/no and whole-word-phrase rules (no number rule; see ``rule_verdict``)."""
    p, a = normalise_text(prediction), normalise_text(answer)
    if not a:
        return not p
    if p == a:
        return True
    words = p.split()
    if a in ("yes", "no"):
        first = next((w for w in words if w in ("yes", "no")), None)
        return first == a
    return f" {a} " in f" {p} "


def _first_number(text: str) -> Optional[float]:
    found: List[Tuple[int, float]] = [(m.start(), float(m.group())) for m in _NUMBER_IN_TEXT.finditer(text.lower())]
    for m in re.finditer(r"[a-z]+", text.lower()):
        if m.group() in _WORDS:
            found.append((m.start(), float(_WORDS[m.group()])))
    return min(found)[1] if found else None


def rule_verdict(question: str, answer: str, response: str) -> int:
    """1 if ``response`` gives ``answer`` (see the module docstring for the rules), else 0."""
    a = answer.strip()
    if _NUMBER.match(a):
        n = _first_number(response)
        return int(n is not None and abs(n - float(a)) < 1e-9)
    return int(is_correct(response, answer))
