"""Stored uploads decoded into the arrays pipelines take: images as RGB uint8, recordings as
float32 mono at 16 kHz. Uploads made before the working size existed may be full size, so JPEGs
are decoded straight at the reduced scale (PIL ``draft``) instead of full size then shrunk."""
from __future__ import annotations

import io
import wave

import numpy as np
from PIL import Image

from backend.jobs.pipelines import SAMPLE_RATE
from core.errors import BadRequest


def image_array(data: bytes, *, side: int, keep_alpha: bool = False) -> np.ndarray:
    """The image as an RGB uint8 array no larger than ``side`` on its long side; RGBA when
    ``keep_alpha`` and the image has transparency (uploads keep it as PNG)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (side, side))  # JPEG only: decodes at 1/2, 1/4 or 1/8 scale
        alpha = keep_alpha and ("A" in image.getbands() or "transparency" in image.info)
        picture = image.convert("RGBA" if alpha else "RGB")
    if max(picture.size) > side:
        picture.thumbnail((side, side), Image.Resampling.LANCZOS)
    return np.asarray(picture)


def audio_array(data: bytes) -> np.ndarray:
    """A recording as float32 mono samples in [-1, 1] at 16 kHz. Uploads are stored as 16 kHz
    mono WAV; FLAC is read when soundfile is installed."""
    if data[:4] == b"fLaC":
        return _flac(data)
    try:
        with wave.open(io.BytesIO(data)) as recording:
            rate, channels = recording.getframerate(), recording.getnchannels()
            width, frames = recording.getsampwidth(), recording.readframes(recording.getnframes())
    except (wave.Error, EOFError) as exc:
        raise BadRequest("This recording cannot be read; upload it again.",
                         code="unreadable_audio") from exc
    if width == 2:
        samples = np.frombuffer(frames, "<i2").astype(np.float32) / 32768.0
    elif width == 1:
        samples = (np.frombuffer(frames, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 4:
        samples = np.frombuffer(frames, "<i4").astype(np.float32) / 2147483648.0
    else:
        raise BadRequest("This recording's sample format is not supported; upload it again.",
                         code="unreadable_audio")
    return _mono_16k(samples.reshape(-1, channels), rate)


def _flac(data: bytes) -> np.ndarray:
    try:
        import soundfile
    except ImportError as exc:
        raise BadRequest("FLAC recordings cannot be read on this server; upload a WAV.",
                         code="unreadable_audio") from exc
    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    return _mono_16k(samples, rate)


def _mono_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    mono = samples.mean(axis=1, dtype=np.float32)
    if rate != SAMPLE_RATE and len(mono):
        # Linear resampling: uploads are already 16 kHz, this only covers older or odd files.
        length = int(round(len(mono) * SAMPLE_RATE / rate))
        mono = np.interp(np.linspace(0, len(mono) - 1, length), np.arange(len(mono)),
                         mono).astype(np.float32)
    return np.ascontiguousarray(mono, dtype=np.float32)
