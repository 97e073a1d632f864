"""Settings the inference core reads from the environment, each with a bare-machine default.

Only the standard library is used here: ``inference/`` never imports Django.
"""
from __future__ import annotations

import os
from pathlib import Path


def models_dir() -> Path:
    """Where optional model files live (``MODELS_DIR``, default ``./models``).

    Read on each call so that a worker, a test or a terminal session can point it elsewhere.
    """
    return Path(os.environ.get("MODELS_DIR") or "models")


def inference_threads() -> int:
    """CPU threads one model run may use (``INFERENCE_THREADS``, default: all cores)."""
    raw = os.environ.get("INFERENCE_THREADS")
    return int(raw) if raw else max(1, os.cpu_count() or 1)


def animegan_backend() -> str:
    """How AnimeGAN runs (``ANIMEGAN_BACKEND``): ``auto`` (timed and checked at load, the
    default), or one of ``torch``, ``torch-bf16``, ``onnxruntime`` forced."""
    return os.environ.get("ANIMEGAN_BACKEND") or "auto"


def sticker_font() -> str | None:
    """The caption font file (``STICKER_FONT``); None: find a CJK font on the machine."""
    return os.environ.get("STICKER_FONT") or None


def sd_model_dir() -> str | None:
    """A Stable Diffusion 1.5 pipeline folder for diffusion stickers (``SD_MODEL_DIR``)."""
    return os.environ.get("SD_MODEL_DIR") or None
def whisper_model_dir() -> Path:
    """The CTranslate2 Whisper model folder (``WHISPER_MODEL_DIR``, default
    ``var/models/whisper-base``, which ``scripts/whisper-model`` assembles for development)."""
    return Path(os.environ.get("WHISPER_MODEL_DIR") or "var/models/whisper-base")


def whisper_threads() -> int:
    """CPU threads one transcription may use (``WHISPER_THREADS``, default 2)."""
    return max(1, int(os.environ.get("WHISPER_THREADS") or 2))


def whisper_context_seconds() -> float:
    """Least audio context Whisper encodes for a short clip (``WHISPER_CONTEXT_SECONDS``,
    default 10; 30 is Whisper's whole window, the slowest and most faithful to its training)."""
    return min(30.0, max(1.0, float(os.environ.get("WHISPER_CONTEXT_SECONDS") or 10)))
