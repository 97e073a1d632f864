"""Times the diffusion path: loading a pipeline, then img2img with each scheduler.

    python -m bench.diffusion --model /models/sd15-anime --image face.png --size 512
    python -m bench.diffusion            # a tiny random pipeline: checks the plumbing, not speed

Prints one JSON line per run (engine, steps run, timings) and writes the last images next to
--out when given.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from inference.diffusion import img2img, load_sd_pipeline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a diffusers SD1.5 folder (default: build a tiny random one)")
    parser.add_argument("--image", type=Path, help="an aligned face (default: a gradient test card)")
    parser.add_argument("--size", type=int, default=None, help="working resolution, long side")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--strength", type=float, default=0.5)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", type=Path, help="folder for the generated images")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        model = args.model or _tiny_model(Path(scratch))
        started = time.perf_counter()
        handle = load_sd_pipeline(model, device=args.device)
        print(json.dumps({"load_s": round(time.perf_counter() - started, 3), "engine": handle.engine}))

        image = np.asarray(Image.open(args.image).convert("RGB")) if args.image else _test_card(args.size or 512)
        for scheduler in ("default", "lcm"):
            for run in range(args.repeat):
                result = img2img(
                    handle, image, prompt="anime sticker, smiling", strength=args.strength,
                    steps=args.steps, scheduler=scheduler, seed=run, size=args.size,
                )
                meta = result.as_metadata()
                shown = ("engine", "scheduler", "steps_run", "size", "timings")
                print(json.dumps({"run": run, **{key: meta[key] for key in shown}}))
            if args.out:
                args.out.mkdir(parents=True, exist_ok=True)
                Image.fromarray(result.image).save(args.out / f"diffusion-{scheduler}.png")


def _tiny_model(folder: Path) -> Path:
    from tests.inference.tiny_sd import build_tiny_sd

    return build_tiny_sd(folder / "tiny-sd")


def _test_card(side: int) -> np.ndarray:
    y, x = np.mgrid[0:side, 0:side] * (255 / side)
    return np.stack([x, y, np.full_like(x, 128)], axis=-1).astype(np.uint8)


if __name__ == "__main__":
    main()
