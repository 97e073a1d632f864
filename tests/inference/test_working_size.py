"""Each mode works at its own size: a photo larger than the mode's working side is scaled down
before any work, so memory follows the mode, not the photo."""
from __future__ import annotations

import importlib

import cv2
import numpy as np
import pytest

import inference.faces
from inference.anime import stylize
from inference.sticker import make_sticker
from inference.working_size import fit_within

# The packages export functions of the same names as these modules.
stylize_module = importlib.import_module("inference.anime.stylize")
sticker_pipeline = importlib.import_module("inference.sticker.pipeline")


@pytest.fixture
def detected_shapes(monkeypatch):
    """The shape of every image face detection is given (detection comes first in each mode)."""
    shapes = []
    detect = inference.faces.detect_faces

    def recording_detect(rgb, **kwargs):
        shapes.append(rgb.shape)
        return detect(rgb, **kwargs)

    monkeypatch.setattr(inference.faces, "detect_faces", recording_detect)
    monkeypatch.setattr(stylize_module, "detect_faces", recording_detect)
    return shapes


def test_fit_within_scales_the_long_side_and_keeps_the_aspect():
    wide = np.zeros((300, 1200, 3), np.uint8)
    assert fit_within(wide, 600).shape == (150, 600, 3)
    assert fit_within(wide.transpose(1, 0, 2), 600).shape == (600, 150, 3)
    assert fit_within(wide, 1200) is wide  # fits already: no copy


@pytest.mark.parametrize("mode", ["full", "face"])
def test_an_anime_picture_is_made_at_the_modes_working_size(monkeypatch, astronaut, mode):
    monkeypatch.setitem(stylize_module.WORKING_SIDE, mode, 320)
    big = cv2.resize(astronaut, (640, 480), interpolation=cv2.INTER_CUBIC)
    result = stylize(big, mode=mode)
    assert result.image.shape == (240, 320, 3)


def test_an_avatar_is_looked_for_at_its_working_size(monkeypatch, astronaut, detected_shapes):
    monkeypatch.setitem(stylize_module.WORKING_SIDE, "avatar", 400)
    result = stylize(cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC),
                     mode="avatar")
    assert detected_shapes == [(400, 400, 3)]
    assert result.mode == "avatar" and result.image.shape == (512, 512, 3)


def test_a_sticker_is_made_from_the_photo_at_its_working_size(monkeypatch, astronaut,
                                                              detected_shapes):
    monkeypatch.setattr(sticker_pipeline, "WORKING_SIDE", 400)
    sticker = make_sticker(cv2.resize(astronaut, (1024, 1024), interpolation=cv2.INTER_CUBIC),
                           text="开心", caption=False)
    assert detected_shapes == [(400, 400, 3)]
    assert sticker.sticker.size == (240, 240)


@pytest.mark.parametrize("height", [1300, 1030])
def test_the_scene_painted_in_bands_is_the_scene_painted_whole(astronaut, height):
    from inference.anime import toon

    # Even heights: the whole picture's half-scale pass is then exactly 2x, like each band's.
    rgb = cv2.resize(astronaut, (701, height), interpolation=cv2.INTER_CUBIC)
    assert np.array_equal(stylize_module.scene_in_bands(rgb, band=256), toon.scene(rgb))
