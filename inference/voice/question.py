"""The question asked back before drawing, in the user's language, and spoken with espeak-ng.

Mandarin is read through pinyin with tone numbers (pypinyin) by espeak-ng's ``cmn-latn-pinyin``
voice, whose own reading of characters is poor; English uses the ``en`` voice.
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from inference.errors import InferenceError
from inference.voice.lexicon import ZH
from inference.voice.parse import ANIMALS, Slots
EN_SCENES = {
    "beach": "on the beach", "cherry blossoms": "under the cherry blossoms",
    "city night": "in the city streets", "classroom": "in a classroom", "forest": "in a forest",
    "snow": "in the snow", "space": "among the stars", "flower field": "in a field of flowers",
}
EN_TIMES = {"morning": "in the morning", "day": "by day", "sunset": "at sunset",
            "night": "at night"}
EN_ACTIONS = {"reading": "reading a book", "eating": "eating a snack"}
EN_STYLES = {"ghibli": "Ghibli-like", "shinkai": "Shinkai-like", "paprika": "Paprika-like"}


def _zh_hair(slots: Slots) -> str:
    if slots.subject in ANIMALS:
        return ZH[slots.hair_colour] + "色" if slots.hair_colour else ""
    colour = ZH.get(slots.hair_colour or "", "")
    style = slots.hair_style
    if style in ("long", "short"):
        return f"{colour}色{ZH[style]}发" if colour else f"{ZH[style]}发"
    if style:
        return f"{colour}色{ZH[style]}" if colour else ZH[style]
    return f"{colour}发" if colour else ""


def question_zh(slots: Slots) -> str:
    """"您想生成一位戴眼镜的黑发男孩，在樱花树下看书吗？" from the slots."""
    worn = [f"戴{ZH[item.kind]}" if not item.colour else f"戴{ZH[item.colour]}色{ZH[item.kind]}"
            for item in slots.accessories]
    worn += [f"穿{ZH[item.colour]}色{ZH[item.kind]}" if item.colour else f"穿{ZH[item.kind]}"
             for item in slots.clothes]
    if slots.facial_hair in ("beard", "moustache"):
        worn.append(f"留{ZH[slots.facial_hair]}")
    worn += [(f"不留{ZH[kind]}" if kind in ("beard", "moustache") else f"不戴{ZH[kind]}")
             for kind in slots.without]
    eyes = f"{ZH[slots.eye_colour]}眼睛" if slots.eye_colour else ""
    looks = _zh_hair(slots) + ("、" if eyes and _zh_hair(slots) else "") + eyes
    measure = "只" if slots.subject in ANIMALS else "位"
    who = "、".join(worn) + ("的" if worn else "") + looks + (
        "的" if looks and len(looks) > 3 else "") + ZH[slots.subject]
    doing = (ZH[slots.time] if slots.time else "") + (ZH[slots.scene] if slots.scene else "")
    if slots.action:  # "正在看书" when the action stands alone, "在樱花树下看书" after a place
        doing += ZH[slots.action] if doing else "正在" + ZH[slots.action]
    style = f"（{ZH[slots.style]}风格）" if slots.style else ""
    return f"您想生成一{measure}{who}{'，' + doing if doing else ''}吗？{style}"


def _with_article(words: str) -> str:
    """"a red scarf", but "glasses" and "cat ears" (plurals) as they are."""
    return words if words.endswith("s") else ("an " if words[0] in "aeiou" else "a ") + words


def question_en(slots: Slots) -> str:
    """"Would you like a boy with black hair and glasses, reading under the cherry blossoms?"."""
    looks = []
    if slots.hair_colour or slots.hair_style:
        noun = "fur" if slots.subject in ANIMALS else "hair"
        style = slots.hair_style if slots.subject not in ANIMALS else None
        words = [w for w in (style if style in ("long", "short", "spiky") else None,
                             slots.hair_colour) if w]
        tail = {"bob": " in a bob", "ponytail": " in a ponytail",
                "twintails": " in twin tails"}.get(style or "", "")
        looks.append(" ".join(words + [noun]) + tail)
    if slots.eye_colour:
        looks.append(f"{slots.eye_colour} eyes")
    looks += [_with_article(f"{item.colour} {item.kind}" if item.colour else item.kind)
              for item in slots.accessories + slots.clothes]
    if slots.facial_hair in ("beard", "moustache"):
        looks.append(_with_article(slots.facial_hair))
    looks += [f"no {kind}" for kind in slots.without]
    who = {"old man": "an old man", "old woman": "an old woman"}.get(slots.subject,
                                                                       f"a {slots.subject}")
    if looks:
        who += " with " + (", ".join(looks[:-1]) + " and " + looks[-1] if len(looks) > 1
                           else looks[0])
    doing = [EN_ACTIONS.get(slots.action, slots.action)] if slots.action else []
    doing += [EN_SCENES[slots.scene]] if slots.scene else []
    doing += [EN_TIMES[slots.time]] if slots.time else []
    style = f" in a {EN_STYLES[slots.style]} style" if slots.style else ""
    return f"Would you like a picture of {who}{', ' + ' '.join(doing) if doing else ''}{style}?"


def confirmation_question(slots: Slots) -> str:
    """The question in the language the description was given in."""
    return question_zh(slots) if slots.language == "zh" else question_en(slots)


def _pinyin(text: str) -> str:
    from pypinyin import Style, lazy_pinyin

    # Tone numbers after each syllable, the form cmn-latn-pinyin reads; punctuation kept as pauses.
    return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


def speak(text: str, *, language: str) -> bytes:
    """``text`` read aloud by espeak-ng, as WAV bytes (22.05 kHz mono)."""
    voice, words = ("cmn-latn-pinyin", _pinyin(text)) if language == "zh" else ("en", text)
    # Through a file: on --stdout espeak-ng cannot seek back, and its header gives no length.
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "question.wav"
        try:
            subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(out), words],
                           check=True, capture_output=True, timeout=30)
        except FileNotFoundError:
            raise InferenceError("espeak-ng is not installed: scripts/system-packages installs "
                                 "it", code="tts_unavailable") from None
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
            raise InferenceError(f"espeak-ng could not speak the question: {error}",
                                 code="tts_failed") from error
        return out.read_bytes()
