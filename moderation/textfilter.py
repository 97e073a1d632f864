"""Sensitive-word filter for Chinese and English text: normalisation plus Aho-Corasick.

Pure Python (no Django): ``TextFilter(entries).scan(text)`` returns every hit with its
category, listed word and position in the original text.

Normalisation maps each code point to at most one code point, through one lookup table built
once per process, so it runs vectorised and positions map back exactly:
full-width → half-width and other compatibility forms (NFKD), accents and other combining
marks removed, lower case, traditional → simplified (OpenCC, character by character), Cyrillic
and Greek look-alikes → Latin, digit/symbol-for-letter substitutions (0→o, 1/l→i, 3→e,
4/@→a, 5/$→s, 7→t), and everything that is not a letter or digit (spaces, separators,
punctuation, symbols and emoji, zero-width and other format characters) dropped.
Word-list entries go through the same normalisation, so ``kill`` is stored as ``kiii`` and
matches ``K1ll``, ``k i l l`` and ``ｋｉｌｌ`` alike.

False positives: dropping spaces makes "was exhausted" contain "sex", and English words
contain short listed words ("class", "therapist"). So entries of only Latin letters and
digits match as whole words by default: the characters just outside the match, in the
original text, must not be letters or digits (CJK next to it is a boundary; a dropped
separator between is a boundary). An entry may opt into substring matching (``fuck*`` in the
seed files: "motherfucker" should hit), but a Latin match that spans dropped characters is
held to whole words all the same ("a bit chaotic" is not "bitch", "f u c k" still is).
Chinese has no word boundaries, so Chinese entries always match as substrings; the lists
avoid single characters and ambiguous pairs, and an allow list (category ``allow``)
suppresses any hit lying wholly inside an allowed phrase ("成人教育" keeps "成人" from
firing; "Scunthorpe" keeps "cunt*").
"""
from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass

import ahocorasick
import numpy as np

ALLOW = "allow"

# Look-alikes that NFKD leaves alone: Cyrillic and Greek letters that pass for Latin ones.
HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "ɡ": "g", "ı": "i", "ȷ": "j", "ʟ": "l", "ɴ": "n", "ʀ": "r",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y", "μ": "u",
}
# Digits and symbols written for letters. 1 and l both become i (k1ll, ki11, kiII).
# '!' and '|' are not here: they are more often separators ("傻!逼", "f|u|c|k") and are dropped.
SUBSTITUTIONS = {"0": "o", "1": "i", "l": "i", "3": "e", "4": "a", "@": "a", "5": "s",
                 "$": "s", "7": "t"}
_DROP_CATEGORIES = ("P", "S", "Z", "C", "M")

_table: np.ndarray | None = None
_table_lock = threading.Lock()


def _t2s_chars() -> dict[str, str]:
    """Traditional → simplified for single characters, from OpenCC's dictionaries."""
    import opencc

    ranges = [(0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00), (0x20000, 0x2A6E0)]
    chars = [chr(cp) for start, stop in ranges for cp in range(start, stop)]
    converted = opencc.OpenCC("t2s.json").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a phrase rule joined lines; fall back to one by one
        converter = opencc.OpenCC("t2s.json")
        converted = [converter.convert(ch) for ch in chars]
    return {src: dst for src, dst in zip(chars, converted) if len(dst) == 1 and dst != src}


def _normalise_char(ch: str, t2s: dict[str, str]) -> str:
    """One code point → one code point, or '' to drop it."""
    ch = HOMOGLYPHS.get(ch, ch)
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if len(decomposed) == 1:
        ch = decomposed
    elif not decomposed:
        return ""
    lowered = ch.lower()
    if len(lowered) == 1:
        ch = lowered
    ch = t2s.get(ch, ch)
    ch = HOMOGLYPHS.get(ch, ch)
    ch = SUBSTITUTIONS.get(ch, ch)
    if unicodedata.category(ch).startswith(_DROP_CATEGORIES):
        return ""
    return ch


def _build_table() -> np.ndarray:
    t2s = _t2s_chars()
    table = np.arange(0x110000, dtype=np.uint32)
    # Beyond these ranges are private-use areas, tags and unassigned code points: drop them all
    # except the supplementary ideographic planes, which we keep as they are.
    for cp in range(0x30000):
        if 0xD800 <= cp < 0xE000:
            table[cp] = 0
            continue
        out = _normalise_char(chr(cp), t2s)
        table[cp] = ord(out) if out else 0
    table[0x30000:] = 0
    table[0x30000:0x323B0] = np.arange(0x30000, 0x323B0, dtype=np.uint32)  # CJK ext G/H
    return table


def normalisation_table() -> np.ndarray:
    global _table
    if _table is None:
        with _table_lock:
            if _table is None:
                _table = _build_table()
    return _table


def _normalise_codes(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Normalised code points, and the mask of the characters of ``text`` they come from."""
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    mapped = normalisation_table()[codes]
    kept = mapped != 0
    return mapped[kept], kept


def normalise(text: str) -> str:
    codes, _ = _normalise_codes(text)
    return codes.tobytes().decode("utf-32-le")


def _as_bytes(text: str) -> str:
    """UTF-8 bytes as a latin-1 string: the automaton then walks bytes, whose nodes have few
    children, instead of thousands of Chinese characters under its root (4x faster)."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


@dataclass(frozen=True)
class Entry:
    word: str  # as listed
    category: str
    whole_word: bool = False


@dataclass(frozen=True)
class Hit:
    category: str
    word: str  # the listed word that matched
    start: int  # position in the original text, code points, end exclusive
    end: int
    text: str  # what the user wrote there

    def as_dict(self) -> dict:
        return {"category": self.category, "word": self.word, "start": self.start,
                "end": self.end, "text": self.text}


def default_whole_word(word: str) -> bool:
    """Entries of only Latin letters/digits match whole words unless told otherwise."""
    key = normalise(word)
    return bool(key) and key.isascii() and key.isalnum()


def _is_word_char(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


class TextFilter:
    """An immutable automaton over normalised entries; safe to share between threads."""

    def __init__(self, entries: list[Entry]) -> None:
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[Entry]] = {}
        for entry in entries:
            key = normalise(entry.word)
            if key:
                keys.setdefault(key, []).append(entry)
        for key, listed in keys.items():
            self._automaton.add_word(_as_bytes(key), (len(_as_bytes(key)), key.isascii(), tuple(listed)))
        self.size = len(keys)
        if keys:
            self._automaton.make_automaton()

    def scan(self, text: str) -> list[Hit]:
        if not self.size or not text:
            return []
        codes, mask = _normalise_codes(text)
        normal = codes.tobytes().decode("utf-32-le")
        matches = list(self._automaton.iter(_as_bytes(normal)))
        if not matches:
            return []
        kept = np.flatnonzero(mask)  # normalised index -> index in text
        widths = 1 + (codes >= 0x80).astype(np.int64) + (codes >= 0x800) + (codes >= 0x10000)
        byte_starts = np.cumsum(widths) - widths  # normalised index -> UTF-8 offset
        found: list[tuple[int, int, Entry]] = []
        allowed: list[tuple[int, int]] = []
        for last_byte, (length, latin, listed) in matches:
            start = int(np.searchsorted(byte_starts, last_byte - length + 1))
            end = int(np.searchsorted(byte_starts, last_byte, side="right")) - 1
            # A Latin match across dropped characters ("f u c k", but also "a bit chaotic")
            # counts only as a whole word, so spaces never glue two real words into one.
            gapped = latin and int(kept[end] - kept[start]) != end - start
            for entry in listed:
                if (entry.whole_word or gapped) and not self._bounded(normal, kept, start, end):
                    continue
                if entry.category == ALLOW:
                    allowed.append((start, end))
                else:
                    found.append((start, end, entry))
        hits = []
        for start, end, entry in found:
            if any(a <= start and end <= b for a, b in allowed):
                continue
            first, last = int(kept[start]), int(kept[end]) + 1
            hits.append(Hit(entry.category, entry.word, first, last, text[first:last]))
        hits.sort(key=lambda h: (h.start, h.end, h.category))
        return hits

    @staticmethod
    def _bounded(normal: str, kept: np.ndarray, start: int, end: int) -> bool:
        """True when the match is not glued to letters/digits on either side."""
        if start > 0 and kept[start - 1] == kept[start] - 1 and _is_word_char(normal[start - 1]):
            return False
        if end + 1 < len(normal) and kept[end + 1] == kept[end] + 1 and _is_word_char(normal[end + 1]):
            return False
        return True
