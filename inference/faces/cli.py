"""`python -m inference faces IN`: print the faces found in a photo as JSON."""
from __future__ import annotations

import argparse
import json

from inference.faces.detect import detect_faces
from inference.faces.photo import read_rgb


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("faces", help="detect faces; print boxes, landmarks and scores as JSON")
    parser.add_argument("image", help="photo to read")
    parser.add_argument("--detector", choices=["hog", "cnn"], default="hog")
    parser.add_argument("--upsample", type=int, default=None, help="detector upsamplings (default: by image size)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rgb = read_rgb(args.image)
    faces = detect_faces(rgb, detector=args.detector, upsample=args.upsample)
    print(json.dumps({"width": rgb.shape[1], "height": rgb.shape[0], "faces": [f.as_dict() for f in faces]}))
    return 0
