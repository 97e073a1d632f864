"""The clip's sound: a line spoken offline by espeak-ng (Mandarin from pinyin, English as is),
or the user's own recording decoded by ffmpeg; mono float samples either way, checked against
the limits."""
from __future__ import annotations

import re
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import InferenceError

SAMPLE_RATE = 16_000
MAX_TEXT_CHARS = 200
MAX_AUDIO_SECONDS = 30.0
# Quieter than this (peak, full scale 1) is a recording of nothing: a muted microphone.
SILENT_PEAK = 0.01
VOICES = ("auto", "zh", "en")
ESPEAK_VOICE = {"zh": "cmn-latn-pinyin", "en": "en"}
ESPEAK_WPM = 175  # espeak-ng's own default speed: rate 1.0
_TIMEOUT_S = 30
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Rounded vowels (lips pushed forward: o, u, ü) in IPA; every other vowel spreads the lips.
_ROUNDED = set("uʊoɔɒyʏøœɵɞw")
_VOWELS = _ROUNDED | set("iɪeɛæaɑəɜʌɐɨɯɤ")


@dataclass(frozen=True)
class Speech:
    samples: np.ndarray  # float32 mono, -1..1, at SAMPLE_RATE
    source: str  # "tts:zh", "tts:en" or "recording"
    # For a spoken line: the roundness (0 spread .. 1 rounded) of each vowel, in order.
    vowels: tuple[float, ...] = ()

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def language_of(text: str, voice: str = "auto") -> str:
    """"zh" or "en": ``voice`` when given, else Chinese as soon as the text has a Han character."""
    if voice not in VOICES:
        raise InferenceError(f"Unknown voice {voice!r}: use one of {', '.join(VOICES)}.",
                             code="bad_request")
    if voice != "auto":
        return voice
    return "zh" if _HAN.search(text) else "en"


def espeak_text(text: str, language: str) -> str:
    """What espeak-ng is given: for Mandarin, the characters as numbered-tone pinyin (its
    ``cmn`` voice misreads many characters; the pinyin voice reads syllables reliably)."""
    if language != "zh":
        return text
    from pypinyin import Style, lazy_pinyin

    # Not-Chinese runs (digits, Latin words, punctuation) come back unchanged and are read as
    # they are; pauses follow the punctuation.
    return " ".join(lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True))


def speak(text: str, *, voice: str = "auto", rate: float = 1.0) -> Speech:
    """``text`` spoken by espeak-ng. ``rate`` 0.5 .. 2 scales the speed."""
    text = (text or "").strip()
    if not text:
        raise InferenceError("Give a line to say (text) or a recording (audio).",
                             code="text_required")
    if len(text) > MAX_TEXT_CHARS:
        raise InferenceError(f"The line is {len(text)} characters long; keep it within "
                             f"{MAX_TEXT_CHARS}.", code="text_too_long")
    if not 0.5 <= rate <= 2.0:
        raise InferenceError(f"rate {rate} is out of range: use 0.5 (slow) .. 2 (fast).",
                             code="bad_request")
    language = language_of(text, voice)
    spoken = espeak_text(text, language)
    command = ["espeak-ng", "-v", ESPEAK_VOICE[language], "-s", str(round(ESPEAK_WPM * rate))]
    with tempfile.TemporaryDirectory(prefix="talking-tts-") as folder:
        path = Path(folder) / "line.wav"
        _run(command + ["-w", str(path)], spoken)
        samples, rate_hz = read_wav(path)
    ipa = _run(command + ["-q", "--ipa"], spoken)
    speech = Speech(resample(samples, rate_hz, SAMPLE_RATE), f"tts:{language}",
                    vowel_roundness(ipa))
    return checked(speech)


def _run(command: list[str], text: str) -> str:
    try:
        done = subprocess.run(command, input=text.encode("utf-8"), capture_output=True,
                              timeout=_TIMEOUT_S, check=False)
    except FileNotFoundError as error:
        raise InferenceError("espeak-ng is not installed: run scripts/system-packages.",
                             code="tts_unavailable") from error
    except subprocess.TimeoutExpired as error:
        raise InferenceError("Speech synthesis took too long.", code="tts_failed") from error
    if done.returncode != 0:
        raise InferenceError(f"espeak-ng failed: {done.stderr.decode(errors='replace')[:200]}",
                             code="tts_failed")
    return done.stdout.decode("utf-8", errors="replace")


def vowel_roundness(ipa: str) -> tuple[float, ...]:
    """One number per vowel nucleus (a run of vowel letters, so a diphthong counts once): the
    share of its letters that round the lips."""
    nuclei, run = [], []
    for char in ipa + " ":
        if char in _VOWELS:
            run.append(char in _ROUNDED)
        elif run:
            nuclei.append(sum(run) / len(run))
            run = []
    return tuple(nuclei)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV file as mono float32 and its sample rate."""
    with wave.open(str(path), "rb") as reader:
        frames = reader.readframes(reader.getnframes())
        channels, rate = reader.getnchannels(), reader.getframerate()
    samples = np.frombuffer(frames, "<i2").astype(np.float32) / 32768
    return samples.reshape(-1, channels).mean(axis=1), rate


def resample(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    """Linear resampling: the lip-sync only needs loudness and a coarse spectrum."""
    if rate == target or len(samples) == 0:
        return samples.astype(np.float32)
    count = int(round(len(samples) * target / rate))
    positions = np.arange(count) * (rate / target)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def decode_recording(data: bytes, ffmpeg: str) -> Speech:
    """An uploaded recording (any format ffmpeg reads: WAV, MP3, M4A, AMR, OGG, ...) as mono
    samples at SAMPLE_RATE. Only the first MAX_AUDIO_SECONDS + 1 s are decoded: enough to
    tell that it is too long."""
    if not data:
        raise InferenceError("The recording is empty.", code="bad_audio")
    with tempfile.TemporaryDirectory(prefix="talking-audio-") as folder:
        path = Path(folder) / "recording"
        path.write_bytes(data)  # a file, not a pipe: MP4/M4A need to seek to their index
        command = [ffmpeg, "-nostdin", "-v", "error", "-i", str(path), "-t",
                   str(MAX_AUDIO_SECONDS + 1), "-vn", "-ac", "1", "-ar", str(SAMPLE_RATE),
                   "-f", "s16le", "-"]
        try:
            done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as error:
            raise InferenceError("Decoding the recording took too long.",
                                 code="bad_audio") from error
    if done.returncode != 0 or not done.stdout:
        raise InferenceError("The recording could not be read: send a WAV, MP3, M4A or AMR "
                             "file.", code="bad_audio")
    samples = np.frombuffer(done.stdout, "<i2").astype(np.float32) / 32768
    return checked(Speech(samples, "recording"))


def checked(speech: Speech) -> Speech:
    """``speech`` if it is within the limits and not silent."""
    if speech.duration > MAX_AUDIO_SECONDS:
        raise InferenceError(f"The speech is longer than {MAX_AUDIO_SECONDS:g} s: send a shorter "
                             "recording or line.", code="audio_too_long")
    if len(speech.samples) == 0 or float(np.abs(speech.samples).max()) < SILENT_PEAK:
        raise InferenceError("The recording is silent: check the microphone and record again.",
                             code="audio_silent")
    return speech
