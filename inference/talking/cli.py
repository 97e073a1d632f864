"""`python -m inference talking PHOTO --text 你好 --out DIR`: a talking clip from a terminal."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "talking", help="make a photo or avatar say a line (MP4, poster PNG, WebP preview)")
    parser.add_argument("photo", help="picture with a face (PNG with alpha welcome)")
    speech = parser.add_mutually_exclusive_group(required=True)
    speech.add_argument("--text", help="the line to say (espeak-ng)")
    speech.add_argument("--audio", type=Path, help="a recording to lip-sync instead")
    parser.add_argument("--emotion", default="neutral",
                        help="a sticker expression (happy, sad, ...) or a go_emotions label "
                        "(joy, ...)")
    parser.add_argument("--voice", choices=["auto", "zh", "en"], default="auto")
    parser.add_argument("--rate", type=float, default=1.0, help="speech speed 0.5 .. 2")
    parser.add_argument("--size", type=int, default=512, help="video side, 256 .. 768")
    parser.add_argument("--fps", type=float, default=25)
    parser.add_argument("--no-idle", action="store_true", help="no blinks, sway or breathing")
    parser.add_argument("--face-box", type=float, nargs=4, metavar=("LEFT", "TOP", "RIGHT",
                        "BOTTOM"), help="where a drawn face is, when dlib finds none")
    parser.add_argument("--seed", type=int, default=0, help="picks the blink times")
    parser.add_argument("--out", type=Path, default=Path("talking-out"), help="output folder")
    parser.add_argument("--progress", action="store_true", help="print progress to stderr")
    parser.set_defaults(run=run, func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from inference.errors import InferenceError
    from inference.progress import silent
    from inference.talking import make_talking_clip

    try:
        with Image.open(args.photo) as image:
            photo = np.asarray(image.convert("RGBA" if "A" in image.getbands() else "RGB"))
    except OSError as error:
        raise InferenceError(f"Cannot read image {args.photo}: {error}",
                             code="bad_image") from error
    progress = silent
    if args.progress:
        def progress(stage: str, fraction: float, /) -> None:
            print(f"{fraction:5.0%} {stage}", file=sys.stderr)

    result = make_talking_clip(
        photo, text=args.text or "", audio=args.audio.read_bytes() if args.audio else None,
        emotion=args.emotion, voice=args.voice, rate=args.rate, size=args.size, fps=args.fps,
        idle=not args.no_idle, face_box=tuple(args.face_box) if args.face_box else None,
        seed=args.seed, progress=progress)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "talking.mp4").write_bytes(result.video)
    (args.out / "poster.png").write_bytes(result.poster)
    (args.out / "preview.webp").write_bytes(result.preview)
    metadata = result.as_metadata()
    (args.out / "metadata.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    print(json.dumps({"out": str(args.out), **metadata}, ensure_ascii=False))
    return 0
