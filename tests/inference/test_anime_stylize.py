"""stylize(): modes, fallbacks, metadata, progress and the command line."""
from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from inference.__main__ import main
from inference.anime import available_styles, stylize
from inference.anime.compose import feather_mask
from inference.errors import InferenceError, NoFaceError
from inference.faces import detect_faces


def test_face_mode_styles_the_whole_photo_and_says_how(astronaut):
    result = stylize(astronaut, mode="face")

    assert result.image.shape == astronaut.shape and result.image.dtype == np.uint8
    assert (result.engine, result.path, result.mode, result.faces) == ("procedural-v2", "procedural", "face", 1)
    metadata = json.loads(json.dumps(result.as_metadata()))
    assert metadata["engine"] == "procedural-v2" and metadata["style"] == "procedural"
    assert {"faces", "face", "scene", "compose", "total"} <= set(metadata["timings"])
    assert "fallback" not in metadata


def test_face_mode_changes_the_face_and_the_background(astronaut):
    styled = stylize(astronaut, mode="face").image.astype(int)
    left, top, right, bottom = detect_faces(astronaut)[0].box

    face_change = np.abs(styled[top:bottom, left:right] - astronaut[top:bottom, left:right]).mean()
    corner_change = np.abs(styled[:100, 400:] - astronaut[:100, 400:]).mean()
    assert face_change > 8 and corner_change > 3


def test_avatar_mode_returns_the_square_face(astronaut):
    result = stylize(astronaut, mode="avatar")

    assert result.image.shape == (512, 512, 3) and result.mode == "avatar"
    assert len(detect_faces(result.image)) == 1


def test_face_mode_without_a_face_falls_back_to_the_whole_scene_and_says_so():
    from skimage import data

    coffee = data.coffee()
    result = stylize(coffee, mode="face")

    assert result.image.shape == coffee.shape
    assert result.mode == "full" and result.faces == 0
    assert "no face" in result.as_metadata()["fallback"]


def test_avatar_mode_without_a_face_is_a_no_face_error():
    from skimage import data

    with pytest.raises(NoFaceError) as caught:
        stylize(data.coffee(), mode="avatar")

    assert caught.value.code == "no_face" and "face" in caught.value.message


def test_progress_rises_to_one(astronaut):
    reports = []

    stylize(astronaut, progress=lambda stage, fraction: reports.append(fraction))

    assert reports == sorted(reports) and reports[-1] == 1.0


def test_unknown_style_and_mode_are_clear_errors(astronaut, tmp_path):
    with pytest.raises(InferenceError, match="procedural") as caught:
        stylize(astronaut, style="ghibli", models_dir=tmp_path)
    assert caught.value.code == "unknown_style"
    with pytest.raises(InferenceError, match="face, full, avatar"):
        stylize(astronaut, mode="collage")


def test_bare_machine_offers_the_procedural_style(tmp_path):
    assert available_styles(tmp_path) == [{"name": "procedural", "engine": "procedural-v2", "path": "procedural"}]


def test_feather_mask_is_opaque_inside_and_clear_at_the_edges():
    mask = feather_mask(512)

    assert mask[256, 256] == 1.0 and mask[0, 256] == 0.0 and mask[256, -1] == 0.0
    assert np.all(np.diff(mask[256, :256]) >= 0)  # rises steadily toward the middle


def test_cli_writes_the_picture_and_prints_metadata(tmp_path, astronaut, capsys):
    source, target = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(astronaut).save(source)

    assert main(["anime", str(source), "-o", str(target), "--mode", "full"]) == 0

    assert Image.open(target).size == (512, 512)
    assert json.loads(capsys.readouterr().out)["mode"] == "full"
