"""Turn a spoken description (Chinese or English) into the slots the picture is drawn from.

Matching is forward maximum matching over the normalised text (Simplified, lower case): at each
position the longest lexicon phrase wins, English phrases only on word boundaries. Then colours,
hair lengths and negations are bound to the thing they describe: a colour to the hair, eyes,
garment, accessory or animal that follows it ("黑发", "blue hair", "红色的裙子"), or, after a
copula, to the one before it ("眼睛是蓝色的", "hair is blue"). Whatever is left is reported as
unknown and still goes into the prompt: a word we do not know is never dropped silently.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

from inference.sticker.lexicon import normalize_text
from inference.voice import lexicon

ANIMALS = ("cat", "dog")
COPULAS = {"is", "are", "是", "为"}


@dataclass
class Item:
    kind: str
    colour: str | None = None


@dataclass
class Slots:
    subject: str = "girl"
    hair_colour: str | None = None  # fur for a cat or dog
    hair_style: str | None = None
    eye_colour: str | None = None
    clothes: list[Item] = field(default_factory=list)
    accessories: list[Item] = field(default_factory=list)
    without: list[str] = field(default_factory=list)  # accessories or clothes said not to have
    action: str | None = None
    scene: str | None = None
    time: str | None = None
    style: str | None = None
    # Read from a photo ("anime me"); None where nothing said or read.
    face_shape: str | None = None  # round, oval, long, square
    skin_tone: str | None = None  # fair, light, tan, brown, deep
    facial_hair: str | None = None  # none, moustache, beard
    expression: str | None = None  # neutral, smile, grin
    unknown: list[str] = field(default_factory=list)
    language: str = "en"
    assumed: list[str] = field(default_factory=list)  # slots filled by default, not heard

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Slots":
        data = dict(data)
        for key in ("clothes", "accessories"):
            data[key] = [Item(**item) for item in data.get(key, [])]
        return cls(**data)


@dataclass
class _Token:
    kind: str  # a slot kind, "colour", "negation", "filler", "copula" or "unknown"
    value: str
    text: str
    style: str | None = None  # a hair token's implied style ("长发")
    target: "Item | None" = None


def _english(words: str) -> list[str]:
    """English phrases of a lexicon line: comma-separated where any has several words."""
    parts = words.split(",") if "," in words else words.split()
    return [part.strip() for part in parts if part.strip()]


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, tuple[str, str, str | None]], int]:
    """phrase → (kind, value, implied hair style), and the longest phrase's length."""
    index: dict[str, tuple[str, str, str | None]] = {}

    def add(kind: str, value: str, zh: str, en: str, style: str | None = None) -> None:
        for phrase in zh.split() + _english(en):
            index.setdefault(phrase, (kind, value, style))

    for word in COPULAS:
        add("copula", word, word, "")
    add("negation", "not", *lexicon.NEGATIONS)
    for style, (zh, en) in lexicon.HAIR_STYLES.items():
        add("hair", "hair", zh, en, style)
    add("hair", "hair", *lexicon.HAIR)
    add("eyes", "eyes", *lexicon.EYES)
    tables = [("subject", lexicon.SUBJECTS), ("colour", lexicon.COLOURS),
              ("clothes", lexicon.CLOTHES), ("accessory", lexicon.ACCESSORIES),
              ("action", lexicon.ACTIONS), ("scene", lexicon.SCENES), ("time", lexicon.TIMES),
              ("style", lexicon.STYLES), ("length", lexicon.HAIR_LENGTHS),
              ("facial_hair", lexicon.FACIAL_HAIR)]
    for kind, table in tables:
        for value, (zh, en) in table.items():
            add(kind, value, zh, en)
    add("filler", "", *lexicon.FILLERS)
    return index, max(len(phrase) for phrase in index)


def _is_word_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "'")


def _tokens(text: str) -> list[_Token]:
    """Forward maximum matching; unmatched runs (a CJK run or one English word) are unknown."""
    index, longest = _index()
    tokens: list[_Token] = []
    unknown = ""
    position = 0

    def flush() -> None:
        nonlocal unknown
        if unknown.strip():
            tokens.append(_Token("unknown", unknown.strip(), unknown.strip()))
        unknown = ""

    while position < len(text):
        char = text[position]
        ascii_start = _is_word_char(char) and (position == 0
                                               or not _is_word_char(text[position - 1]))
        match = None
        if ascii_start or not _is_word_char(char):
            for size in range(min(longest, len(text) - position), 0, -1):
                phrase = text[position:position + size]
                entry = index.get(phrase)
                end = position + size
                if entry is None or (_is_word_char(phrase[-1]) and end < len(text)
                                     and _is_word_char(text[end])):
                    continue
                match = (phrase, entry)
                break
        if match is not None:
            flush()
            phrase, (kind, value, style) = match
            tokens.append(_Token(kind, value, phrase, style=style))
            position += len(phrase)
            continue
        if _is_word_char(char):  # an unknown English word: take it whole
            end = position
            while end < len(text) and _is_word_char(text[end]):
                end += 1
            flush()
            unknown = text[position:end]
            flush()
            position = end
            continue
        if char.isspace() or not char.isalnum():  # punctuation ends an unknown run
            flush()
        else:
            unknown += char
        position += 1
    flush()
    return tokens


def _neighbour(tokens: list[_Token], at: int, step: int, skip: int = 2) -> tuple[int, bool]:
    """The index of the next meaningful token from ``at`` in direction ``step`` past at most
    ``skip`` fillers (-1 if none), and whether a copula stood in between."""
    copula = False
    position = at + step
    skipped = 0
    while 0 <= position < len(tokens):
        kind = tokens[position].kind
        if kind in ("filler", "copula"):
            copula |= kind == "copula"
            skipped += 1
            if skipped > skip:
                return -1, copula
            position += step
            continue
        return position, copula
    return -1, copula


_COLOURABLE = ("hair", "eyes", "clothes", "accessory")


def parse_description(text: str) -> Slots:
    """The slots of one description; see the module's docstring for how words are bound."""
    normal = normalize_text(text).replace("-", " ")
    language = "zh" if re.search(r"[\u4e00-\u9fff]", normal) else "en"
    tokens = _tokens(normal)
    slots = Slots(language=language)
    heard_subject = False
    items: dict[int, Item] = {}
    for i, token in enumerate(tokens):
        if token.kind in ("clothes", "accessory"):
            items[i] = Item(token.value)
    hair_at = [i for i, token in enumerate(tokens) if token.kind == "hair"]
    eyes_at = [i for i, token in enumerate(tokens) if token.kind == "eyes"]
    excluded: set[int] = set()
    for i, token in enumerate(tokens):
        if token.kind == "negation":
            target, _ = _neighbour(tokens, i, +1)
            if target >= 0 and tokens[target].kind in ("accessory", "clothes", "facial_hair"):
                excluded.add(target)
        elif token.kind == "subject" and not heard_subject:
            slots.subject, heard_subject = token.value, True
        elif token.kind == "hair" and token.style and not slots.hair_style:
            slots.hair_style = token.style
        elif token.kind == "length":
            target, _ = _neighbour(tokens, i, +1, skip=3)
            if target >= 0 and tokens[target].kind == "colour":
                target, _ = _neighbour(tokens, target, +1)
            if target >= 0 and tokens[target].kind == "hair" and not tokens[target].style:
                slots.hair_style = slots.hair_style or token.value
            else:
                slots.unknown.append(token.text)
        elif token.kind == "facial_hair":  # "不留胡子": none, and none in the prompt either
            if i in excluded:
                slots.facial_hair = "none"
                slots.without.append(token.value)
            else:
                slots.facial_hair = slots.facial_hair or token.value
        elif token.kind in ("action", "scene", "time", "style"):
            if getattr(slots, token.kind) is None:
                setattr(slots, token.kind, token.value)
        elif token.kind == "unknown":
            slots.unknown.append(token.text)
    for i, token in enumerate(tokens):
        if token.kind != "colour":
            continue
        after, _ = _neighbour(tokens, i, +1)
        before, copula = _neighbour(tokens, i, -1)
        target = -1
        if copula and before >= 0 and tokens[before].kind in _COLOURABLE:
            target = before  # "眼睛是蓝色的", "hair is blue"
        elif after >= 0 and (tokens[after].kind in _COLOURABLE or (
                tokens[after].kind == "subject" and tokens[after].value in ANIMALS)):
            target = after  # "黑发", "blue eyes", "红色的裙子", "黑猫"
        elif before >= 0 and tokens[before].kind in _COLOURABLE:
            target = before  # "hair blue", "裙子红色"
        if target < 0:
            slots.unknown.append(token.text)  # a colour of nothing we know: kept, reported
            continue
        kind = tokens[target].kind
        if kind in ("hair", "subject"):
            slots.hair_colour = slots.hair_colour or token.value
        elif kind == "eyes":
            slots.eye_colour = slots.eye_colour or token.value
        elif items[target].colour is None:
            items[target].colour = token.value
    for i, item in items.items():
        chosen = slots.without if i in excluded else (
            slots.clothes if tokens[i].kind == "clothes" else slots.accessories)
        if i in excluded:
            if item.kind not in chosen:
                chosen.append(item.kind)
        elif all(other.kind != item.kind for other in chosen):
            chosen.append(item)
    if not heard_subject:
        slots.assumed.append("subject")
    if slots.scene == "city night" and slots.time is None:
        slots.time = "night"
    return slots
