"""Tells every open console that a case arrived or was decided (by anyone: a moderator here or
through the API, WeChat's push, an expired wait), so queues change without a reload."""
from __future__ import annotations

from django.db import transaction
from django.dispatch import receiver

from backend.jobs.events import groups_send
from moderation.models import ModerationCase
from moderation.signals import case_decided, case_opened

GROUP = "console.cases"


def announce(case: ModerationCase) -> None:
    """Only the id and state go out: the console fetches what it shows through its views,
    which apply the moderator's filters and staff check."""
    groups_send([GROUP], {"type": "console.case", "case_id": case.id, "state": case.state},
                what=f"case {case.id}")


@receiver(case_opened)
def on_case_opened(sender, case, **kwargs) -> None:
    announce(case)  # sent after the commit already


@receiver(case_decided)
def on_case_decided(sender, case, **kwargs) -> None:
    transaction.on_commit(lambda: announce(case))  # sent inside the deciding transaction
