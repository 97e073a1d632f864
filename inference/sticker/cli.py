"""`python -m inference sticker IN --text 开心 --out DIR`: make a sticker from a terminal."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from inference.config import sd_model_dir
from inference.progress import silent


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sticker", help="turn a selfie and a few words into a 240x240 sticker (PNG, GIF)")
    parser.add_argument("image", nargs="?", help="photo to read (omit with --list-templates)")
    parser.add_argument("--text", default="", help="the words: 开心, 大笑, 惊讶, 生气, 哭, 害羞, 无语, "
                        "666 or any short caption")
    caption = parser.add_mutually_exclusive_group()
    caption.add_argument("--caption", default=None, help="caption to print instead of the text")
    caption.add_argument("--no-caption", action="store_true", help="no caption")
    parser.add_argument("--template", default="classic", help="built-in template id")
    parser.add_argument("--template-json", type=Path, help="template from a JSON file (to_dict form)")
    parser.add_argument("--style", choices=["photo", "anime"], default="photo")
    parser.add_argument("--animated", action="store_true", help="also write animation.gif")
    parser.add_argument("--sd-model-dir", default=sd_model_dir(),
                        help="Stable Diffusion 1.5 pipeline folder (default: $SD_MODEL_DIR)")
    parser.add_argument("--lcm", action="store_true", help="use the LCM scheduler for diffusion")
    parser.add_argument("--seed", type=int, default=None, help="diffusion seed")
    parser.add_argument("--font", default=None, help="CJK font file (default: $STICKER_FONT or "
                        "the first one found)")
    parser.add_argument("--out", type=Path, default=Path("sticker-out"), help="output folder")
    parser.add_argument("--list-templates", action="store_true", help="print the built-in "
                        "templates as JSON and exit")
    parser.add_argument("--progress", action="store_true", help="print progress to stderr")
    parser.set_defaults(run=run, func=run)


def run(args: argparse.Namespace) -> int:
    from inference.faces.photo import read_rgb
    from inference.sticker import builtin_templates, make_sticker
    from inference.sticker.templates import Template, template_by_id

    if args.list_templates:
        print(json.dumps([t.to_dict() for t in builtin_templates()], ensure_ascii=False, indent=2))
        return 0
    if not args.image:
        print("error: give a photo to make a sticker from", flush=True)
        return 2
    if args.template_json:
        template = Template.from_dict(json.loads(args.template_json.read_text(encoding="utf-8")))
    else:
        template = template_by_id(args.template)
    caption = False if args.no_caption else (args.caption if args.caption is not None else True)
    sd_options = {"scheduler": "lcm"} if args.lcm else {}
    if args.seed is not None:
        sd_options["seed"] = args.seed
    progress = silent
    if args.progress:
        import sys

        def progress(stage: str, fraction: float, /) -> None:
            print(f"{fraction:5.0%} {stage}", file=sys.stderr)

    result = make_sticker(read_rgb(args.image), text=args.text, caption=caption,
                          template=template, style=args.style, animated=args.animated,
                          sd_model_dir=args.sd_model_dir, sd_options=sd_options,
                          font_path=args.font, progress=progress)
    args.out.mkdir(parents=True, exist_ok=True)
    names = {"sticker": "sticker.png", "preview": "preview.png", "animation": "animation.gif"}
    for key, data in result.encode().items():
        (args.out / names[key]).write_bytes(data)
    metadata = result.as_metadata()
    (args.out / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    print(json.dumps({"out": str(args.out), **metadata}, ensure_ascii=False))
    return 0
