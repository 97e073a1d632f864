"""The embedded illustrator draws what was asked: measured in the picture, not assumed."""
from __future__ import annotations

import numpy as np
import pytest

from inference.voice import Item, Slots, lexicon, parse_description
from inference.voice.illustrate import illustrate, resolved
from inference.voice.illustrate.character import Figure


def draw(text: str, seed: int = 0) -> np.ndarray:
    return illustrate(parse_description(text), seed=seed).image


def hair_region(image: np.ndarray) -> np.ndarray:
    """Pixels of the crown, above the bangs' highlight ring, where only hair is drawn."""
    f = Figure.for_subject("girl")
    top = int(f.cy - f.chin * 1.02)
    return image[top:top + 24, int(f.cx) - 60:int(f.cx) + 60].reshape(-1, 3).astype(float)


def test_a_square_picture_the_same_for_the_same_slots_and_seed():
    first, again = draw("a girl with blue hair on the beach"), draw("a girl with blue hair on "
                                                                    "the beach")
    assert first.shape == (768, 768, 3) and first.dtype == np.uint8
    assert np.array_equal(first, again)
    assert not np.array_equal(first, draw("a girl with blue hair on the beach", seed=1))


@pytest.mark.parametrize("colour, channel", [("red", 0), ("green", 1), ("blue", 2)])
def test_the_hair_is_the_colour_asked_for(colour, channel):
    median = np.median(hair_region(draw(f"a girl with {colour} hair")), axis=0)
    others = [median[k] for k in range(3) if k != channel]
    assert median[channel] > max(others) + 40, median


def test_hair_colour_changes_only_the_hair():
    black, pink = draw("黑发女孩在海边"), draw("粉发女孩在海边")
    hair_change = np.abs(np.median(hair_region(black), 0) - np.median(hair_region(pink), 0)).sum()
    assert hair_change > 200
    assert np.array_equal(black[:60], pink[:60])  # the sky above the head is the same


def glasses_bridge(image: np.ndarray) -> float:
    """How dark the skin between the eyes is, where the glasses' bridge crosses."""
    f = Figure.for_subject("girl")
    _, eye_y = f.eye_centre(1)
    patch = image[int(eye_y) - 16:int(eye_y) - 2, int(f.cx) - 6:int(f.cx) + 6].astype(float)
    return float(255 - patch.mean())


def test_glasses_are_drawn_or_not():
    with_glasses, without = draw("戴眼镜的女孩"), draw("不戴眼镜的女孩")
    assert glasses_bridge(with_glasses) > glasses_bridge(without) + 40
    assert glasses_bridge(draw("女孩")) == glasses_bridge(without)


@pytest.mark.parametrize("one, other", [
    ("a girl on the beach", "a girl in the city at night"),
    ("a girl in the snow", "a girl in space"),
    ("a girl in a classroom", "a girl in a forest"),
    ("a girl under the cherry blossoms", "a girl in a flower field"),
    ("a girl on the beach in the morning", "a girl on the beach at night"),
    ("a girl with long hair", "a girl with twintails"),
    ("a girl", "a cat"),
    ("a girl", "a girl reading a book"),
    ("a girl", "a girl, ghibli style"),
])
def test_a_changed_slot_changes_the_picture_visibly(one, other):
    changed = (np.abs(draw(one).astype(int) - draw(other).astype(int)).max(axis=2) > 40).mean()
    assert changed > 0.05, changed  # at least a twentieth of the picture, clearly


@pytest.mark.parametrize("slot, values", [
    ("subject", lexicon.SUBJECTS), ("action", lexicon.ACTIONS), ("scene", lexicon.SCENES),
    ("time", lexicon.TIMES), ("style", lexicon.STYLES), ("hair_style", lexicon.HAIR_STYLES),
    ("hair_colour", lexicon.COLOURS), ("eye_colour", lexicon.COLOURS),
])
def test_every_value_the_parser_can_give_can_be_drawn(slot, values):
    plain = illustrate(Slots(), seed=2).image
    for value in values:
        image = illustrate(Slots(**{slot: value}), seed=2).image
        assert image.shape == (768, 768, 3)
        if resolved(Slots(**{slot: value})) != resolved(Slots()):  # not what is drawn anyway
            assert not np.array_equal(image, plain), value


@pytest.mark.parametrize("subject", ["girl", "cat"])
def test_every_garment_and_accessory_can_be_worn(subject):
    for kind in lexicon.CLOTHES:
        assert illustrate(Slots(subject=subject, clothes=[Item(kind, "red")])).image.ndim == 3
    for kind in lexicon.ACCESSORIES:
        assert illustrate(Slots(subject=subject, accessories=[Item(kind)])).image.ndim == 3
