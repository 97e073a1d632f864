"""Frames and sound → the clip: frames piped raw into ffmpeg (H.264 yuv420p + AAC, faststart,
which WeChat's <video> plays), the poster PNG, and an animated WebP preview kept under 1 MB."""
from __future__ import annotations

import subprocess
import tempfile
import threading
import wave
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from inference.errors import InferenceError

PREVIEW_LIMIT_BYTES = 1024 * 1024
PREVIEW_SIDE = 256
# The preview shows the whole clip in at most this many frames (its frame rate drops for long
# clips), which keeps it near 0.5 MB.
PREVIEW_FRAMES = 100
AUDIO_RATE = 44_100  # AAC at CD rate: what every phone's player expects


def ffmpeg_exe() -> str:
    """The ffmpeg binary that ships with imageio-ffmpeg (the ``IMAGEIO_FFMPEG_EXE`` variable
    picks another)."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as error:
        raise InferenceError("ffmpeg is missing: install imageio-ffmpeg (scripts/setup).",
                             code="encoder_unavailable") from error


def write_wav(path: Path, samples: np.ndarray, rate: int) -> None:
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())


def encode_clip(frames: Iterable[np.ndarray], *, size: int, fps: float, duration: float,
                samples: np.ndarray, sample_rate: int, timeout_s: float) -> tuple[bytes, bytes]:
    """The MP4 and the WebP preview of ``frames`` (RGB, size x size) with ``samples`` as the
    sound, ``duration`` seconds long. Frames are encoded as they come, in ffmpeg's own process,
    while the caller renders the next ones."""
    ffmpeg = ffmpeg_exe()
    preview_fps = min(fps / 2, max(2.0, PREVIEW_FRAMES / max(duration, 1e-3)))
    preview_side = min(size, PREVIEW_SIDE)
    with tempfile.TemporaryDirectory(prefix="talking-encode-") as folder:
        folder = Path(folder)
        audio, video, preview = folder / "speech.wav", folder / "clip.mp4", folder / "preview.webp"
        write_wav(audio, samples, sample_rate)
        command = [
            ffmpeg, "-y", "-v", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{size}x{size}", "-framerate", str(fps),
            "-i", "pipe:0", "-i", str(audio),
            "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
            "-pix_fmt", "yuv420p", "-profile:v", "main", "-c:a", "aac", "-b:a", "64k",
            "-ar", str(AUDIO_RATE), "-t", f"{duration:.3f}", "-movflags", "+faststart",
            str(video),
            "-map", "0:v", "-vf", f"fps={preview_fps:.3f},scale={preview_side}:-2:flags=area",
            "-c:v", "libwebp_anim", "-quality", "60", "-loop", "0", "-an", str(preview),
        ]
        errors = folder / "ffmpeg.log"
        with open(errors, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=log)
            # A stuck encoder is killed rather than left to hold the worker.
            watchdog = threading.Timer(timeout_s, process.kill)
            watchdog.start()
            try:
                for frame in frames:
                    process.stdin.write(np.ascontiguousarray(frame, np.uint8).tobytes())
                process.stdin.close()
                code = process.wait()
            except BrokenPipeError:
                code = process.wait()
            finally:
                watchdog.cancel()
                if process.poll() is None:
                    process.kill()
                    process.wait()
        if code != 0 or not video.is_file():
            detail = errors.read_bytes().decode(errors="replace")[-300:]
            raise InferenceError(f"Encoding the clip failed (ffmpeg exit {code}): {detail}",
                                 code="encode_failed")
        data = video.read_bytes()
        preview_data = preview.read_bytes() if preview.is_file() else b""
        if not preview_data or len(preview_data) > PREVIEW_LIMIT_BYTES:
            preview_data = shrink_preview(ffmpeg, video, folder, preview_fps, preview_side,
                                          timeout_s)
    return data, preview_data


def shrink_preview(ffmpeg: str, video: Path, folder: Path, fps: float, side: int,
                   timeout_s: float) -> bytes:
    """A preview under the limit made from the finished MP4: fewer frames, smaller, rougher,
    until it fits."""
    for attempt in range(1, 5):
        fps, side = max(1.0, fps / 2), max(64, side * 3 // 4 // 2 * 2)
        out = folder / f"preview-{attempt}.webp"
        subprocess.run([ffmpeg, "-y", "-v", "error", "-i", str(video), "-an", "-vf",
                        f"fps={fps:.3f},scale={side}:-2:flags=area", "-c:v", "libwebp_anim",
                        "-quality", str(max(20, 60 - 10 * attempt)), "-loop", "0", str(out)],
                       capture_output=True, timeout=timeout_s, check=False)
        if out.is_file() and 0 < out.stat().st_size <= PREVIEW_LIMIT_BYTES:
            return out.read_bytes()
    raise InferenceError("The preview could not be made small enough.", code="encode_failed")


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise InferenceError("The poster could not be encoded.", code="encode_failed")
    return data.tobytes()
