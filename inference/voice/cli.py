"""`python -m inference voice "一个戴眼镜的黑发男孩在樱花树下看书" --out DIR`, or `--audio FILE`:
from a spoken or written description to slots, prompt, question and picture; or `--photo FILE`
("anime me"): the slots read from the photo, drawn by the same illustrator."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "voice", help="describe a picture in words or speech (zh/en) and get it drawn")
    parser.add_argument("text", nargs="?", help="the description (omit with --audio)")
    parser.add_argument("--audio", type=Path, help="a recording to transcribe instead")
    parser.add_argument("--photo", type=Path, help="anime me: read the slots from this photo")
    parser.add_argument("--subject", default="girl",
                        help="with --photo: who is drawn (girl, boy, woman, man, old man, ...)")
    parser.add_argument("--language", choices=["auto", "zh", "en"], default="auto",
                        help="language of the recording (default: detect)")
    parser.add_argument("--seed", type=int, default=0, help="picture seed")
    parser.add_argument("--sd-model-dir", default=os.environ.get("SD_MODEL_DIR") or None,
                        help="draw with Stable Diffusion from this SD1.5 folder (default: "
                        "$SD_MODEL_DIR; none: the embedded illustrator)")
    parser.add_argument("--models-dir", default=None,
                        help="AnimeGAN checkpoints for the pass after SD (default: $MODELS_DIR)")
    parser.add_argument("--anime-style", default="auto",
                        help="the checkpoint for that pass: auto, none or a name")
    parser.add_argument("--speak", action="store_true", help="also write question.wav")
    parser.add_argument("--out", type=Path, default=Path("voice-out"), help="output folder")
    parser.set_defaults(run=run, func=run)


def run(args: argparse.Namespace) -> int:
    from PIL import Image

    from inference.voice import describe
    from inference.voice.question import speak

    if args.photo:
        return _anime_me(args)
    if not args.text and not args.audio:
        print("error: give a description, a recording with --audio or a photo with --photo",
              flush=True)
        return 2
    transcript = None
    if args.audio:
        from inference.voice.transcribe import transcribe

        transcript = transcribe(args.audio, language=args.language)
        text = transcript.text
    else:
        text = args.text
    description = describe(text)
    picture = description.draw(seed=args.seed, sd_model_dir=args.sd_model_dir,
                               models_dir=args.models_dir, anime_style=args.anime_style)
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture.image).save(args.out / "picture.png")
    if args.speak:
        (args.out / "question.wav").write_bytes(
            speak(description.question, language=description.slots.language))
    metadata = {**description.as_metadata(), "picture": picture.as_metadata()}
    if transcript is not None:
        metadata["transcript"] = transcript.as_metadata()
    (args.out / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    print(json.dumps({"out": str(args.out), **metadata}, ensure_ascii=False))
    return 0


def _anime_me(args: argparse.Namespace) -> int:
    from PIL import Image

    from inference.faces.photo import read_rgb
    from inference.voice.illustrate import illustrate
    from inference.voice.photo import read_slots

    reading = read_slots(read_rgb(args.photo), subject=args.subject)
    picture = illustrate(reading.slots, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture.image).save(args.out / "picture.png")
    metadata = {**reading.as_metadata(), "picture": picture.as_metadata()}
    (args.out / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    print(json.dumps({"out": str(args.out), **metadata}, ensure_ascii=False))
    return 0
