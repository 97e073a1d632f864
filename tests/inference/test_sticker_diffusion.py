"""The diffusion path of the sticker, end to end on a tiny random-weight SD1.5 pipeline."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download anything

from inference.sticker import Template, make_sticker, parse_expression  # noqa: E402
from inference.sticker.diffusion import face_keep_mask, sticker_prompt  # noqa: E402

tiny_sd = pytest.importorskip("tests.inference.tiny_sd", reason="tiny SD builder not present")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_sd.build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-sd")


def test_the_prompt_describes_the_expression():
    assert "laugh" in sticker_prompt(parse_expression("大笑"))
    assert "surprised" in sticker_prompt(parse_expression("惊讶"))
    assert "crying" in sticker_prompt(parse_expression("哭"))


def test_the_keep_mask_covers_the_face_and_not_the_hair(astronaut):
    from inference.faces import detect_faces
    from inference.sticker.headcrop import crop_head

    crop = crop_head(astronaut, detect_faces(astronaut)[0].landmarks)
    mask = face_keep_mask(crop.landmarks, crop.size, crop.unit)
    nose, chin = crop.landmarks[30].astype(int), crop.landmarks[8]
    assert mask[nose[1], nose[0]] == 1
    assert mask[: int(crop.landmarks[17:27, 1].min() - 0.3 * crop.unit)].max() == 0  # hair
    assert mask[int(chin[1] + 0.1 * crop.unit):].max() == 0


def test_a_diffusion_sticker_redraws_around_the_kept_face(astronaut, model_dir):
    # A small head, so that both stickers place it identically whatever the hair does.
    small = Template(id="small", name="small", face_scale=0.5)
    embedded = make_sticker(astronaut, text="开心", caption=False, template=small)
    result = make_sticker(astronaut, text="开心", caption=False, template=small,
                          sd_model_dir=model_dir,
                          sd_options={"steps": 2, "seed": 3, "size": 64, "device": "cpu"})
    assert result.path == "diffusion"
    assert result.engine.startswith("sd:") and result.engine.endswith("+procedural-sticker-v1")
    assert result.as_metadata()["diffusion"]["prompt"] == sticker_prompt(result.expression)
    assert result.sticker.size == (240, 240)
    a, b = (np.asarray(r.preview).astype(int) for r in (result, embedded))
    alpha = (a[..., 3] == 255) & (b[..., 3] == 255)
    difference = np.abs(a - b)[..., :3].sum(axis=-1)
    # The tiny model paints noise: the hair changes, the middle of the face does not.
    centre = np.zeros_like(alpha)
    centre[215:255, 220:260] = True
    assert difference[alpha & centre].mean() < 10
    assert difference[alpha & ~centre].mean() > difference[alpha & centre].mean() + 10


def test_a_folder_without_a_pipeline_falls_back_to_the_embedded_path(astronaut, tmp_path):
    result = make_sticker(astronaut, text="开心", caption=False, sd_model_dir=tmp_path)
    assert result.path == "embedded" and result.engine == "procedural-sticker-v1"
    assert "skipped" in result.as_metadata()["diffusion"]
