"""Reads: the current text filter (rebuilt when the word lists change), cases, offenders."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from moderation.combinations import CombinationFilter, read_rules
from moderation.models import Action, CaseState, ModerationCase, SensitiveWord, WordCategory
from moderation.textfilter import Entry, TextFilter, default_whole_word

_lock = threading.Lock()
# (filter, actions) swapped as one tuple, so a reader never pairs a new filter with old actions.
_current: dict = {"fingerprint": None, "pair": None, "checked_at": 0.0}


def _wordlist_fingerprint() -> tuple:
    """Changes whenever a word or category is added, edited or deleted (counts and newest edit)."""
    words = SensitiveWord.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    categories = WordCategory.objects.aggregate(n=Count("id"), at=Max("updated_at"))
    return words["n"], words["at"], categories["n"], categories["at"]


def text_filter_current(*, fresh: bool = False) -> tuple[TextFilter, dict[str, str]]:
    """The filter over the active words and each category's action.

    Every process checks the database's fingerprint at most every
    ``MODERATION_WORDLIST_RELOAD_SECONDS`` and rebuilds on a change: admins' edits apply
    everywhere within that time, with no restart. ``fresh`` checks now (a moderator testing a
    sentence right after an edit).
    """
    every = 0.0 if fresh else settings.MODERATION_WORDLIST_RELOAD_SECONDS
    now = time.monotonic()
    pair = _current["pair"]
    if pair is not None and now - _current["checked_at"] < every:
        return pair
    with _lock:
        if _current["pair"] is not None and time.monotonic() - _current["checked_at"] < every:
            return _current["pair"]
        fingerprint = _wordlist_fingerprint()
        if fingerprint != _current["fingerprint"] or _current["pair"] is None:
            actions = dict(WordCategory.objects.values_list("name", "action"))
            rows = SensitiveWord.objects.filter(is_active=True).values_list(
                "word", "category__name", "whole_word")
            entries = [Entry(word, "allow" if actions.get(cat) == Action.ALLOW else cat,
                             default_whole_word(word) if whole is None else whole)
                       for word, cat, whole in rows]
            _current.update(fingerprint=fingerprint, pair=(TextFilter(entries), actions))
        _current["checked_at"] = time.monotonic()
        return _current["pair"]


_combinations: list[CombinationFilter] = []


def combination_filter_current() -> CombinationFilter:
    """The shipped combination rules (``wordlists/combinations``), built once per process."""
    if not _combinations:
        with _lock:
            if not _combinations:
                _combinations.append(CombinationFilter(read_rules()))
    return _combinations[0]


def case_list(*, state: str | None = None, subject_type: str | None = None,
              provider: str | None = None) -> QuerySet[ModerationCase]:
    cases = ModerationCase.objects.select_related("user", "decided_by")
    if state:
        cases = cases.filter(state=state)
    if subject_type:
        cases = cases.filter(subject_type=subject_type)
    if provider:  # ``providers`` is a comma-separated list of names
        cases = cases.filter(Q(providers=provider) | Q(providers__startswith=f"{provider},")
                             | Q(providers__endswith=f",{provider}")
                             | Q(providers__contains=f",{provider},"))
    # The review queue reads oldest first; history newest first.
    return cases.order_by("created_at", "id") if state == CaseState.PENDING else cases


def case_get(*, case_id: int) -> ModerationCase | None:
    return ModerationCase.objects.select_related("user", "decided_by").filter(id=case_id).first()


def _strikes() -> QuerySet[ModerationCase]:
    """Strikes: contents blocked or rejected within the offender window."""
    since = timezone.now() - timedelta(seconds=settings.MODERATION_OFFENDER_WINDOW_SECONDS)
    return ModerationCase.objects.filter(state=CaseState.REJECTED, created_at__gte=since)


def offender_strikes(*, user) -> int:
    """How many of the user's contents were blocked or rejected within the offender window."""
    return _strikes().filter(user=user).count()


def case_has_label(case: ModerationCase, label: str) -> bool:
    """A provider gave the case this label (``labels`` is JSON, which SQLite cannot search)."""
    return any(item.get("label") == label for item in case.labels if isinstance(item, dict))


def case_labels_known() -> list[str]:
    """Label names seen on recent cases, for the console's filter."""
    seen: set[str] = set()
    for labels in ModerationCase.objects.order_by("-id").values_list("labels", flat=True)[:500]:
        seen.update(item["label"] for item in labels or [] if isinstance(item, dict) and item.get("label"))
    return sorted(seen)


def case_histories(*, user_ids) -> dict[int, dict]:
    """Per user: strikes within the offender window (what ``offender_strikes`` counts) and all
    their cases by state, in two queries for a whole page of cases."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    histories = {user_id: {"strikes": 0, "pending": 0, "approved": 0, "rejected": 0}
                 for user_id in ids}
    for row in (ModerationCase.objects.filter(user_id__in=ids)
                .values("user_id", "state").annotate(n=Count("id"))):
        histories[row["user_id"]][row["state"]] = row["n"]
    for row in _strikes().filter(user_id__in=ids).values("user_id").annotate(n=Count("id")):
        histories[row["user_id"]]["strikes"] = row["n"]
    return histories


def preview_url(key: str) -> str:
    """A short-lived link to a held object (``MODERATION_PREVIEW_TTL``), or "" without one;
    relative when storage is local (served by ``/files/<token>``)."""
    if not key:
        return ""
    from core.storage import get_storage

    return get_storage().share_url(key, settings.MODERATION_PREVIEW_TTL)
