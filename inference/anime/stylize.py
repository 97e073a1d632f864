"""``stylize``: a photo in, an anime picture out, with the engine and timings that made it."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from inference.anime import procedural, toon
from inference.anime.checkpoints import find_checkpoints, load_checkpoint
from inference.anime.compose import paste_face
from inference.errors import InferenceError, NoFaceError
from inference.faces import align_face, detect_faces
from inference.faces.detect import checked_rgb
from inference.progress import Progress, scaled, silent
from inference.working_size import fit_within

PROCEDURAL = "procedural"
MODES = ("face", "full", "avatar")
FACE_SIZE = 512
# The long side each mode works at. face and full return the whole photo, twice a phone
# screen's width; the procedural style is drawn in pixels (line widths, filter sizes), so a
# photo this size looks as it always did. avatar only needs the face to fill its 512-px square:
# a face a third of the photo wide still does at 1536.
WORKING_SIDE = {"face": 2048, "full": 2048, "avatar": 1536}
# The procedural scene is painted in bands of rows with context above and below, so its float
# buffers (~60 bytes a pixel) cover a band, not the photo. Its filters reach ~32 px: with 48
# rows of context each band comes out as in the whole picture (exactly, for an even height).
SCENE_BAND, SCENE_CONTEXT = 512, 48


@dataclass
class StyleResult:
    image: np.ndarray  # RGB uint8
    engine: str  # "procedural-v2" or "animegan:<checkpoint>@<sha256[:12]>"
    path: str  # "procedural" or "animegan"
    backend: str  # what computed it: "numpy" (procedural) or a GeneratorRunner backend
    mode: str  # the mode actually used ("full" when face/avatar found no face)
    faces: int
    style: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    fallback: str | None = None  # why the requested mode was not used

    def as_metadata(self) -> dict:
        metadata = {
            "engine": self.engine,
            "path": self.path,
            "backend": self.backend,
            "mode": self.mode,
            "faces": self.faces,
            "style": self.style,
            "timings": {stage: round(seconds, 4) for stage, seconds in self.timings.items()},
        }
        if self.fallback:
            metadata["fallback"] = self.fallback
        return metadata


def available_styles(models_dir: str | os.PathLike | None = None) -> list[dict]:
    """The procedural style (always) and one style per checkpoint in ``MODELS_DIR/animegan/``."""
    styles = [{"name": PROCEDURAL, "engine": procedural.ENGINE, "path": "procedural"}]
    for name, path in find_checkpoints(models_dir).items():
        styles.append({"name": name, "engine": f"animegan:{name}", "path": "animegan", "file": path.name})
    return styles


def stylize(
    rgb: np.ndarray,
    *,
    style: str = PROCEDURAL,
    mode: str = "face",
    strength: float = 0.6,
    models_dir: str | os.PathLike | None = None,
    progress: Progress = silent,
) -> StyleResult:
    """Style a photo. ``mode``: "face" (styled face pasted onto a styled scene), "avatar" (the
    square styled face) or "full" (the whole photo). Without a face, face mode falls back to the
    whole-scene treatment and says so in ``fallback``; avatar mode raises ``NoFaceError``.
    ``strength`` (0..1) sets how far the procedural style goes: anime proportions and eye size,
    flat areas and line weight all rise with it (``procedural.Strength``). A photo larger than
    the mode's ``WORKING_SIDE`` is scaled down first."""
    if mode not in MODES:
        raise InferenceError(f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.", code="bad_request")
    rgb = fit_within(checked_rgb(rgb), WORKING_SIDE[mode])
    timings: dict[str, float] = {}
    styler = _styler(style, models_dir, timings)

    face = None
    faces_found = 0
    if mode != "full":
        with _timed(timings, "faces"):
            faces = detect_faces(rgb)
        faces_found = len(faces)
        face = faces[0] if faces else None
    progress("faces", 0.1)

    if mode == "avatar" and face is None:
        # An avatar is a face: a whole-scene picture in its place would look like success.
        raise NoFaceError("No face was found in this photo, so no avatar can be made. Use a "
                          "photo with one clearly visible face, or mode 'face' or 'full'.")
    fallback = None
    if mode == "face" and face is None:
        fallback = "no face found: whole-scene treatment"
    used_mode = mode if face is not None else "full"

    if used_mode == "full":
        with _timed(timings, "scene"):
            image = styler.scene(rgb, scaled(progress, 0.1, 0.95))
    else:
        with _timed(timings, "align"):
            aligned = align_face(rgb, face, size=FACE_SIZE)
        with _timed(timings, "face"):
            styled_face = styler.face(aligned.image, aligned.to_aligned(face.landmarks), strength)
        progress("face", 0.5)
        if used_mode == "avatar":
            image = styled_face
        else:
            with _timed(timings, "scene"):
                background = styler.scene(rgb, scaled(progress, 0.5, 0.9))
            with _timed(timings, "compose"):
                image = paste_face(background, styled_face, aligned)
    progress("done", 1.0)
    timings["total"] = sum(timings.values())
    return StyleResult(
        image=image, engine=styler.engine, path=styler.path, backend=styler.backend, mode=used_mode, faces=faces_found,
        style=style, timings=timings, fallback=fallback,
    )


class _Procedural:
    engine = procedural.ENGINE
    path = "procedural"
    backend = "numpy"

    def face(self, square, landmarks, strength):
        return procedural.stylize_face(square, landmarks, strength=strength)

    def scene(self, rgb, progress):
        return scene_in_bands(rgb)


class _AnimeGan:
    path = "animegan"

    def __init__(self, checkpoint) -> None:
        self.checkpoint = checkpoint
        self.engine = checkpoint.engine
        self.backend = checkpoint.runner.backend

    def face(self, square, landmarks, strength):
        return self.checkpoint.runner.run(square)

    def scene(self, rgb, progress):
        return self.checkpoint.runner.run(rgb, progress=progress)


def scene_in_bands(rgb: np.ndarray, *, band: int = SCENE_BAND,
                   context: int = SCENE_CONTEXT) -> np.ndarray:
    """``toon.scene(rgb)``, painted ``band`` rows at a time (even numbers keep its half-scale
    pass aligned)."""
    height = rgb.shape[0]
    out = np.empty_like(rgb)
    for top in range(0, height, band):
        bottom = min(top + band, height)
        start, stop = max(0, top - context), min(height, bottom + context)
        out[top:bottom] = toon.scene(rgb[start:stop])[top - start : bottom - start]
    return out


def _styler(style: str, models_dir, timings: dict[str, float]):
    if style == PROCEDURAL:
        return _Procedural()
    checkpoints = find_checkpoints(models_dir)
    if style not in checkpoints:
        known = ", ".join([PROCEDURAL, *checkpoints])
        raise InferenceError(
            f"Unknown style {style!r}. Available: {known}. Put AnimeGANv2 checkpoints (.pt) in "
            "MODELS_DIR/animegan/ to add styles.",
            code="unknown_style",
        )
    with _timed(timings, "load"):
        return _AnimeGan(load_checkpoint(checkpoints[style]))


@contextmanager
def _timed(timings: dict[str, float], stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start
