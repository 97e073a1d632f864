"""Reading and writing RGB uint8 images for the command line (pipelines take arrays)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from inference.errors import InferenceError


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8, turned upright by its EXIF orientation."""
    try:
        with Image.open(path) as image:
            return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))
    except (OSError, ValueError) as error:
        raise InferenceError(f"Cannot read image {path}: {error}", code="bad_image") from error


def write_rgb(path: str | Path, rgb: np.ndarray) -> None:
    Image.fromarray(rgb).save(path)
