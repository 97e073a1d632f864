"""A description painted by Stable Diffusion (``SD_MODEL_DIR``), then, where an AnimeGAN
checkpoint is installed, given the anime style pass (issue #15): txt2img alone draws what the
prompt says in whatever look the SD checkpoint has; the pass over it gives the picture the same
strokes and palette as the painted anime styles.

Which checkpoint: ``anime_style`` names one, ``none`` skips the pass, ``auto`` (the default)
takes the one the description's style asks for (宫崎骏 → ``hayao``, 新海诚 → ``shinkai``,
``paprika``) when installed, else the first of ``AUTO_ORDER`` installed, else any.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from inference.errors import InferenceError
from inference.progress import Progress, scaled, silent
from inference.voice.parse import Slots

# The description's style → the AnimeGAN checkpoint named after the film look it was trained on.
STYLE_CHECKPOINTS = {"ghibli": "hayao", "shinkai": "shinkai", "paprika": "paprika"}
# Scene-trained checkpoints first: a txt2img picture is a whole scene, not a face crop.
AUTO_ORDER = ("paprika", "hayao", "shinkai", "face_paint_512_v2", "face_paint_512_v1",
              "celeba_distill")


@dataclass
class PaintedPicture:
    image: np.ndarray  # RGB uint8
    engine: str  # "sd:<folder>@<hash>", then "+animegan:<name>@<hash>" when the pass ran
    seed: int
    models: dict[str, dict[str, str]]  # which model made each step, and from which file
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # each step's own metadata

    def as_metadata(self) -> dict[str, Any]:
        return {"engine": self.engine, "seed": self.seed, "models": self.models,
                **self.steps}


def anime_pass_style(slots: Slots, models_dir: str | os.PathLike | None,
                     choice: str = "auto") -> str | None:
    """The checkpoint to style a painted picture with, or None for no pass."""
    from inference.anime.checkpoints import find_checkpoints

    if choice == "none":
        return None
    installed = find_checkpoints(models_dir)
    if choice != "auto":
        if choice not in installed:
            raise InferenceError(f"The anime style {choice!r} for voice pictures is not installed; "
                                 f"put {choice}.pt in MODELS_DIR/animegan/ or set it to auto.",
                                 code="unknown_style")
        return choice
    if not installed:
        return None
    wanted = STYLE_CHECKPOINTS.get(slots.style or "")
    if wanted in installed:
        return wanted
    return next((name for name in AUTO_ORDER if name in installed), sorted(installed)[0])


def paint(handle, *, slots: Slots, prompt: str, negative_prompt: str, seed: int,
          models_dir: str | os.PathLike | None = None, anime_style: str = "auto",
          steps: int | None = None, progress: Progress = silent) -> PaintedPicture:
    """txt2img from the prompt on the loaded SD pipeline ``handle``, then the anime pass."""
    from inference.diffusion.txt2img import txt2img

    style = anime_pass_style(slots, models_dir, anime_style)
    share = 0.85 if style else 1.0
    painted = txt2img(handle, prompt=prompt, negative_prompt=negative_prompt, seed=seed,
                      steps=steps, progress=scaled(progress, 0.0, share))
    models = {"sd": {"engine": painted.engine, "folder": Path(handle.model_dir).name}}
    picture = PaintedPicture(image=painted.image, engine=painted.engine, seed=painted.seed,
                             models=models, steps={"diffusion": painted.as_metadata()})
    if style is None:
        return picture
    from inference.anime import stylize
    from inference.anime.checkpoints import find_checkpoints

    started = time.perf_counter()
    styled = stylize(painted.image, style=style, mode="full", models_dir=models_dir,
                     progress=scaled(progress, share, 1.0))
    models["animegan"] = {"engine": styled.engine, "file": find_checkpoints(models_dir)[style].name,
                          "backend": styled.backend}
    picture.image = styled.image
    picture.engine = f"{painted.engine}+{styled.engine}"
    picture.steps["anime_pass"] = {**styled.as_metadata(),
                                   "seconds": round(time.perf_counter() - started, 3)}
    return picture
