"""Moderation services: the one entry point the rest of the backend calls.

Contract (the backend codes against this):
    moderate_text(*, text, user, subject) -> Verdict
    moderate_image(*, image, user, subject_type, subject_id, preview_key) -> Verdict
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Verdict:
    decision: str  # "pass" | "review" | "block"
    code: str = ""  # "content_blocked" | "under_review" when not passing
    message: str = ""
    labels: list = field(default_factory=list)
    case_id: int | None = None

    @property
    def passed(self) -> bool:
        return self.decision == "pass"


def moderate_text(*, text: str, user, subject: str) -> Verdict:
    return Verdict("pass")


def moderate_image(*, image, user, subject_type: str, subject_id, preview_key: str = "") -> Verdict:
    return Verdict("pass")
