"""Speech to text: faster-whisper (CTranslate2 Whisper, int8 on CPU) from a local folder only.

The model is loaded once per folder and thread count and shared; a lock serialises the runs,
since one CTranslate2 model with one worker answers one request at a time anyway and we do not
rely on its internal queue being safe from many threads. Chinese comes back in Simplified
characters: Whisper writes Traditional about as often.
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from inference.config import whisper_context_seconds, whisper_model_dir, whisper_threads
from inference.errors import InferenceError, ModelLoadError
from inference.sticker.lexicon import normalize_text
from inference.voice.model_files import check_model_dir

LANGUAGES = ("auto", "zh", "en")
SAMPLE_RATE = 16000
WINDOW_SECONDS = 30  # Whisper hears 30 s at a time
# The most tokens a clip can need: speech runs under ~5 Chinese characters (~10 tokens) a second.
# A bound from the clip's length stops a decoder caught repeating one token (it happens on
# synthetic Mandarin) after a few dozen tokens instead of Whisper's 224.
TOKENS_PER_SECOND, TOKENS_AT_LEAST = 12, 16
# Spaces Whisper puts between Chinese characters; those beside a Latin word stay.
_CJK = "[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_CJK_SPACE = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")


@dataclass
class Transcript:
    text: str
    language: str  # "zh" or "en" (what was asked, or what Whisper heard)
    engine: str
    duration: float  # seconds of audio
    context: float  # seconds the encoder heard (the clip padded with silence)
    timings: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {"text": self.text, "language": self.language, "engine": self.engine,
                "duration": round(self.duration, 3), "context": self.context,
                "timings": dict(self.timings)}


class _LoadedWhisper:
    def __init__(self, folder: Path, threads: int) -> None:
        from faster_whisper import WhisperModel

        try:
            # A folder path is loaded as is; local_files_only keeps faster-whisper off the network
            # even if the path were mistaken for a model name.
            self.model = WhisperModel(str(folder), device="cpu", compute_type="int8",
                                      cpu_threads=threads, num_workers=1, local_files_only=True)
        except (RuntimeError, ValueError, OSError) as error:
            raise ModelLoadError(f"could not load the Whisper model in {folder}: {error}",
                                 code="asr_model_corrupt") from error
        self.engine = f"faster-whisper:{folder.name}@int8"
        self.lock = threading.Lock()


_loading = threading.Lock()  # two threads asking at once must not load two copies


@lru_cache(maxsize=2)
def _loaded(folder: Path, threads: int) -> _LoadedWhisper:
    return _LoadedWhisper(check_model_dir(folder), threads)


def _load(folder: Path, threads: int) -> _LoadedWhisper:
    with _loading:
        return _loaded(folder, threads)


def load_whisper(model_dir: Path | str | None = None, threads: int | None = None) -> str:
    """Load the model now (a worker's start) instead of on the first transcription; returns
    its engine name."""
    return _load(Path(model_dir or whisper_model_dir()).resolve(),
                 threads or whisper_threads()).engine


def read_audio(source: str | Path | BinaryIO | bytes) -> np.ndarray:
    """Mono float32 samples at 16 kHz from any file PyAV decodes (WAV, MP3, AAC, Opus...)."""
    import io

    from faster_whisper.audio import decode_audio

    if isinstance(source, bytes):
        source = io.BytesIO(source)
    try:
        return decode_audio(source if not isinstance(source, Path) else str(source),
                            sampling_rate=SAMPLE_RATE)
    except Exception as error:  # PyAV raises its own family for every unreadable input
        raise InferenceError(f"the recording could not be decoded ({type(error).__name__}): "
                             "send WAV, MP3, AAC or Opus audio", code="audio_unreadable") from error


def _language(model, encoder_output) -> str:
    """Chinese or English, whichever Whisper finds likelier; nothing else is understood (a
    synthetic or accented voice can pass for Thai)."""
    probabilities = {token[2:-2]: p for token, p in model.model.detect_language(encoder_output)[0]}
    return max(("zh", "en"), key=lambda code: probabilities.get(code, 0.0))


def _encoder_input(model, samples: np.ndarray) -> np.ndarray:
    """The log-mel features of the clip, padded with silence to the context Whisper encodes.

    Whisper pads every clip to 30 s, and the encoder's cost follows the padded length. A spoken
    description lasts a few seconds: encoding max(WHISPER_CONTEXT_SECONDS, clip + 2 s) instead
    gives the same words on our test sentences for about a quarter of the time (the decoder
    attends to fewer positions, so this is Whisper run outside its training length; set the
    variable to 30 to encode the whole window as Whisper does).
    """
    extractor = model.feature_extractor
    features = extractor(samples)
    per_second = SAMPLE_RATE // extractor.hop_length
    wanted = max(whisper_context_seconds() * per_second, features.shape[-1] + 2 * per_second)
    frames = int(min(extractor.nb_max_frames, wanted))
    frames += frames % 2  # the encoder's strided convolution halves it
    padded = np.zeros((features.shape[0], frames), features.dtype)
    kept = min(frames, features.shape[-1])
    padded[:, :kept] = features[:, :kept]
    return padded


def _run(model, samples: np.ndarray, language: str | None) -> tuple[str, str, float]:
    """(text, language, seconds encoded) with one pass of the encoder.

    faster-whisper's own transcribe encodes the window twice when it detects the language;
    a spoken description fits one window, so we encode once, detect on that output and decode
    from it. Audio longer than Whisper's 30 s window falls back to faster-whisper's windowed
    transcription."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    features = _encoder_input(model, samples)
    context = features.shape[-1] / (SAMPLE_RATE // model.feature_extractor.hop_length)
    encoder_output = model.encode(features)
    language = language or _language(model, encoder_output)
    if len(samples) > WINDOW_SECONDS * SAMPLE_RATE:
        segments, _ = model.transcribe(samples, language=language, beam_size=1,
                                       condition_on_previous_text=False, vad_filter=False)
        return "".join(segment.text for segment in segments).strip(), language, context
    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language=language)
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    seconds = len(samples) / SAMPLE_RATE
    longest = min(224, int(TOKENS_AT_LEAST + TOKENS_PER_SECOND * seconds))
    result = model.model.generate(encoder_output, [prompt], beam_size=1, max_length=longest,
                                  suppress_blank=True,
                                  suppress_tokens=get_suppressed_tokens(tokenizer, [-1]))[0]
    tokens = [token for token in result.sequences_ids[0] if token < tokenizer.eot]
    return tokenizer.decode(tokens).strip(), language, context


def transcribe(audio: np.ndarray | str | Path | BinaryIO | bytes, *, language: str = "auto",
               model_dir: Path | str | None = None, threads: int | None = None) -> Transcript:
    """The words spoken in ``audio`` (16 kHz mono float32 samples, or a file to decode).

    ``language`` is "auto" (Whisper detects Chinese or English), "zh" or "en".
    """
    if language not in LANGUAGES:
        raise InferenceError(f"language must be one of {', '.join(LANGUAGES)}",
                             code="bad_language")
    started = time.perf_counter()
    samples = audio if isinstance(audio, np.ndarray) else read_audio(audio)
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    decoded = time.perf_counter()
    loaded = _load(Path(model_dir or whisper_model_dir()).resolve(), threads or whisper_threads())
    ready = time.perf_counter()
    with loaded.lock:
        text, heard, context = _run(loaded.model, samples,
                                    None if language == "auto" else language)
    if heard == "zh":
        text = _CJK_SPACE.sub("", normalize_text(text))
    finished = time.perf_counter()
    return Transcript(text=text, language=heard, engine=loaded.engine,
                      duration=len(samples) / SAMPLE_RATE, context=context,
                      timings={"decode": round(decoded - started, 4),
                               "load": round(ready - decoded, 4),
                               "asr": round(finished - ready, 4)})
