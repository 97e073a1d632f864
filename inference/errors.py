"""Errors raised by pipelines. Each carries a stable, machine-readable ``code``."""
from __future__ import annotations


class InferenceError(Exception):
    """A pipeline could not do what was asked; ``code`` says why in a stable word."""

    code = "inference_failed"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ModelLoadError(InferenceError):
    """A model file is missing, unreadable or of the wrong shape."""

    code = "model_load_failed"


class NoFaceError(InferenceError):
    """The pipeline needs a face and the image has none."""

    code = "no_face"
