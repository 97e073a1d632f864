"""The registry of generation modes. A mode names its queue, its parameters, the inputs it needs
and the function that turns clean inputs into outputs by calling a pipeline in ``inference/``."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image
from rest_framework import serializers

from backend.uploads.models import UploadKind
from inference.progress import Progress

# The names a job's inputs may have: ``"inputs": {"photo": id, "photos": [ids], ...}``; the
# plural ones are lists.
INPUT_NAMES = ("photo", "voice", "template", "photos", "identities")
LIST_INPUTS = frozenset({"photos", "identities"})
SAMPLE_RATE = 16_000  # of the recordings a pipeline gets


@dataclass(frozen=True)
class InputSpec:
    """One input a mode needs: its name, the kind of upload it takes and, for a list, how many."""

    name: str
    kind: str = UploadKind.IMAGE
    required: bool = True
    min_count: int = 1
    max_count: int = 8

    def __post_init__(self) -> None:
        if self.name not in INPUT_NAMES:
            raise ValueError(f"unknown input name {self.name!r}; use one of {INPUT_NAMES}")

    @property
    def many(self) -> bool:
        return self.name in LIST_INPUTS


PHOTO = InputSpec("photo")


@dataclass
class PipelineInput:
    """What a mode's function gets. ``inputs`` holds the decoded inputs by name: an image is an
    RGB uint8 array (upright; RGBA for a mode that ``keeps_alpha``, when the picture has
    transparency), a recording a float32 mono 16 kHz array; a list input, a list."""

    inputs: dict[str, np.ndarray | list[np.ndarray]]
    params: dict
    text: str
    progress: Progress
    # What the job stored so far: for a mode that asks first, what its first pass described.
    metadata: dict = field(default_factory=dict)

    @property
    def image(self) -> np.ndarray:
        return self.inputs["photo"]


@dataclass
class Output:
    """One file a pipeline produced, ready to store."""

    kind: str
    data: bytes
    format: str
    content_type: str
    width: int
    height: int
    engine: str
    # What moderation looks at: the picture, a video's poster frame, or None for what is not a
    # picture (a spoken WAV, whose words were screened as text).
    image: Image.Image | None
    metadata: dict = field(default_factory=dict)

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")

    @classmethod
    def from_image(cls, image: Image.Image, *, kind: str, engine: str, format: str = "png",
                   metadata: dict | None = None) -> "Output":
        buffer = io.BytesIO()
        if format == "jpeg":
            image.convert("RGB").save(buffer, "JPEG", quality=92, optimize=True)
        else:
            image.save(buffer, "PNG", optimize=False)
        return cls(kind=kind, data=buffer.getvalue(), format=format, content_type=f"image/{format}",
                   width=image.width, height=image.height, engine=engine, image=image,
                   metadata=metadata or {})

    @classmethod
    def from_video(cls, data: bytes, *, poster: Image.Image, kind: str, engine: str,
                   metadata: dict | None = None) -> "Output":
        """An MP4, moderated through ``poster``: a frame of it that the pipeline chose."""
        return cls(kind=kind, data=data, format="mp4", content_type="video/mp4",
                   width=poster.width, height=poster.height, engine=engine, image=poster,
                   metadata=metadata or {})



THUMBNAIL_SIDE = 256
THUMBNAIL_MAX_BYTES = 60 * 1024


def thumbnail_of(outputs: list[Output]) -> Output | None:
    """A small WebP of a job's first picture (a video's poster) for galleries: at most
    ``THUMBNAIL_SIDE`` px and ``THUMBNAIL_MAX_BYTES``. It is the same picture as its source, so
    moderation decides it with its siblings and does not look at it again."""
    source = next((output for output in outputs if output.image is not None), None)
    if source is None:
        return None
    image = source.image.copy()
    image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE), Image.Resampling.LANCZOS)
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    for quality in (82, 70, 55, 40):
        buffer = io.BytesIO()
        image.save(buffer, "WEBP", quality=quality, method=4)
        if buffer.tell() <= THUMBNAIL_MAX_BYTES:
            break
    return Output(kind="thumbnail", data=buffer.getvalue(), format="webp",
                  content_type="image/webp", width=image.width, height=image.height,
                  engine=source.engine, image=None,
                  metadata={"thumbnail_of": source.kind})

@dataclass(frozen=True)
class Pipeline:
    mode: str
    queue: str  # "cpu" or "gpu": which Celery workers take it
    params: type[serializers.Serializer]
    run: Callable[[PipelineInput], list[Output]]
    inputs: tuple[InputSpec, ...] = (PHOTO,)  # () for a mode that needs only a typed text
    working_side: int = 0  # images are decoded no larger than this (0: UPLOAD_WORKING_SIDE)
    text_required: bool = False
    # Parameters the user types freely (drawn into the result), screened like the text.
    text_params: tuple[str, ...] = ()
    description: str = ""
    # Returns a key such that equal keys give equal results (None: never cached).
    cache_key: Callable[[str, dict, str], str | None] | None = None
    # Checks, for the requesting user, parameters that name things of theirs (an identity):
    # raises a ServiceError when one is not theirs or not usable.
    check_params: Callable[..., None] | None = None
    # Checks the resolved inputs (``Upload`` rows by name) with the params and text before the
    # job is queued, so a job that could only fail is refused at once: raises a ServiceError.
    check_inputs: Callable[..., None] | None = None
    # Images reach ``run`` as RGBA when they have transparency (else RGB).
    keeps_alpha: bool = False
    # Runs twice: first it describes what it understood (metadata ``confirmed`` false) and the
    # job waits in ``awaiting_confirmation``; once its owner confirms, it runs with that metadata
    # (``confirmed`` true) and makes the result.
    confirm_first: bool = False


REGISTRY: dict[str, Pipeline] = {}


def register(pipeline: Pipeline) -> Pipeline:
    REGISTRY[pipeline.mode] = pipeline
    return pipeline


def pipeline_for(mode: str) -> Pipeline | None:
    return REGISTRY.get(mode)
