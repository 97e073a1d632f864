"""Time the talking avatar: the render alone at 512x512 on one core (the mesh warp per frame,
on a real 10-s speech timeline), and a whole 10-s clip end to end (TTS + render + encode) on
all cores. Prints Markdown.

    python bench/talking.py                # 3 end-to-end runs
    python bench/talking.py --runs 5 --size 768
"""
from __future__ import annotations

import os

# One thread per library for the one-core figure: set before numpy and OpenCV load.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from skimage import data  # noqa: E402

from inference.faces import detect_faces  # noqa: E402
from inference.faces.photo import read_rgb  # noqa: E402
from inference.sticker.headcrop import crop_head  # noqa: E402
from inference.talking import make_talking_clip  # noqa: E402
from inference.talking.emotions import emotion_params  # noqa: E402
from inference.talking.lipsync import mouth_track  # noqa: E402
from inference.talking.motion import poses  # noqa: E402
from inference.talking.pipeline import EYE_HEIGHT, UNIT_FRACTION  # noqa: E402
from inference.talking.rig import build_rig, render  # noqa: E402
from inference.talking.speech import speak  # noqa: E402

FACES = REPO.parent / "shared" / "fixtures" / "faces"
# About ten seconds of espeak-ng English at rate 1.
TEN_SECONDS = ("Hello, it is me, your avatar. Today I learned to talk, to blink and to sway "
               "a little while I speak. Send this clip to a friend and see if they notice the "
               "difference.")


def photos() -> dict:
    found = {"astronaut": data.astronaut()}
    for name in ("obama.jpg", "biden.jpg"):
        if (FACES / name).is_file():
            found[name] = read_rgb(FACES / name)
    return found


def render_fps(rgb: np.ndarray, size: int, timeline) -> tuple[float, float]:
    """Frames per second of the render alone (wall and CPU), over the whole timeline."""
    crop = crop_head(rgb, detect_faces(rgb)[0].landmarks, size=size,
                     unit_fraction=UNIT_FRACTION, eye_height=EYE_HEIGHT)
    rig = build_rig(crop.image, crop.landmarks, emotion_params("joy"), crop.unit)
    render(rig, timeline[0])
    started, started_cpu = time.perf_counter(), time.process_time()
    for pose in timeline:
        render(rig, pose)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    return len(timeline) / wall, len(timeline) / cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="end-to-end runs")
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()

    cores = sorted(os.sched_getaffinity(0))
    print(f"Talking bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"size {args.size}\n")
    speech = speak(TEN_SECONDS)
    count = int(np.ceil(speech.duration * 25))
    timeline = poses(mouth_track(speech, 25, count), 25)

    os.sched_setaffinity(0, {cores[0]})  # the render figure is for one core
    cv2.setNumThreads(1)
    print(f"Render only, one core, {count} frames of a {speech.duration:.1f}-s line:\n")
    print("| photo | FPS (wall) | FPS (CPU) |")
    print("| --- | --- | --- |")
    for label, rgb in photos().items():
        wall, cpu = render_fps(rgb, args.size, timeline)
        print(f"| {label} | {wall:.0f} | {cpu:.0f} |")
    os.sched_setaffinity(0, set(cores))
    cv2.setNumThreads(len(cores))

    astronaut = data.astronaut()
    make_talking_clip(astronaut, text="Hi.")  # load the face models
    print(f"\nEnd to end, {len(cores)} cores: `make_talking_clip` on the astronaut, "
          f"{args.runs} runs:\n")
    print("| clip (s) | wall (s) | CPU in Python (s) | stages (s) |")
    print("| --- | --- | --- | --- |")
    walls = []
    for _ in range(args.runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = make_talking_clip(astronaut, text=TEN_SECONDS, size=args.size)
        wall = time.perf_counter() - started
        walls.append(wall)
        stages = ", ".join(f"{k} {v:.2f}" for k, v in result.timings.items())
        print(f"| {result.duration:.2f} | {wall:.2f} | {time.process_time() - started_cpu:.2f} "
              f"| {stages} |")
    print(f"\np50 wall {statistics.median(walls):.2f} s; MP4 {len(result.video) // 1024} KB, "
          f"preview {len(result.preview) // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
