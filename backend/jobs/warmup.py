"""Loading models once per process, before the first job or request needs them."""
from __future__ import annotations

import logging
import time

from django.conf import settings

log = logging.getLogger(__name__)


def warm_up_models() -> dict[str, float]:
    """Load the face models, NudeNet, the text normaliser and Whisper; return seconds per part.
    A part that fails to load is logged and left to fail loudly in the job that needs it."""
    from moderation.imagecheck import session
    from moderation.textfilter import normalisation_table

    def faces():
        from inference.faces import warm_up

        warm_up()

    def whisper():
        # One model per process, shared by the worker's threads (transcribe serialises runs).
        from inference.voice.transcribe import load_whisper

        load_whisper()

    parts = {"faces": faces,
             "nudenet": lambda: session(settings.MODERATION_NUDENET_THREADS),
             "text_normaliser": normalisation_table,
             "whisper": whisper}
    timings = {}
    for name, load in parts.items():
        start = time.perf_counter()
        try:
            load()
        except Exception:  # noqa: BLE001
            log.exception("warm-up of %s failed", name)
            continue
        timings[name] = round(time.perf_counter() - start, 3)
    log.info("models loaded: %s", timings)
    return timings
