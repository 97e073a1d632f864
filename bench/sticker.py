"""Time the embedded sticker path: photo + text → 240x240 sticker and 480x480 preview (and,
with --animated, the GIF), per stage, on the astronaut and the ../shared fixture faces.
Prints Markdown.

    python bench/sticker.py                 # still stickers, 5 runs each
    python bench/sticker.py --animated      # GIF as well
    python bench/sticker.py --runs 10 --texts 开心,惊讶
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from skimage import data  # noqa: E402

from inference.faces.photo import read_rgb  # noqa: E402
from inference.sticker import make_sticker  # noqa: E402

FACES = REPO.parent / "shared" / "fixtures" / "faces"
TEXTS = ["开心", "大笑", "惊讶", "生气", "哭", "害羞", "无语", "666"]


def photos() -> dict:
    found = {"astronaut (512x512)": data.astronaut()}
    for name in ("obama.jpg", "biden.jpg"):
        if (FACES / name).is_file():
            rgb = read_rgb(FACES / name)
            found[f"{name} ({rgb.shape[1]}x{rgb.shape[0]})"] = rgb
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per photo and text")
    parser.add_argument("--texts", default=",".join(TEXTS))
    parser.add_argument("--animated", action="store_true")
    args = parser.parse_args()
    texts = args.texts.split(",")

    images = photos()
    make_sticker(next(iter(images.values())), text="开心")  # load models, fonts, caches
    print(f"Sticker bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.runs} runs x {len(texts)} texts per photo, animated={args.animated}\n")
    # CPU time next to wall time: on a shared machine the wall clock also counts other work.
    print("| photo | p50 wall (s) | p90 wall (s) | max wall (s) | p50 CPU (s) | p50 per stage, wall (s) |")
    print("| --- | --- | --- | --- | --- | --- |")
    everything = []
    for label, rgb in images.items():
        totals, cpu, stages = [], [], {}
        for _ in range(args.runs):
            for text in texts:
                started, started_cpu = time.perf_counter(), time.process_time()
                result = make_sticker(rgb, text=text, animated=args.animated)
                totals.append(time.perf_counter() - started)
                cpu.append(time.process_time() - started_cpu)
                for stage, seconds in result.timings.items():
                    stages.setdefault(stage, []).append(seconds)
        everything += totals
        totals.sort()
        per_stage = ", ".join(f"{k} {statistics.median(v):.3f}" for k, v in stages.items())
        print(f"| {label} | {statistics.median(totals):.3f} | "
              f"{totals[int(0.9 * (len(totals) - 1))]:.3f} | {totals[-1]:.3f} | "
              f"{statistics.median(cpu):.3f} | {per_stage} |")
    everything.sort()
    print(f"\nAll: p50 {statistics.median(everything):.3f} s, "
          f"p90 {everything[int(0.9 * (len(everything) - 1))]:.3f} s over {len(everything)} stickers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
