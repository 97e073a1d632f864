"""``POST /api/classify``: a line of chat → emotion labels with scores summing to 1, from our
zh/en/emoji sticker lexicon, named with the go_emotions labels SillyTavern's sprites use (a
label typed as a word, "joy", counts too)."""
from __future__ import annotations

import re

from inference.sticker.lexicon import parse_expression
from inference.talking.emotions import GO_EMOTIONS

# Each sticker expression as the go_emotions label that maps onto it most strongly.
LABEL_OF_EXPRESSION: dict[str, str] = {}
for _label, (_expression, _strength) in sorted(GO_EMOTIONS.items(), key=lambda i: -i[1][1]):
    LABEL_OF_EXPRESSION.setdefault(_expression, _label)
# What every label gets with no evidence for it: the ranking stays total, the winner clear.
FLOOR = 0.01
_WORD = re.compile(r"[a-z]+")


def classify_text(text: str) -> list[dict]:
    """``[{"label", "score"}, ...]``, best first, over all 28 go_emotions labels."""
    votes: dict[str, float] = {}
    for word in _WORD.findall((text or "").lower()):
        if word in GO_EMOTIONS:
            votes[word] = votes.get(word, 0.0) + 2.0
    expression = parse_expression(text or "")
    if expression.matched:
        label = LABEL_OF_EXPRESSION.get(expression.name, "neutral")
        votes[label] = votes.get(label, 0.0) + 1.0 + len(expression.matched)
    if not votes:
        votes["neutral"] = 1.0
    weights = {label: FLOOR + votes.get(label, 0.0) for label in GO_EMOTIONS}
    total = sum(weights.values())
    ranked = sorted(weights.items(), key=lambda item: -item[1])
    return [{"label": label, "score": weight / total} for label, weight in ranked]
