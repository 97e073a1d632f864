"""``make_talking_clip``: a picture with a face and a line (text to speak, or the user's own
recording) in, an MP4 of the face saying it out, with its poster and an animated preview."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from inference.errors import InferenceError
from inference.progress import Progress, silent
from inference.sticker.headcrop import crop_head
from inference.talking.emotions import emotion_params
from inference.talking.encode import encode_clip, ffmpeg_exe, png_bytes
from inference.talking.face import locate_face
from inference.talking.lipsync import mouth_track
from inference.talking.motion import poses
from inference.talking.rig import build_rig, render
from inference.talking.speech import SAMPLE_RATE, Speech, decode_recording, speak

ENGINE = "talking-mesh-v1"
SIZES = (256, 768)
FPS_RANGE = (10, 30)
# The face's eye-to-mouth distance as a share of the frame, and the eyes' height in it: head
# and shoulders, with room for hair.
UNIT_FRACTION, EYE_HEIGHT = 0.14, 0.42
# What shows through a transparent picture (a video has no alpha): a soft light grey.
BACKGROUND = (236, 238, 242)


@dataclass
class TalkingResult:
    video: bytes  # MP4: H.264 yuv420p + AAC, faststart
    poster: bytes  # PNG of the first frame
    preview: bytes  # animated WebP, at most 1 MB
    duration: float  # seconds
    fps: float
    size: int
    frames: int
    emotion: str
    speech: str  # "tts:zh", "tts:en" or "recording"
    face: str  # how the face was found: "dlib", "face_box" or "tha3_box"
    engine: str = ENGINE
    timings: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict:
        return {"engine": self.engine, "duration": round(self.duration, 3), "fps": self.fps,
                "size": self.size, "frames": self.frames, "emotion": self.emotion,
                "speech": self.speech, "face": self.face,
                "timings": {stage: round(s, 4) for stage, s in self.timings.items()}}


def picture_rgb(photo: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """An RGB or RGBA uint8 picture as RGB over BACKGROUND, and its alpha if it had one."""
    if not (isinstance(photo, np.ndarray) and photo.dtype == np.uint8 and photo.ndim == 3
            and photo.shape[2] in (3, 4)):
        raise InferenceError("Expected an RGB or RGBA uint8 image of shape (H, W, 3|4).",
                             code="bad_image")
    if photo.shape[2] == 3:
        return np.ascontiguousarray(photo), None
    alpha = photo[..., 3]
    weight = alpha[..., None].astype(np.float32) / 255
    rgb = photo[..., :3] * weight + np.array(BACKGROUND, np.float32) * (1 - weight)
    return np.round(rgb).astype(np.uint8), alpha


def make_talking_clip(photo: np.ndarray, *, text: str = "", audio: bytes | None = None,
                      emotion: str = "neutral", voice: str = "auto", rate: float = 1.0,
                      size: int = 512, fps: float = 25, idle: bool = True,
                      face_box: tuple[float, float, float, float] | None = None, seed: int = 0,
                      progress: Progress = silent) -> TalkingResult:
    """The face in ``photo`` says ``text`` (espeak-ng, ``voice`` zh, en or auto, speed ``rate``)
    or lip-syncs ``audio`` (a recording's file bytes), with ``emotion`` on its face.

    ``size`` (256..768) is the square video's side, ``fps`` its frame rate; ``idle`` adds blinks,
    sway and breathing (``seed`` picks their timing). ``face_box`` (left, top, right, bottom)
    places a drawn face that dlib does not find.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        clock = now

    if not SIZES[0] <= size <= SIZES[1]:
        raise InferenceError(f"size {size} is out of range: use {SIZES[0]}..{SIZES[1]}.",
                             code="bad_request")
    if not FPS_RANGE[0] <= fps <= FPS_RANGE[1]:
        raise InferenceError(f"fps {fps} is out of range: use {FPS_RANGE[0]}..{FPS_RANGE[1]}.",
                             code="bad_request")
    size = int(size) // 2 * 2  # yuv420p halves the colour planes: the side must be even
    params = emotion_params(emotion)
    rgb, alpha = picture_rgb(photo)
    progress("speech", 0.0)
    speech = _speech(text, audio, voice, rate)
    lap("speech")

    progress("face", 0.1)
    found = locate_face(rgb, alpha, face_box)
    crop = crop_head(rgb, found.landmarks, size=size, unit_fraction=UNIT_FRACTION,
                     eye_height=EYE_HEIGHT)
    rig = build_rig(crop.image, crop.landmarks, params, crop.unit)
    lap("face")

    frame_count = max(1, int(np.ceil(speech.duration * fps)))
    duration = frame_count / fps
    track = mouth_track(speech, fps, frame_count)
    timeline = poses(track, fps, idle=idle, seed=seed)
    samples = np.pad(speech.samples, (0, max(0, round(duration * SAMPLE_RATE)
                                              - len(speech.samples))))
    first: list[np.ndarray] = []

    def frames():
        for index, pose in enumerate(timeline):
            frame, _ = render(rig, pose)
            if index == 0:
                first.append(frame)
            if index % 25 == 0:
                progress("render", 0.15 + 0.8 * index / frame_count)
            yield frame

    video, preview = encode_clip(frames(), size=size, fps=fps, duration=duration,
                                 samples=samples, sample_rate=SAMPLE_RATE,
                                 timeout_s=60 + 5 * duration)
    lap("render_encode")
    poster = png_bytes(first[0])
    progress("done", 1.0)
    return TalkingResult(video, poster, preview, duration, fps, size, frame_count,
                         emotion.strip().lower() or "neutral", speech.source, found.source,
                         timings=timings)


def _speech(text: str, audio: bytes | None, voice: str, rate: float) -> Speech:
    if audio is not None and (text or "").strip():
        raise InferenceError("Give either a line to say (text) or a recording (audio), not both.",
                             code="bad_request")
    if audio is not None:
        return decode_recording(audio, ffmpeg_exe())
    return speak(text, voice=voice, rate=rate)
