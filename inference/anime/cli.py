"""`python -m inference anime IN -o OUT [--style NAME] [--mode face|full|avatar]`."""
from __future__ import annotations

import argparse
import json

from inference.anime.stylize import MODES, PROCEDURAL, stylize
from inference.faces.photo import read_rgb, write_rgb


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("anime", help="turn a photo into an anime picture")
    parser.add_argument("image", help="photo to read")
    parser.add_argument("-o", "--output", required=True, help="where to write the result (PNG/JPEG)")
    parser.add_argument("--style", default=PROCEDURAL, help="procedural, or a checkpoint name in MODELS_DIR/animegan/")
    parser.add_argument("--mode", choices=MODES, default="face")
    parser.add_argument("--strength", type=float, default=0.6, help="procedural style: 0..1")
    parser.add_argument("--models-dir", default=None, help="default: $MODELS_DIR or ./models")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    result = stylize(
        read_rgb(args.image), style=args.style, mode=args.mode, strength=args.strength,
        models_dir=args.models_dir,
    )
    write_rgb(args.output, result.image)
    print(json.dumps(result.as_metadata()))
    return 0
