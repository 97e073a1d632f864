"""`python -m inference portrait check|identity|lora|fuse ...`: PAI's AI写真 steps from a
terminal."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from inference.config import sd_model_dir
from inference.errors import InferenceError
from inference.faces.photo import read_rgb, write_rgb
from inference.portrait.check import check_photo_bytes, check_photos
from inference.portrait.fusion import fuse
from inference.portrait.identity import Identity, learn_identity


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "portrait", help="AI portraits: check photos, learn an identity, fuse")
    steps = parser.add_subparsers(dest="step", required=True)
    check = steps.add_parser(
        "check", help="PAI's photo check: a code and message per photo, as JSON")
    check.add_argument("images", nargs="+")
    check.set_defaults(run=run_check)
    identity = steps.add_parser("identity", help="learn an identity from photos of one person")
    identity.add_argument("images", nargs="+")
    identity.add_argument("-o", "--output", required=True, help="identity file to write (.npz)")
    identity.set_defaults(run=run_identity)
    fusing = steps.add_parser("fuse", help="put identities into a template, left to right")
    fusing.add_argument("template")
    fusing.add_argument("identities", nargs="+", help="identity files, one per template face")
    fusing.add_argument("-o", "--output", required=True, help="where to write the portrait")
    fusing.add_argument("--configure", default=None, help="PAI's configure as JSON")
    fusing.add_argument("--sd-model-dir", default=sd_model_dir(),
                        help="render with Stable Diffusion from this SD1.5 folder "
                             "(default: $SD_MODEL_DIR; none: fusion only)")
    fusing.add_argument("--lora", action="append", default=[],
                        help="a person's LoRA (.safetensors), one per identity, in order")
    fusing.set_defaults(run=run_fuse)
    lora = steps.add_parser("lora", help="train a person's LoRA for Stable Diffusion")
    lora.add_argument("images", nargs="+")
    lora.add_argument("--sd-model-dir", default=sd_model_dir(), required=not sd_model_dir())
    lora.add_argument("--steps", type=int, default=800)
    lora.add_argument("--rank", type=int, default=32)
    lora.add_argument("-o", "--output", required=True, help="LoRA file to write (.safetensors)")
    lora.set_defaults(run=run_lora)


def run_check(args: argparse.Namespace) -> int:
    checks = check_photo_bytes([Path(path).read_bytes() for path in args.images])
    report = checks.as_dict()
    for entry, path in zip(report["check_results"], args.images):
        entry["url"] = path
    print(json.dumps(report, ensure_ascii=False))
    return 0 if all(check.ok for check in checks) else 1


def run_identity(args: argparse.Namespace) -> int:
    identity = learn_identity([read_rgb(path) for path in args.images])
    Path(args.output).write_bytes(identity.to_bytes())
    print(json.dumps({"photos": identity.photos, "faces": len(identity.faces)}))
    return 0


def run_fuse(args: argparse.Namespace) -> int:
    try:
        configure = json.loads(args.configure) if args.configure else None
    except json.JSONDecodeError as error:
        raise InferenceError(f"--configure is not JSON: {error}",
                             code="invalid_configure") from error
    identities = [Identity.from_bytes(Path(path).read_bytes()) for path in args.identities]
    if args.sd_model_dir:
        from inference.diffusion import load_sd_pipeline
        from inference.portrait.diffusion import render

        loras = [Path(path).read_bytes() for path in args.lora]
        loras += [None] * (len(identities) - len(loras))
        result = render(read_rgb(args.template), identities, loras, configure,
                        handle=load_sd_pipeline(args.sd_model_dir))
    else:
        result = fuse(read_rgb(args.template), identities, configure)
    write_rgb(args.output, result.image)
    print(json.dumps(result.as_metadata(), ensure_ascii=False))
    return 0


def run_lora(args: argparse.Namespace) -> int:
    from inference.diffusion.loading import checkpoint_engine
    from inference.portrait.lora import TrainingOptions, train_lora, training_faces

    checks = check_photos([read_rgb(path) for path in args.images])
    lora = train_lora(args.sd_model_dir, training_faces(checks, size=512),
                      base=checkpoint_engine(args.sd_model_dir),
                      options=TrainingOptions(steps=args.steps, rank=args.rank))
    Path(args.output).write_bytes(lora.to_bytes())
    print(json.dumps(lora.as_metadata()))
    return 0
