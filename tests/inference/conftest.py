"""Real photos for the inference tests: scikit-image's astronaut, and ../shared fixtures where present."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from skimage import data

from inference.faces.photo import read_rgb

SHARED_FACES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "faces"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    return data.astronaut()


@pytest.fixture(scope="session")
def face_photo():
    """``face_photo("obama.jpg")`` as RGB, or a skip where ../shared is not checked out."""

    def load(name: str) -> np.ndarray:
        path = SHARED_FACES / name
        if not path.is_file():
            pytest.skip("../shared/fixtures not present")
        return read_rgb(path)

    return load
