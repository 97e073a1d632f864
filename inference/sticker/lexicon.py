"""Text → expression: a dictionary of Chinese and English emotion words, their synonyms and
emoji, mapped onto the few numbers the face warp and the overlays understand."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from functools import lru_cache

OVERLAYS = ("tears", "blush", "sweat", "anger", "sparkle")


@dataclass(frozen=True)
class ExpressionParams:
    """How far to move each part of the face, in units the warp turns into pixels.

    ``mouth_curve`` -1 (corners down) .. 1 (corners up); ``mouth_open`` 0 .. 1 (jaw dropped);
    ``eye_open`` 0.3 (slits) .. 1 (as photographed) .. 1.6 (wide); ``brow_raise`` -1 .. 1;
    ``brow_angle`` -1 (inner ends down, angry) .. 1 (inner ends up, sad); ``head_tilt`` in
    degrees, positive leans the head to the viewer's left; ``teeth`` 0 .. 1 shows upper teeth
    when the mouth opens.
    """

    mouth_curve: float = 0.0
    mouth_open: float = 0.0
    mouth_width: float = 0.0
    eye_open: float = 1.0
    brow_raise: float = 0.0
    brow_angle: float = 0.0
    head_tilt: float = 0.0
    teeth: float = 0.0
    overlays: tuple[str, ...] = ()
    motion: str = "bounce"


@dataclass(frozen=True)
class Expression:
    name: str
    params: ExpressionParams
    caption: str
    matched: tuple[str, ...] = ()
    normalized_text: str = ""

    def as_metadata(self) -> dict:
        params = asdict(self.params)
        params["overlays"] = list(self.params.overlays)
        return {"name": self.name, "params": params, "caption": self.caption,
                "matched": list(self.matched)}


# The basic faces. Numbers were tuned by looking at 240x240 stickers of real photos: anything
# smaller does not read at that size, anything larger tears the face.
EXPRESSIONS: dict[str, ExpressionParams] = {
    "neutral": ExpressionParams(motion="bounce"),
    "happy": ExpressionParams(mouth_curve=0.8, mouth_open=0.2, mouth_width=0.15, eye_open=0.7,
                              brow_raise=0.15, teeth=1.0,
                              head_tilt=-4, motion="bounce"),
    "laugh": ExpressionParams(mouth_curve=1.0, mouth_open=0.55, mouth_width=0.2, eye_open=0.4,
                              brow_raise=0.25, teeth=1.0, head_tilt=6, motion="shake"),
    "surprise": ExpressionParams(mouth_curve=0.0, mouth_open=0.9, mouth_width=-0.25, eye_open=1.6,
                                 brow_raise=1.0, teeth=0.3, motion="zoom"),
    "angry": ExpressionParams(mouth_curve=-0.7, mouth_open=0.15, eye_open=0.8, brow_raise=-0.5,
                              brow_angle=-1.0, teeth=1.0, overlays=("anger",), motion="shake"),
    "cry": ExpressionParams(mouth_curve=-0.9, mouth_open=0.35, mouth_width=0.05, eye_open=0.55,
                            brow_raise=0.1, brow_angle=1.0, overlays=("tears",), motion="shake"),
    "sad": ExpressionParams(mouth_curve=-0.8, eye_open=0.8, brow_angle=0.9, head_tilt=5,
                            motion="bounce"),
    "shy": ExpressionParams(mouth_curve=0.45, eye_open=0.75, brow_angle=0.4, head_tilt=10,
                            overlays=("blush",), motion="bounce"),
    "speechless": ExpressionParams(mouth_curve=-0.35, mouth_width=-0.1, eye_open=0.55,
                                   brow_raise=-0.1, overlays=("sweat",), motion="blink"),
    "awesome": ExpressionParams(mouth_curve=0.9, mouth_open=0.3, mouth_width=0.15, eye_open=0.75,
                                brow_raise=0.5, teeth=1.0, overlays=("sparkle",), motion="zoom"),
}

DEFAULT_CAPTIONS = {
    "neutral": "", "happy": "开心", "laugh": "哈哈哈", "surprise": "惊了!", "angry": "气死了",
    "cry": "呜呜呜", "sad": "难过", "shy": "害羞", "speechless": "无语...", "awesome": "666",
}

# word → (expression, weight). Longer entries win over the words inside them ("不开心" is sad,
# not happy), so negations and compounds are listed as words of their own.
_WORDS: dict[str, tuple[str, ...]] = {
    "happy": ("开心", "高兴", "快乐", "愉快", "喜", "乐", "嘻嘻", "微笑", "笑", "美滋滋", "幸福",
              "耶", "棒棒哒", "好耶", "爽", "happy", "glad", "smile", "smiling", "joy", "yay",
              "nice", "good", "cheers", "😊", "🙂", "😀", "😄", "☺", ":)"),
    "laugh": ("大笑", "哈哈", "哈哈哈", "笑死", "笑哭", "笑死我了", "爆笑", "狂笑", "乐死", "hh",
              "hhh", "lol", "lmao", "rofl", "haha", "hahaha", "laugh", "laughing", "😂", "🤣",
              "😆", "xd"),
    "surprise": ("惊讶", "吃惊", "震惊", "惊", "惊了", "哇", "天哪", "天啊", "我的天", "啊?",
                 "什么", "卧槽", "我去", "纳尼", "surprise", "surprised", "wow", "omg", "what",
                 "shocked", "whoa", "😮", "😲", "😱", "😯", "!?", "?!"),
    "angry": ("生气", "愤怒", "气死", "气死了", "怒", "火大", "恼火", "暴躁", "不爽", "哼", "滚",
              "讨厌", "烦", "烦死了", "angry", "mad", "furious", "annoyed", "rage", "hmph",
              "😠", "😡", "🤬", "💢"),
    "cry": ("哭", "大哭", "哭了", "哭哭", "呜呜", "呜呜呜", "流泪", "泪", "泪目", "伤心", "委屈",
            "心碎", "cry", "crying", "tears", "sob", "😭", "😢", "🥺"),
    "sad": ("难过", "悲伤", "不开心", "不高兴", "郁闷", "失落", "唉", "sad", "unhappy", "upset",
            "down", "😞", "😔", "☹", "🙁", ":("),
    "shy": ("害羞", "羞", "脸红", "不好意思", "羞涩", "腼腆", "嘿嘿", "喜欢你", "爱你", "么么哒",
            "shy", "blush", "blushing", "love", "love you", "😳", "☺️", "🥰", "😍", "❤", "❤️"),
    "speechless": ("无语", "无言", "呵呵", "尴尬", "醉了", "服了", "汗", "我太难了", "...", "。。。",
                   "……", "speechless", "awkward", "whatever", "meh", "facepalm", "sigh", "🙄",
                   "😅", "😑", "😐", "🤦"),
    "awesome": ("666", "6666", "66666", "牛", "牛逼", "厉害", "太强了", "强", "赞", "点赞", "绝了",
                "优秀", "nb", "yyds", "awesome", "cool", "great", "amazing", "wow!", "gg",
                "👍", "🔥", "💯", "😎"),
}

# Words that do not pick the face but add a touch to it.
_TOUCHES: dict[str, tuple[str, ...]] = {
    "tears": ("哭", "泪", "😭", "😂", "🤣", "cry", "tears"),
    "blush": ("脸红", "羞", "❤", "🥰", "😍", "blush", "love"),
    "sweat": ("汗", "尴尬", "😅", "sweat", "awkward"),
    "anger": ("怒", "💢", "气死"),
    "sparkle": ("✨", "闪", "bling"),
}

_ASCII_WORD = re.compile(r"^[a-z0-9 ]+$")


def _build_index() -> list[tuple[str, str]]:
    entries = [(word.lower(), name) for name, words in _WORDS.items() for word in words]
    # Longest first so compounds and negations shadow the words inside them.
    return sorted(entries, key=lambda entry: -len(entry[0]))


_INDEX = _build_index()


@lru_cache(maxsize=1)
def _to_simplified():
    """One converter shared by every thread: converting only reads its loaded dictionaries."""
    try:
        import opencc
    except ImportError:  # traditional characters then simply match fewer words
        return None
    return opencc.OpenCC("t2s")


def normalize_text(text: str) -> str:
    """The form used for matching and for cache keys: NFKC, simplified Chinese, lower case,
    single spaces."""
    text = unicodedata.normalize("NFKC", text or "").strip().lower()
    converter = _to_simplified()
    if converter is not None and text:
        text = converter.convert(text)
    return re.sub(r"\s+", " ", text)


def _find_words(text: str) -> list[tuple[int, str, str]]:
    """(position, word, expression) for each lexicon word in ``text``, longest match first,
    never two matches over the same characters. ASCII words must stand on word boundaries so
    that "sad" does not fire inside "saddle"."""
    taken = [False] * len(text)
    found = []
    for word, name in _INDEX:
        start = text.find(word)
        while start != -1:
            end = start + len(word)
            free = not any(taken[start:end])
            if free and _ASCII_WORD.match(word):
                before = text[start - 1] if start > 0 else " "
                after = text[end] if end < len(text) else " "
                free = not (before.isascii() and before.isalnum()) and not (
                    after.isascii() and after.isalnum())
            if free:
                taken[start:end] = [True] * (end - start)
                found.append((start, word, name))
            start = text.find(word, start + 1)
    return sorted(found)


def parse_expression(text: str) -> Expression:
    """Pick the expression a short text asks for.

    Each matched word votes for its expression with its length (a longer, more specific word
    counts more); the earliest word breaks ties. Touches such as tears or a blush from every
    word are added to the winner, so "笑哭" is a laugh with tears. Text with no emotion word
    gives a neutral face that carries the text as its caption.
    """
    normalized = normalize_text(text)
    found = _find_words(normalized)
    caption = (text or "").strip()
    if not found:
        return Expression("neutral", EXPRESSIONS["neutral"], caption, (), normalized)

    votes: dict[str, float] = {}
    first_seen: dict[str, int] = {}
    for position, word, name in found:
        votes[name] = votes.get(name, 0.0) + 1.0 + 0.1 * len(word)
        first_seen.setdefault(name, position)
    name = max(votes, key=lambda n: (votes[n], -first_seen[n]))

    params = EXPRESSIONS[name]
    overlays = [o for _, _, other in found for o in EXPRESSIONS[other].overlays]
    for touch, words in _TOUCHES.items():
        if touch not in overlays and any(w.lower() in normalized for w in words):
            overlays.append(touch)
    params = replace(params, overlays=tuple(o for o in OVERLAYS if o in overlays))
    matched = tuple(word for _, word, _ in found)
    return Expression(name, params, caption or DEFAULT_CAPTIONS[name], matched, normalized)


def known_expressions() -> list[str]:
    return list(EXPRESSIONS)


__all__ = ["Expression", "ExpressionParams", "parse_expression", "normalize_text",
           "known_expressions", "EXPRESSIONS", "DEFAULT_CAPTIONS", "OVERLAYS"]
