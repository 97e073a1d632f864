"""Time the portrait core (AI写真): PAI's check of 10 photos, an identity from 10 photos, and
fusing into a 1024x1024 template with one face and a 1536x512 one with three. Prints Markdown.

    .venv/bin/python bench/portrait.py [--runs 3]

Uses the ../shared fixtures (Obama's photo made into a set; Biden's as the template).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from inference.faces import warm_up  # noqa: E402
from inference.faces.photo import read_rgb  # noqa: E402
from inference.portrait import check_photos, fuse, learn_identity  # noqa: E402
from tests.inference.portrait_photos import photo_set, side_by_side  # noqa: E402

FACES = REPO.parent / "shared" / "fixtures" / "faces"
TEMPLATE_SIDE = 1024


def ten_photos(rgb: np.ndarray) -> list[np.ndarray]:
    """Ten photos of one person: the test set and the same, slightly smaller and turned."""
    first = photo_set(rgb)
    second = [cv2.resize(photo, None, fx=0.8, fy=0.8, interpolation=cv2.INTER_AREA)
              for photo in photo_set(np.ascontiguousarray(rgb[:, ::-1]))]
    return first + second


def timed(function, runs: int) -> tuple[float, float, object]:
    """Median wall and CPU seconds over ``runs``, and the last result."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (FACES / "obama.jpg").is_file():
        print(f"needs the fixture photos in {FACES}")
        return 1
    obama, biden = read_rgb(FACES / "obama.jpg"), read_rgb(FACES / "biden.jpg")
    photos = ten_photos(obama)
    warm_up()
    check_photos(photos[:1])  # loads the descriptor net

    rows = []
    wall, cpu, checks = timed(lambda: check_photos(photos), args.runs)
    assert [c.code for c in checks] == [1] * 10, [c.code for c in checks]
    rows.append(("check 10 photos (~1137x910 and 910x728)", wall, cpu, 3.0))
    wall, cpu, identity = timed(lambda: learn_identity(photos), args.runs)
    rows.append(("identity from 10 photos (check included)", wall, cpu, 5.0))

    single = side_by_side(biden, side=TEMPLATE_SIDE)  # the face ~40 % of the width
    wall, cpu, result = timed(lambda: fuse(single, [identity]), args.runs)
    rows.append((f"fuse, 1 face, {single.shape[1]}x{single.shape[0]} template", wall, cpu, 3.0))
    biden_identity = learn_identity(photo_set(biden))
    group = side_by_side(biden, obama, biden, side=TEMPLATE_SIDE // 2)
    wall, cpu, multi = timed(lambda: fuse(group, [identity, biden_identity, identity]), args.runs)
    rows.append((f"fuse, 3 faces, {group.shape[1]}x{group.shape[0]} template", wall, cpu, 6.0))

    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, medians; load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| step | wall | CPU | target |\n| --- | --- | --- | --- |")
    for name, wall, cpu, target in rows:
        print(f"| {name} | {wall:.2f} s | {cpu:.2f} s | ≤ {target:g} s |")
    print("\nfused distances (dlib, to the identity):",
          [face["distance"] for face in result.faces + multi.faces])
    print("fuse stages (1 face):", {k: round(v, 3) for k, v in result.timings.items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())
