"""What the console shows: pages of cases under the moderator's filters, each with what a
moderator needs to decide it (preview, labels, the user's history)."""
from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Prefetch

from moderation import selectors
from moderation.models import CaseEvent, CaseState, ModerationCase, SensitiveWord, WordCategory

PAGE = 50
KINDS = ["upload", "result", "text"]
PROVIDERS = ["wordfilter", "nudenet", "wechat"]
VIDEO, AUDIO = (".mp4", ".webm", ".mov"), (".wav", ".mp3", ".m4a", ".ogg", ".aac", ".amr")


@dataclass(frozen=True)
class CaseFilters:
    kind: str = ""
    provider: str = ""
    label: str = ""

    @classmethod
    def from_query(cls, query) -> "CaseFilters":
        kind, provider = query.get("kind", ""), query.get("provider", "")
        return cls(kind=kind if kind in KINDS else "",
                   provider=provider if provider in PROVIDERS else "",
                   label=query.get("label", "")[:64])


@dataclass
class CaseView:
    """One case as a card: the row, where to see it, its labels and its user's history."""

    case: ModerationCase
    preview_url: str = ""
    preview_kind: str = ""  # image | video | audio
    segments: list = field(default_factory=list)  # [(text, hit category or "")]
    history: dict | None = None


def _page(cases, filters: CaseFilters, offset: int, limit: int) -> tuple[list, bool]:
    """A page of cases under the filters, and whether more follow. The label filter reads each
    case's JSON labels in Python (SQLite cannot search JSON lists)."""
    if not filters.label:
        rows = list(cases[offset: offset + limit + 1])
        return rows[:limit], len(rows) > limit
    matching, skipped = [], 0
    for case in cases.iterator(chunk_size=200):
        if not selectors.case_has_label(case, filters.label):
            continue
        if skipped < offset:
            skipped += 1
            continue
        if len(matching) == limit:
            return matching, True
        matching.append(case)
    return matching, False


def _segments(case: ModerationCase) -> list[tuple[str, str]]:
    """The case's text cut at the word filter's hits, so the template can mark them."""
    hits = sorted((label["start"], label["end"], label["label"]) for label in case.labels
                  if isinstance(label, dict) and label.get("provider") == "wordfilter"
                  and isinstance(label.get("start"), int) and isinstance(label.get("end"), int))
    text, at, parts = case.text, 0, []
    for start, end, category in hits:
        if start < at or end > len(text):
            continue  # overlapping hits: the first one is marked
        parts += [(text[at:start], ""), (text[start:end], category)]
        at = end
    parts.append((text[at:], ""))
    return [(piece, category) for piece, category in parts if piece]


def _views(cases: list[ModerationCase], *, previews: bool) -> list[CaseView]:
    histories = selectors.case_histories(user_ids=[case.user_id for case in cases])
    views = []
    for case in cases:
        view = CaseView(case=case, segments=_segments(case) if case.text else [],
                        history=histories.get(case.user_id))
        if previews and case.preview_key:
            key = case.preview_key.lower()
            view.preview_url = selectors.preview_url(case.preview_key)
            view.preview_kind = ("video" if key.endswith(VIDEO) else
                                 "audio" if key.endswith(AUDIO) or case.subject == "audio"
                                 else "image")
        views.append(view)
    return views


def console_queue(*, filters: CaseFilters, offset: int = 0, limit: int = PAGE) -> tuple[list[CaseView], bool]:
    """Pending cases, oldest first, with short-lived previews."""
    cases = selectors.case_list(state=CaseState.PENDING, subject_type=filters.kind or None,
                                provider=filters.provider or None)
    page, more = _page(cases, filters, offset, limit)
    return _views(page, previews=True), more


def console_decided(*, filters: CaseFilters, state: str = "", offset: int = 0,
                    limit: int = PAGE) -> tuple[list[CaseView], bool]:
    """Decided cases, latest decision first, each with its audit trail (no previews: decided
    content is released or deleted)."""
    cases = (selectors.case_list(state=state or None, subject_type=filters.kind or None,
                                 provider=filters.provider or None)
             .exclude(state=CaseState.PENDING).order_by("-decided_at", "-id")
             .prefetch_related(Prefetch("events", CaseEvent.objects.select_related("actor"))))
    page, more = _page(cases, filters, offset, limit)
    return _views(page, previews=False), more


def console_pending_count() -> int:
    return ModerationCase.objects.filter(state=CaseState.PENDING).count()


def console_wordlists(*, category: str = "", search: str = "", limit: int = 500) -> dict:
    categories = list(WordCategory.objects.order_by("name"))
    chosen = next((c for c in categories if c.name == category), categories[0] if categories else None)
    words = SensitiveWord.objects.none()
    if chosen is not None:
        words = chosen.words.order_by("word")
        if search:
            words = words.filter(word__icontains=search)
    counts = dict(SensitiveWord.objects.filter(is_active=True).values_list("category__name")
                  .annotate(n=Count("id"))
                  .values_list("category__name", "n"))
    return {"categories": [(c, counts.get(c.name, 0)) for c in categories], "chosen": chosen,
            "words": list(words[:limit]), "more_words": words.count() > limit,
            "reload_seconds": settings.MODERATION_WORDLIST_RELOAD_SECONDS}
