"""Whisper is loaded when a worker starts, with the other models, so that the first voice job
does not pay for it (issue #15)."""
from __future__ import annotations

import numpy as np

from backend.jobs.warmup import warm_up_models
from inference.voice.transcribe import SAMPLE_RATE, transcribe


def test_the_worker_warm_up_loads_whisper_once_for_every_job():
    timings = warm_up_models()
    assert {"faces", "nudenet", "text_normaliser", "whisper"} <= set(timings)
    # Loaded already: a transcription finds the model in place.
    heard = transcribe(np.zeros(SAMPLE_RATE, np.float32), language="en")
    assert heard.timings["load"] < 0.05 and heard.engine.endswith("@int8")
    assert warm_up_models()["whisper"] < 0.05  # a second warm-up loads nothing again
