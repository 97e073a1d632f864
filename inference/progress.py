"""The progress callback every pipeline accepts, and helpers to report sub-stages."""
from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, stage: str, fraction: float, /) -> None: ...


def silent(stage: str, fraction: float, /) -> None:
    """The default callback: report nothing."""


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """A callback that maps a sub-step's 0..1 onto ``start..end`` of the parent's range."""

    def report(stage: str, fraction: float, /) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        progress(stage, start + (end - start) * fraction)

    return report

