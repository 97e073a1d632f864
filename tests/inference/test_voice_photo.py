"""Slots read from a photo ("anime me", issue #15): the hair colour and length and the eye
colour the illustrator draws, read from the fixtures' real faces."""
from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from inference.errors import InferenceError
from inference.faces.photo import read_rgb
from inference.voice.photo import hair_colour_name, read_slots
from tests.conftest import fixture_photo


@pytest.mark.parametrize("name, hair, eyes", [
    ("biden.jpg", "grey", "blue"),
    ("obama.jpg", "black", "black"),
    ("obama-480p.jpg", "black", "black"),
])
def test_the_slots_read_from_a_photo_match_the_person(name, hair, eyes):
    reading = read_slots(read_rgb(fixture_photo(name)), subject="old man")
    slots = reading.slots
    assert (slots.hair_colour, slots.eye_colour) == (hair, eyes), reading.measured
    assert slots.hair_style == "short" and slots.subject == "old man"


def test_brown_hair_is_brown():
    reading = read_slots(data.astronaut())
    assert reading.slots.hair_colour == "brown", reading.measured


def test_hair_colours_are_named_by_lightness_and_chroma():
    assert hair_colour_name(15, 2, 3) == "black"
    assert hair_colour_name(44, 1, 2) == "black"  # a dark neutral
    assert hair_colour_name(78, 3, 5) == "grey"
    assert hair_colour_name(92, 1, 2) == "white"
    assert hair_colour_name(70, 5, 40) == "blonde"
    assert hair_colour_name(40, 35, 25) == "red"
    assert hair_colour_name(40, 8, 22) == "brown"


def test_a_photo_without_a_face_is_refused():
    with pytest.raises(InferenceError) as error:
        read_slots(np.full((256, 256, 3), 200, np.uint8))
    assert error.value.code == "no_face"
