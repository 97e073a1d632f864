"""Time the portrait core (AI写真): PAI's check of 10 photos, an identity from 10 photos, and
fusing into a 1024x1024 template with one face and a 1536x512 one with three. Prints Markdown.

    .venv/bin/python bench/portrait.py [--runs 3]
    HF_HUB_OFFLINE=1 .venv/bin/python bench/portrait.py --diffusion [--sd-model-dir DIR]

``--diffusion`` also times the diffusion path: a LoRA trained on the 10 photos' faces and the
same two renders with it, on ``--sd-model-dir`` or else the tests' tiny random-weight pipeline
(64-px, a few MB: its figures are the path's own cost around the model, not SD1.5's speed).

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
    parser.add_argument("--diffusion", action="store_true",
                        help="also time LoRA training and rendering with Stable Diffusion")
    parser.add_argument("--sd-model-dir", default=None,
                        help="an SD1.5 diffusers folder (default: a tiny random-weight one)")
    parser.add_argument("--lora-steps", type=int, default=50)
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

    if args.diffusion:
        rows += diffusion_rows(args, photos, identity, biden_identity, single, group)

    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, medians; load average {load:.1f} on {os.cpu_count()} cores\n")
    print("| step | wall | CPU | target |\n| --- | --- | --- | --- |")
    for name, wall, cpu, target in rows:
        print(f"| {name} | {wall:.2f} s | {cpu:.2f} s | "
              f"{f'≤ {target:g} s' if target else '—'} |")
    print("\nfused distances (dlib, to the identity):",
          [face["distance"] for face in result.faces + multi.faces])
    print("fuse stages (1 face):", {k: round(v, 3) for k, v in result.timings.items()})
    return 0


def diffusion_rows(args, photos, identity, biden_identity, single, group) -> list[tuple]:
    """LoRA training and the two renders on the diffusion path (no targets: PAI's own GPU
    service takes minutes to train and tens of seconds to render)."""
    import tempfile

    from inference.diffusion import load_sd_pipeline
    from inference.diffusion.loading import checkpoint_engine
    from inference.portrait.diffusion import render
    from inference.portrait.lora import TrainingOptions, train_lora, training_faces
    from tests.inference.tiny_sd import build_tiny_sd

    model_dir = args.sd_model_dir or build_tiny_sd(Path(tempfile.mkdtemp()) / "tiny-sd")
    label = "SD1.5" if args.sd_model_dir else "tiny random-weight pipeline"
    faces = training_faces(check_photos(photos), size=512)
    options = TrainingOptions(steps=args.lora_steps, rank=32 if args.sd_model_dir else 4)
    base = checkpoint_engine(model_dir)
    wall, cpu, lora = timed(lambda: train_lora(model_dir, faces, base=base, options=options),
                            args.runs)
    data = lora.to_bytes()
    handle = load_sd_pipeline(model_dir)
    rows = [(f"LoRA, {args.lora_steps} steps on 10 faces, {label}", wall, cpu, None)]
    wall, cpu, _ = timed(lambda: render(single, [identity], [data], handle=handle, seed=1),
                         args.runs)
    rows.append((f"render, 1 face, {single.shape[1]}x{single.shape[0]}, 50+30 steps at "
                 f"0.45/0.30, {label}", wall, cpu, None))
    wall, cpu, _ = timed(lambda: render(group, [identity, biden_identity, identity],
                                        [data, data, data], handle=handle, seed=1), args.runs)
    rows.append((f"render, 3 faces, {group.shape[1]}x{group.shape[0]}, {label}", wall, cpu,
                 None))
    print(f"LoRA file: {len(data) / 1e6:.2f} MB; {handle.engine} on {handle.device}")
    return rows


if __name__ == "__main__":
    sys.exit(main())
