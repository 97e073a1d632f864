"""Benchmark: face detection + 68 landmarks (+ scores), and descriptors, at 512².

    .venv/bin/python bench/faces.py [--repeats 20]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from skimage import data  # noqa: E402

from inference.faces import align_face, detect_faces, face_descriptor  # noqa: E402


def median_ms(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    photo = data.astronaut()  # 512 x 512, one face
    start = time.perf_counter()
    face = detect_faces(photo)[0]
    face_descriptor(photo, face)
    print(f"first call (loads the dlib models): {time.perf_counter() - start:.2f} s")
    print(f"detect_faces (HOG + 68 landmarks + scores) at 512²: {median_ms(lambda: detect_faces(photo), args.repeats):.1f} ms")
    print(f"detect_faces detector='cnn' at 512²: {median_ms(lambda: detect_faces(photo, detector='cnn'), 3):.0f} ms")
    print(f"face_descriptor: {median_ms(lambda: face_descriptor(photo, face), args.repeats):.1f} ms")
    print(f"align_face (512): {median_ms(lambda: align_face(photo, face), args.repeats):.1f} ms")


if __name__ == "__main__":
    main()
