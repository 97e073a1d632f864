"""AnimeGANv2 checkpoints in the public animegan2-pytorch format, found in ``MODELS_DIR/animegan/``.

A file there (``face_paint_512_v2.pt`` ...) becomes a style named after it. Each is loaded once
per process (keyed by path, size and modification time) with ``weights_only=True``.
"""
from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

from inference.anime.generator import Generator
from inference.anime.runtime import GeneratorRunner
from inference.config import models_dir as configured_models_dir
from inference.errors import ModelLoadError

CHECKPOINT_SUFFIXES = (".pt", ".pth")

_lock = threading.Lock()
_loaded: dict[tuple[str, int, int], "LoadedCheckpoint"] = {}


@dataclass(frozen=True)
class LoadedCheckpoint:
    name: str
    sha256: str
    runner: GeneratorRunner

    @property
    def engine(self) -> str:
        return f"animegan:{self.name}@{self.sha256[:12]}"


def checkpoint_folder(models_dir: str | os.PathLike | None = None) -> Path:
    return Path(models_dir if models_dir is not None else configured_models_dir()) / "animegan"


def find_checkpoints(models_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Style name -> checkpoint file, for every checkpoint in ``MODELS_DIR/animegan/``."""
    folder = checkpoint_folder(models_dir)
    if not folder.is_dir():
        return {}
    return {
        path.stem: path
        for path in sorted(folder.iterdir())
        if path.suffix in CHECKPOINT_SUFFIXES and path.is_file()
    }


def load_checkpoint(path: str | os.PathLike) -> LoadedCheckpoint:
    """The generator in ``path`` ready to run; loaded once per process, safe across threads."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError as error:
        raise ModelLoadError(f"Checkpoint {path} cannot be read: {error}") from error
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key not in _loaded:
            _loaded[key] = _load(path)
        return _loaded[key]


def load_generator_weights(path: Path) -> Generator:
    """A Generator holding the checkpoint's weights; a clear error when the file does not fit."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for a corrupt or unsafe file
        raise ModelLoadError(
            f"{path.name} is not a loadable PyTorch checkpoint ({error}). Use a generator "
            "state_dict from animegan2-pytorch, e.g. face_paint_512_v2.pt."
        ) from error
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise ModelLoadError(f"{path.name} holds a {type(state).__name__}, not a generator state_dict.")
    generator = Generator()
    _check_keys(path.name, generator.state_dict(), state)
    generator.load_state_dict(state)
    return generator.eval()


def _check_keys(name: str, expected: dict, found: dict) -> None:
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    wrong_shape = [
        f"{key} {tuple(found[key].shape)} != {tuple(expected[key].shape)}"
        for key in expected
        if key in found and hasattr(found[key], "shape") and found[key].shape != expected[key].shape
    ]
    if missing or unexpected or wrong_shape:
        parts = []
        if missing:
            parts.append(f"missing {len(missing)} keys: {_first(missing)}")
        if unexpected:
            parts.append(f"unexpected {len(unexpected)} keys: {_first(unexpected)}")
        if wrong_shape:
            parts.append(f"{len(wrong_shape)} shapes differ: {_first(wrong_shape)}")
        raise ModelLoadError(
            f"{name} is not an AnimeGANv2 generator checkpoint ({'; '.join(parts)}). "
            "Expected the 77-tensor state_dict of animegan2-pytorch (e.g. face_paint_512_v2.pt)."
        )


def _first(items: list[str], count: int = 5) -> str:
    shown = ", ".join(items[:count])
    return shown + (f", ... ({len(items) - count} more)" if len(items) > count else "")


def _load(path: Path) -> LoadedCheckpoint:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    generator = load_generator_weights(path)
    return LoadedCheckpoint(name=path.stem, sha256=digest, runner=GeneratorRunner(generator))
