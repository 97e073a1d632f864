"""`python -m inference <pipeline> ...`: run a pipeline from a terminal.

Each pipeline contributes its subcommand through a ``cli`` module with ``register(subparsers)``;
pipelines that are not installed yet are left out.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from inference.errors import InferenceError

PIPELINE_CLIS = ["inference.faces.cli", "inference.anime.cli", "inference.sticker.cli",
                 "inference.talking.cli", "inference.portrait.cli", "inference.voice.cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m inference", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in PIPELINE_CLIS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is None or not name.startswith(error.name):
                raise  # the module exists but something it imports is missing
            continue
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except InferenceError as error:
        print(f"error ({error.code}): {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
