"""Reading the seed word lists shipped in ``moderation/wordlists/`` (format in its README)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from moderation.textfilter import ALLOW, Entry, default_whole_word

WORDLIST_DIR = Path(__file__).resolve().parent / "wordlists"


@dataclass
class SeedList:
    category: str
    action: str = "block"
    description: str = ""
    words: list[tuple[str, bool | None]] = field(default_factory=list)  # (word, whole_word or auto)


def parse_seed_list(category: str, text: str) -> SeedList:
    seed = SeedList(category=category)
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            key, _, value = line.lstrip("# ").partition(":")
            if key.strip() == "action":
                seed.action = value.strip()
            elif key.strip() == "description":
                seed.description = value.strip()
            continue
        if not line:
            continue
        if line.endswith("*"):
            seed.words.append((line[:-1].strip(), False))
        else:
            seed.words.append((line, None))
    return seed


def read_seed_lists(directory: Path = WORDLIST_DIR) -> list[SeedList]:
    return [parse_seed_list(path.stem, path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*.txt"))]


def seed_entries(directory: Path = WORDLIST_DIR) -> list[Entry]:
    """The shipped lists as filter entries, as the database holds them after seeding."""
    return [Entry(word, ALLOW if seed.action == ALLOW else seed.category,
                  default_whole_word(word) if whole is None else whole)
            for seed in read_seed_lists(directory) for word, whole in seed.words]
