"""Combination rules: words that are harmless alone and refused together.

A leader's name is news; "下台" is a word; a name with "下台" a few characters away is a call for
a leader's removal, which WeChat refuses, as it refuses a name joined to an insult. A rule lists
two groups (``[names]`` and ``[attacks]`` in ``wordlists/combinations/*.txt``) and fires when a
word of each lies within ``window`` characters of the other, in either order. Matching is the
word filter's own (normalised: separators, look-alikes, traditional characters, spaced-out
letters), so "习 近 平 下 台" and "習近平下臺" fire like "习近平下台". Pure Python (no Django).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from moderation.textfilter import Entry, Hit, TextFilter, default_whole_word

COMBINATION_DIR = Path(__file__).resolve().parent / "wordlists" / "combinations"


@dataclass
class CombinationRule:
    category: str
    action: str = "block"
    description: str = ""
    window: int = 12
    groups: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)


def parse_rule(category: str, text: str) -> CombinationRule:
    rule, group = CombinationRule(category=category), None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            key, _, value = line.lstrip("# ").partition(":")
            if key.strip() in ("action", "description"):
                setattr(rule, key.strip(), value.strip())
            elif key.strip() == "window":
                rule.window = int(value)
        elif line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
            rule.groups[group] = []
        elif line and group is not None:
            word, whole = (line[:-1].strip(), False) if line.endswith("*") else (line, None)
            rule.groups[group].append((word, default_whole_word(word) if whole is None else whole))
    if len(rule.groups) != 2 or not all(rule.groups.values()):
        raise ValueError(f"combination rule {category!r} needs two non-empty [groups]")
    return rule


def read_rules(directory: Path = COMBINATION_DIR) -> list[CombinationRule]:
    return [parse_rule(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.txt"))]


class CombinationFilter:
    """Immutable; safe to share between threads."""

    def __init__(self, rules: list[CombinationRule]) -> None:
        self.rules = {rule.category: rule for rule in rules}
        entries = [Entry(word, f"{rule.category}\x00{group}", whole)
                   for rule in rules for group, words in rule.groups.items()
                   for word, whole in words]
        self._filter = TextFilter(entries)

    def scan(self, text: str) -> list[Hit]:
        """One hit per rule that fires, spanning the closest pair of its two groups."""
        by_rule: dict[str, dict[str, list[Hit]]] = {}
        for hit in self._filter.scan(text):
            category, group = hit.category.split("\x00")
            by_rule.setdefault(category, {}).setdefault(group, []).append(hit)
        found = []
        for category, groups in by_rule.items():
            rule = self.rules[category]
            if len(groups) < 2:
                continue
            first, second = groups.values()
            pairs = [(max(a.start, b.start) - min(a.end, b.end), a, b)
                     for a in first for b in second]
            gap, a, b = min(pairs, key=lambda pair: pair[0])
            if gap > rule.window:
                continue
            start, end = min(a.start, b.start), max(a.end, b.end)
            found.append(Hit(category, f"{a.word}+{b.word}", start, end, text[start:end]))
        return found
