"""Talking avatar: the clip is a real MP4 (both streams, the speech's length), the mouth on
the rendered frames follows the sound (measured on landmarks found again by dlib), the eyes
blink, every emotion renders, drawn faces work through a box, and bad input fails clearly."""
from __future__ import annotations

import io
import re
import subprocess
import wave

import cv2
import dlib
import numpy as np
import pytest

from inference.errors import InferenceError
from inference.faces import detect_faces
from inference.faces.models import landmarks_68
from inference.sticker.headcrop import crop_head
from inference.talking import known_emotions, make_talking_clip
from inference.talking.emotions import emotion_params
from inference.talking.encode import ffmpeg_exe
from inference.talking.pipeline import EYE_HEIGHT, UNIT_FRACTION
from inference.talking.rig import Pose, build_rig, render
from inference.talking.speech import MAX_TEXT_CHARS, SAMPLE_RATE, speak

EN_LINE = "Hello there, how are you today? I am fine, thank you."
ZH_LINE = "你好，我是萌像。今天天气很好！"
FPS = 25
# A pause this long (in frames) or longer must show closed lips, and this is closed: a tenth
# of the ~0.25-unit gap of an ordinary syllable.
PAUSE_FRAMES = 5
CLOSED_GAP = 0.05


def decoded(video: bytes, size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """The MP4's frames (RGB) and sound (mono float at SAMPLE_RATE), decoded by ffmpeg."""
    ffmpeg = ffmpeg_exe()
    pictures = subprocess.run([ffmpeg, "-v", "error", "-i", "pipe:0", "-f", "rawvideo",
                               "-pix_fmt", "rgb24", "-"], input=video, capture_output=True,
                              check=True, timeout=60).stdout
    sound = subprocess.run([ffmpeg, "-v", "error", "-i", "pipe:0", "-ac", "1", "-ar",
                            str(SAMPLE_RATE), "-f", "s16le", "-"], input=video,
                           capture_output=True, check=True, timeout=60).stdout
    frames = np.frombuffer(pictures, np.uint8).reshape(-1, size, size, 3)
    return frames, np.frombuffer(sound, "<i2").astype(np.float32) / 32768


def stream_info(video: bytes) -> str:
    """What ``ffmpeg -i`` says about the file (ffprobe does not ship with imageio-ffmpeg)."""
    done = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", "pipe:0"], input=video,
                          capture_output=True, timeout=60)
    return done.stderr.decode(errors="replace")


def frame_loudness(sound: np.ndarray, count: int) -> np.ndarray:
    hop = SAMPLE_RATE // FPS
    padded = np.pad(sound, (0, max(0, count * hop - len(sound))))[:count * hop]
    return np.sqrt(np.mean(padded.reshape(count, hop) ** 2, axis=1))


def measured_face(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame, the inner-lip gap and the eye opening in eye-to-mouth units, from dlib's
    landmarks found again on the frame (the detector's box from the first frame)."""
    faces = detect_faces(frames[0])
    assert faces, "the rendered face is no longer a face"
    box = dlib.rectangle(*faces[0].box)
    predictor = landmarks_68()
    gaps, eyes = [], []
    for frame in frames:
        points = np.array([(p.x, p.y) for p in predictor(frame, box).parts()], np.float32)
        eye_centre = (points[36:42].mean(axis=0) + points[42:48].mean(axis=0)) / 2
        unit = np.linalg.norm((points[48] + points[54]) / 2 - eye_centre)
        gaps.append(np.mean(points[[65, 66, 67], 1] - points[[61, 62, 63], 1]) / unit)
        eyes.append(np.mean(points[[40, 41, 46, 47], 1] - points[[38, 37, 44, 43], 1]) / unit)
    return np.array(gaps), np.array(eyes)


def pauses(loudness: np.ndarray) -> list[range]:
    """Runs of at least PAUSE_FRAMES silent frames, less the frame at each end (where the lips
    may be half-way to or from closing within its 40 ms)."""
    silent = loudness < 0.02 * loudness.max()
    runs, start = [], None
    for index, quiet in enumerate(list(silent) + [False]):
        if quiet and start is None:
            start = index
        elif not quiet and start is not None:
            if index - start >= PAUSE_FRAMES:
                runs.append(range(start + 1, index - 1))
            start = None
    return runs


def assert_lips_follow_sound(video: bytes) -> np.ndarray:
    frames, sound = decoded(video)
    gaps, eyes = measured_face(frames)
    loudness = frame_loudness(sound, len(frames))
    assert np.corrcoef(gaps, loudness)[0, 1] >= 0.6
    runs = pauses(loudness)
    assert runs, "the clip has no pause to check"
    for run in runs:
        assert gaps[list(run)].max() < CLOSED_GAP, f"the lips are apart in the pause {run}"
    assert gaps.max() > 3 * CLOSED_GAP  # and they do open
    return eyes


def wav_bytes(samples: np.ndarray, rate: int = SAMPLE_RATE) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(np.round(np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return buffer.getvalue()


def drawn_character() -> np.ndarray:
    """A flat-shaded character in THA3's input format (512x512 RGBA, the head inside the
    128x128 box centred in the upper half): big eyes, a one-stroke mouth, no real face."""
    image = np.zeros((512, 512, 4), np.uint8)

    def ellipse(centre, axes, colour):
        cv2.ellipse(image, centre, axes, 0, 0, 360, colour, -1, cv2.LINE_AA)

    cv2.rectangle(image, (150, 230), (362, 511), (90, 120, 200, 255), -1)  # shoulders
    ellipse((256, 120), (66, 70), (70, 45, 30, 255))  # hair
    cv2.rectangle(image, (236, 190), (276, 240), (250, 215, 190, 255), -1)  # neck
    ellipse((256, 140), (52, 58), (250, 220, 200, 255))  # face
    ellipse((256, 92), (60, 26), (70, 45, 30, 255))  # fringe
    for x in (234, 278):
        ellipse((x, 142), (9, 13), (40, 30, 60, 255))
        ellipse((x + 3, 137), (3, 4), (255, 255, 255, 255))
    cv2.line(image, (248, 176), (264, 176), (190, 60, 70, 255), 2, cv2.LINE_AA)
    return image


@pytest.fixture(scope="module")
def en_clip(astronaut):
    return make_talking_clip(astronaut, text=EN_LINE)


@pytest.fixture(scope="module")
def recording_clip(astronaut):
    """A 6-s "recording": an espeak line, half a second of silence, the line again, quiet to
    the end, sent as a WAV file the way a user's upload is."""
    line = speak("Nice to meet you. See you soon.").samples
    gap = np.zeros(SAMPLE_RATE // 2, np.float32)
    samples = np.concatenate([line, gap, line])
    samples = np.pad(samples, (0, max(0, 6 * SAMPLE_RATE - len(samples))))
    return make_talking_clip(astronaut, audio=wav_bytes(samples), seed=3)


def test_clip_is_an_mp4_with_both_streams_and_the_speech_length(en_clip):
    info = stream_info(en_clip.video)
    assert re.search(r"Video: h264 .*yuv420p.*512x512", info)
    assert "Audio: aac" in info
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info).groups()
    duration = int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    spoken = speak(EN_LINE).duration
    assert abs(duration - en_clip.duration) < 0.05
    assert spoken <= en_clip.duration < spoken + 1 / FPS + 1e-6
    frames, sound = decoded(en_clip.video)
    assert len(frames) == en_clip.frames == round(en_clip.duration * FPS)
    assert abs(len(sound) / SAMPLE_RATE - en_clip.duration) < 0.05
    # faststart: the index comes before the media, so playback starts before the download ends
    assert en_clip.video.find(b"moov") < en_clip.video.find(b"mdat")
    assert en_clip.poster.startswith(b"\x89PNG")
    poster = cv2.imdecode(np.frombuffer(en_clip.poster, np.uint8), cv2.IMREAD_COLOR)
    assert poster.shape == (512, 512, 3)
    assert en_clip.preview[:4] == b"RIFF" and en_clip.preview[8:12] == b"WEBP"
    assert b"ANIM" in en_clip.preview and len(en_clip.preview) <= 1024 * 1024
    assert en_clip.as_metadata()["speech"] == "tts:en"


def test_lips_follow_an_english_line(en_clip):
    assert_lips_follow_sound(en_clip.video)


def test_lips_follow_a_mandarin_line_spoken_from_pinyin(astronaut):
    clip = make_talking_clip(astronaut, text=ZH_LINE)
    assert clip.speech == "tts:zh"
    assert_lips_follow_sound(clip.video)


def test_lips_follow_a_recording_and_the_eyes_blink(recording_clip):
    assert recording_clip.speech == "recording"
    assert abs(recording_clip.duration - 6.0) < 0.05
    eyes = assert_lips_follow_sound(recording_clip.video)
    open_eyes = np.median(eyes)
    shut = eyes < 0.6 * open_eyes
    assert shut.any(), "no blink in 6 s"
    assert shut.mean() < 0.1  # blinks are brief: the eyes stay open nearly all the time


def test_no_blinks_or_sway_without_idle(astronaut):
    quiet = make_talking_clip(astronaut, text="Hi. How are you doing today, my friend?",
                              idle=False, size=256)
    frames, _ = decoded(quiet.video, 256)
    # Everything above the mouth is still: only the speech moves the face.
    upper = frames[:, :110].astype(np.int16)
    assert np.abs(upper - upper[0]).max(axis=(1, 2, 3)).mean() < 12


@pytest.fixture(scope="module")
def rig_photo(astronaut):
    landmarks = detect_faces(astronaut)[0].landmarks
    return crop_head(astronaut, landmarks, size=512, unit_fraction=UNIT_FRACTION,
                     eye_height=EYE_HEIGHT)


@pytest.fixture(scope="module")
def neutral_frame(rig_photo):
    rig = build_rig(rig_photo.image, rig_photo.landmarks, emotion_params("neutral"),
                    rig_photo.unit)
    return render(rig, Pose())[0]


@pytest.mark.parametrize("emotion", known_emotions())
def test_every_emotion_renders(emotion, rig_photo, neutral_frame):
    rig = build_rig(rig_photo.image, rig_photo.landmarks, emotion_params(emotion),
                    rig_photo.unit)
    frame, _ = render(rig, Pose(opening=0.6, blink=0.5, tilt=1.0))
    assert frame.shape == (512, 512, 3)
    assert detect_faces(frame), f"{emotion}: the face is torn"
    if emotion != "neutral":
        resting = render(rig, Pose())[0]
        face = (slice(150, 350), slice(150, 360))
        assert np.abs(resting[face].astype(int) - neutral_frame[face]).mean() > 0.3
    # Outside the still ring's box the picture never moves.
    x0, y0, x1, y1 = rig.box
    outside = np.ones(frame.shape[:2], bool)
    outside[y0:y1, x0:x1] = False
    assert outside.mean() > 0.3
    assert np.array_equal(frame[outside], rig_photo.image[outside])


def test_drawn_character_in_tha3_format_talks_through_its_head_box():
    character = drawn_character()
    assert not detect_faces(np.ascontiguousarray(character[..., :3])), "dlib sees a face"
    clip = make_talking_clip(character, text=EN_LINE)
    assert clip.face == "tha3_box"
    frames, sound = decoded(clip.video)
    # The drawn mouth's dark inside, under the eyes in the middle of the frame.
    mouth = frames[:, 256:340, 180:330].astype(np.float32)
    dark = (mouth.mean(axis=3) < 100).sum(axis=(1, 2))
    loudness = frame_loudness(sound, len(frames))
    assert dark.max() > 50
    assert np.corrcoef(dark, loudness)[0, 1] >= 0.6


def test_drawn_face_without_alpha_needs_a_face_box():
    picture = np.ascontiguousarray(drawn_character()[..., :3])
    with pytest.raises(InferenceError) as error:
        make_talking_clip(picture, text="Hi.")
    assert error.value.code == "no_face"
    clip = make_talking_clip(picture, text="Hi.", face_box=(204, 109, 308, 192), size=256)
    assert clip.face == "face_box"


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"text": "Hi.", "emotion": "smug"}, "unknown_emotion"),
    ({}, "text_required"),
    ({"text": "   "}, "text_required"),
    ({"text": "a" * (MAX_TEXT_CHARS + 1)}, "text_too_long"),
    ({"audio": wav_bytes(np.zeros(SAMPLE_RATE, np.float32))}, "audio_silent"),
    ({"audio": wav_bytes(0.3 * np.sin(np.arange(31 * SAMPLE_RATE) * 0.05))},
     "audio_too_long"),
    ({"audio": b"not a recording"}, "bad_audio"),
    ({"text": "Hi.", "audio": wav_bytes(np.zeros(10, np.float32))}, "bad_request"),
    ({"text": "Hi.", "size": 1024}, "bad_request"),
    ({"text": "Hi.", "voice": "fr"}, "bad_request"),
    ({"text": "Hi.", "face_box": (0, 0, 2000, 2000)}, None),  # a face is found: box unused
])
def test_bad_input_fails_with_a_clear_code(astronaut, kwargs, code):
    if code is None:
        assert make_talking_clip(astronaut, size=256, **kwargs).face == "dlib"
        return
    with pytest.raises(InferenceError) as error:
        make_talking_clip(astronaut, **kwargs)
    assert error.value.code == code
    assert str(error.value)


def test_picture_without_a_face_fails_with_no_face():
    gradient = np.dstack([np.tile(np.linspace(0, 255, 300, dtype=np.uint8), (300, 1))] * 3)
    with pytest.raises(InferenceError) as error:
        make_talking_clip(gradient, text="Hi.")
    assert error.value.code == "no_face"


def test_our_anime_avatar_talks_with_dlib_landmarks(astronaut):
    from inference.anime.stylize import stylize

    avatar = stylize(astronaut, mode="avatar").image
    clip = make_talking_clip(avatar, text=EN_LINE, emotion="happy")
    assert clip.face == "dlib"
    assert_lips_follow_sound(clip.video)


def test_fixture_photo_talks(face_photo):
    clip = make_talking_clip(face_photo("obama.jpg"), text=EN_LINE, emotion="joy")
    assert_lips_follow_sound(clip.video)


def test_command_line_writes_the_clip(tmp_path, astronaut):
    from PIL import Image

    from inference.__main__ import main

    Image.fromarray(astronaut).save(tmp_path / "photo.png")
    out = tmp_path / "out"
    assert main(["talking", str(tmp_path / "photo.png"), "--text", "Hi.", "--size", "256",
                 "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"talking.mp4", "poster.png", "preview.webp",
                                               "metadata.json"}
    assert main(["talking", str(tmp_path / "photo.png"), "--text", "Hi.", "--emotion", "x"]) == 1
