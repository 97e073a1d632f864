"""Emotion names → how the face is set while it talks: our sticker expressions plus the 28
go_emotions labels SillyTavern's classifier sends, each a sticker face at some strength."""
from __future__ import annotations

from dataclasses import replace

from inference.errors import InferenceError
from inference.sticker.lexicon import EXPRESSIONS, ExpressionParams

# go_emotions label → (sticker expression, strength). A strength below 1 keeps a mild feeling
# (approval, relief) from pulling the face as far as the sticker's full expression.
GO_EMOTIONS: dict[str, tuple[str, float]] = {
    "admiration": ("awesome", 0.7), "amusement": ("laugh", 0.8), "anger": ("angry", 1.0),
    "annoyance": ("angry", 0.6), "approval": ("happy", 0.6), "caring": ("happy", 0.5),
    "confusion": ("speechless", 0.8), "curiosity": ("surprise", 0.4), "desire": ("shy", 0.7),
    "disappointment": ("sad", 0.7), "disapproval": ("angry", 0.4), "disgust": ("angry", 0.7),
    "embarrassment": ("shy", 1.0), "excitement": ("laugh", 0.8), "fear": ("surprise", 0.8),
    "gratitude": ("happy", 0.7), "grief": ("cry", 1.0), "joy": ("happy", 1.0),
    "love": ("shy", 0.9), "nervousness": ("speechless", 0.8), "optimism": ("happy", 0.6),
    "pride": ("awesome", 0.7), "realization": ("surprise", 0.6), "relief": ("happy", 0.5),
    "remorse": ("sad", 0.8), "sadness": ("sad", 1.0), "surprise": ("surprise", 1.0),
    "neutral": ("neutral", 1.0),
}


def known_emotions() -> list[str]:
    """Every accepted ``emotion``: the sticker expressions first, then the go_emotions labels."""
    return list(EXPRESSIONS) + [name for name in GO_EMOTIONS if name not in EXPRESSIONS]


def emotion_params(name: str) -> ExpressionParams:
    """The face for ``name`` while talking. The jaw is left to the speech (a face that kept
    its mouth open would not close in the pauses), and so are tilt and overlays."""
    key = (name or "neutral").strip().lower()
    if key in EXPRESSIONS:
        base, strength = key, 1.0
    elif key in GO_EMOTIONS:
        base, strength = GO_EMOTIONS[key]
    else:
        raise InferenceError(
            f"Unknown emotion {name!r}: use one of {', '.join(known_emotions())}.",
            code="unknown_emotion")
    params = EXPRESSIONS[base]
    return replace(
        params,
        mouth_curve=params.mouth_curve * strength,
        mouth_width=params.mouth_width * strength,
        eye_open=1.0 + (params.eye_open - 1.0) * strength,
        brow_raise=params.brow_raise * strength,
        brow_angle=params.brow_angle * strength,
        mouth_open=0.0, head_tilt=0.0, overlays=(), motion="talk")
