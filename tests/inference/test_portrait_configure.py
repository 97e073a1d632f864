"""Portrait ``configure``: every field of PAI's table, at and beyond its edges."""
from __future__ import annotations

import pytest

from inference.errors import InferenceError
from inference.portrait import FIELDS, PortraitConfigure, parse_configure

# PAI's AI写真 SDK table, copied by hand so that a changed default or range fails here.
PAI_TABLE = {
    "lora_weights": (float, 0.5, 1.0, 0.9),
    "first_diffusion_steps": (int, 20, 50, 50),
    "first_denoising_strength": (float, 0.0, 1.0, 0.45),
    "second_diffusion_steps": (int, 20, 50, 30),
    "second_denoising_strength": (float, 0.0, 1.0, 0.30),
    "more_like_me": (float, 0.0, 1.0, 0.50),
    "crop_face_preprocess": (bool, None, None, True),
    "apply_face_fusion_before": (bool, None, None, True),
    "apply_face_fusion_after": (bool, None, None, True),
    "color_shift_middle": (bool, None, None, True),
    "color_shift_last": (bool, None, None, True),
    "background_restore": (bool, None, None, False),
    "skin_retouching_bool": (bool, None, None, False),
    "photo_enhancement_bool": (bool, None, None, True),
    "photo_enhancement_method": (("photo_fix", "super_resolution"), None, None, "photo_fix"),
    "makeup_transfer": (bool, None, None, False),
    "makeup_transfer_ratio": (float, 0.0, 1.0, 0.5),
    "face_shape_match": (bool, None, None, False),
    "ipa_control": (bool, None, None, False),
    "ipa_weight": (float, 0.0, 1.0, 0.5),
    "style_name": (("Realistic", "Anime"), None, None, "Realistic"),
    "lcm_accelerate": (bool, None, None, False),
    "sharp_ratio": (float, 0.0, 1.0, 0.15),
}


def test_the_fields_and_defaults_are_pais():
    assert [spec.name for spec in FIELDS] == list(PAI_TABLE)
    assert parse_configure(None).as_dict() == {name: row[3] for name, row in PAI_TABLE.items()}
    assert parse_configure({}) == PortraitConfigure()


def _refused(configure: dict) -> InferenceError:
    with pytest.raises(InferenceError) as caught:
        parse_configure(configure)
    assert caught.value.code == "invalid_configure"
    return caught.value


@pytest.mark.parametrize("name", list(PAI_TABLE))
def test_each_field_takes_its_edges_and_refuses_what_is_beyond(name):
    kind, low, high, default = PAI_TABLE[name]
    if kind is bool:
        accepted, refused = [True, False], [1, "true", None]
    elif isinstance(kind, tuple):
        accepted, refused = list(kind), [kind[0].upper(), "", 1]
    else:
        step = 1 if kind is int else 0.01
        accepted, refused = [low, high], [low - step, high + step, True, "0.5", float("nan")]
    for value in accepted:
        assert getattr(parse_configure({name: value}), name) == value
    for value in refused:
        message = str(_refused({name: value}))
        assert f"configure.{name}" in message
        assert "default" in message and str(default).lower() in message.lower()
        if low is not None:
            assert f"from {low} to {high}" in message


def test_an_int_field_refuses_a_fraction_and_takes_a_whole_float():
    assert "whole number" in str(_refused({"first_diffusion_steps": 25.5}))
    assert parse_configure({"first_diffusion_steps": 25.0}).first_diffusion_steps == 25


def test_an_unknown_field_is_named_with_the_known_ones():
    message = str(_refused({"more_like_you": 0.5}))

    assert "'more_like_you'" in message and "more_like_me" in message


def test_configure_must_be_an_object():
    assert "object" in str(_refused([("more_like_me", 0.5)]))
