"""Turn an untrusted recording into clean audio: a known container sniffed from its bytes,
bounded in bytes and seconds, decoded by ffmpeg into 16 kHz mono 16-bit WAV.
Pure: takes bytes, returns bytes.

ffmpeg parses hostile input, so it runs boxed in: the file in a private temporary folder, only
the file and pipe protocols (a playlist cannot reach the network), the sniffed demuxer forced
(a file cannot choose a riskier one), no stdin, a wall-clock limit and a capped output."""
from __future__ import annotations

import functools
import hashlib
import io
import re
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from django.utils.translation import gettext_lazy as _

from backend.uploads.sanitize import megabytes
from core.errors import BadRequest, PayloadTooLarge, UnsupportedMedia

SAMPLE_RATE = 16_000
# Our name for a container -> the only ffmpeg demuxer allowed to read it.
_DEMUXER = {"mp3": "mp3", "m4a": "mov", "aac": "aac", "wav": "wav", "ogg": "ogg",
            "webm": "matroska", "amr": "amr"}
_MP4_BRANDS = {b"M4A ", b"M4B ", b"isom", b"iso2", b"mp41", b"mp42"}
# Encoders pad the last frame (an AMR frame is 20 ms, an AAC one 64 ms at 16 kHz): a recording
# at the limit decodes a little longer, and a whole file a little shorter than it declares.
_SLACK_MS = 250
_LOG_HEAD = 64 * 1024  # of ffmpeg's log, enough for the input's description
_DECLARED = re.compile(rb"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


@dataclass(frozen=True)
class CleanAudio:
    data: bytes  # a WAV file: 16 kHz, mono, 16-bit
    format: str  # "wav"
    content_type: str
    duration_ms: int
    sha256: str
    source_format: str  # "mp3" | "m4a" | "aac" | "wav" | "ogg" | "webm" | "amr"


def sniff_audio_format(data: bytes) -> str | None:
    """The real container from the magic bytes ("silk" for WeChat's voice notes), or None."""
    if data.startswith(b"ID3"):
        return "mp3"
    if data[4:8] == b"ftyp" and data[8:12] in _MP4_BRANDS:
        return "m4a"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data.startswith(b"OggS"):
        return "ogg"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "webm"
    if data.startswith((b"#!AMR\n", b"#!AMR-WB\n")):
        return "amr"
    if data.startswith((b"#!SILK_V3", b"\x02#!SILK_V3")):
        return "silk"
    if len(data) >= 2 and data[0] == 0xFF:
        if data[1] & 0xF6 == 0xF0:  # 12 sync bits, layer 00: AAC in ADTS frames
            return "aac"
        if data[1] & 0xE0 == 0xE0 and data[1] & 0x06:  # 11 sync bits, layer I-III
            return "mp3"
    return None


def sanitize_audio(data: bytes, *, max_bytes: int, max_seconds: int,
                   timeout: float) -> CleanAudio:
    """The clean copy of ``data``, refused with a code when it is not a whole recording of at
    most ``max_seconds`` in a container we read."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(_("The recording is %(size)s; the limit is %(limit)s. Record a "
                                "shorter message.")
                              % {"size": megabytes(len(data)), "limit": megabytes(max_bytes)})
    source_format = sniff_audio_format(data)
    if source_format == "silk":
        raise UnsupportedMedia(_("WeChat voice messages (SILK) cannot be read; record with the "
                                 "mini-program's recorder in MP3 or AAC instead."))
    if source_format is None:
        raise UnsupportedMedia(_("This is not a recording we accept; upload %(formats)s.")
                               % {"formats": ACCEPTED})
    if source_format == "ogg" and not _ogg_is_whole(data):
        raise _corrupt()
    pcm, declared_ms = _decode(data, _DEMUXER[source_format], max_seconds + 1, timeout)
    samples = np.frombuffer(pcm, dtype="<i2")
    duration_ms = len(samples) * 1000 // SAMPLE_RATE
    if duration_ms > max_seconds * 1000 + _SLACK_MS:
        raise PayloadTooLarge(_("The recording is longer than %(seconds)s seconds, the limit; "
                                "record a shorter message.") % {"seconds": max_seconds},
                              code="audio_too_long")
    if declared_ms is not None and duration_ms < declared_ms - _SLACK_MS:
        raise _corrupt()  # cut short: the container promised more than could be decoded
    if not samples.any():
        raise BadRequest(_("The recording is silent or empty; record again, closer to the "
                           "microphone."), code="audio_empty")
    clean = _wav(pcm)
    return CleanAudio(data=clean, format="wav", content_type="audio/wav",
                      duration_ms=duration_ms, sha256=hashlib.sha256(clean).hexdigest(),
                      source_format=source_format)


ACCEPTED = "an MP3, M4A/AAC, WAV, Ogg (Opus or Vorbis), WebM or AMR recording"


@functools.cache
def ffmpeg_path() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def _decode(data: bytes, demuxer: str, max_seconds: int,
            timeout: float) -> tuple[bytes, int | None]:
    """Raw 16 kHz mono s16le samples (at most ``max_seconds``), and the duration the container
    declares when it declares one (None when ffmpeg only estimates it from the bitrate)."""
    with tempfile.TemporaryDirectory(prefix="mx-audio-") as folder:
        source, log_path = Path(folder) / "input", Path(folder) / "log"
        source.write_bytes(data)  # a file, not a pipe: MP4 keeps its index at the end
        command = [
            ffmpeg_path(), "-nostdin", "-hide_banner", "-nostats", "-loglevel", "info",
            "-xerror", "-max_alloc", str(256 * 2**20), "-threads", "1",
            "-protocol_whitelist", "file,pipe", "-f", demuxer, "-i", f"file:{source}",
            "-map", "0:a:0", "-t", str(max_seconds), "-ac", "1", "-ar", str(SAMPLE_RATE),
            "-c:a", "pcm_s16le", "-f", "s16le", "pipe:1"]
        with log_path.open("wb") as log:
            try:
                done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=log, timeout=timeout, check=False)
            except subprocess.TimeoutExpired as exc:  # run() has killed it
                raise _corrupt() from exc
        with log_path.open("rb") as log:
            head = log.read(_LOG_HEAD)
    if done.returncode != 0:
        raise _corrupt()
    declared = _DECLARED.search(head)
    if declared is None or b"Estimating duration from bitrate" in head:
        return done.stdout, None
    hours, minutes, seconds = declared.groups()
    return done.stdout, round((int(hours) * 3600 + int(minutes) * 60 + float(seconds)) * 1000)


def _ogg_is_whole(data: bytes) -> bool:
    """Whether the Ogg pages run exactly to the end and the last one closes its stream. ffmpeg
    drops a cut-off last page without a word and Ogg declares no duration, so without this a
    truncated file would pass as a shorter recording."""
    position, flags = 0, 0
    while position < len(data):
        header = data[position:position + 27]
        if len(header) < 27 or header[:4] != b"OggS":
            return False
        table_end = position + 27 + header[26]
        if table_end > len(data):
            return False
        flags = header[5]
        position = table_end + sum(data[position + 27:table_end])
    return position == len(data) and bool(flags & 0x04)  # 0x04: end of stream


def _wav(pcm: bytes) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(pcm)
    return buffer.getvalue()


def _corrupt() -> BadRequest:
    return BadRequest(_("The recording could not be read; it may be damaged or incomplete. "
                        "Record it again and re-upload."), code="corrupt_audio")
