"""The registry of generation modes. A mode names its queue, its parameters and the function
that turns a clean input into outputs by calling a pipeline in ``inference/``."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PIL import Image
from rest_framework import serializers

from inference.progress import Progress


@dataclass
class PipelineInput:
    image: np.ndarray  # RGB uint8, upright
    params: dict
    text: str
    progress: Progress


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
    image: Image.Image  # what moderation looks at
    metadata: dict = field(default_factory=dict)

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


@dataclass(frozen=True)
class Pipeline:
    mode: str
    queue: str  # "cpu" or "gpu": which Celery workers take it
    params: type[serializers.Serializer]
    run: Callable[[PipelineInput], list[Output]]
    text_required: bool = False
    # Parameters the user types freely (drawn into the result), screened like the text.
    text_params: tuple[str, ...] = ()
    description: str = ""
    # Returns a key such that equal keys give equal results (None: never cached).
    cache_key: Callable[[str, dict, str], str | None] | None = None


REGISTRY: dict[str, Pipeline] = {}


def register(pipeline: Pipeline) -> Pipeline:
    REGISTRY[pipeline.mode] = pipeline
    return pipeline


def pipeline_for(mode: str) -> Pipeline | None:
    return REGISTRY.get(mode)
