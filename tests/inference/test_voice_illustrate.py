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
    ("facial_hair", lexicon.FACIAL_HAIR),
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


# What "anime me" reads from a photo is drawn too: each trait measured where it is drawn.
def region(image: np.ndarray, f: Figure, dx: tuple[float, float], dy: tuple[float, float]):
    """Pixels between two offsets from the head's centre, as fractions of the face's
    half-width (x) and chin distance (y)."""
    x0, x1 = (int(f.cx + d * f.half_width) for d in dx)
    y0, y1 = (int(f.cy + d * f.chin) for d in dy)
    return image[y0:y1, x0:x1].reshape(-1, 3).astype(float)


def man(**traits) -> np.ndarray:
    return illustrate(Slots(subject="man", **traits), seed=4).image


@pytest.mark.parametrize("darker, lighter", [("brown", "fair"), ("deep", "tan"),
                                              ("tan", "light")])
def test_the_skin_tone_read_from_a_photo_colours_the_skin(darker, lighter):
    f = Figure.for_subject("man")
    cheek = (0.1, 0.3), (0.48, 0.56)  # below the eye, between the nose and the blush
    dark, light = (np.median(region(man(skin_tone=tone), f, *cheek), axis=0).sum()
                   for tone in (darker, lighter))
    assert light - dark > 40, (dark, light)


def test_a_beard_and_a_moustache_darken_where_they_grow():
    f = Figure.for_subject("man")
    chin, upper_lip = ((-0.2, 0.2), (0.88, 0.97)), ((-0.2, 0.2), (0.66, 0.74))

    def darkness(image, where):
        return 765 - np.median(region(image, f, *where), axis=0).sum()

    bare, moustache, beard = (man(facial_hair=kind) for kind in ("none", "moustache", "beard"))
    assert darkness(beard, chin) > darkness(bare, chin) + 150
    assert darkness(moustache, chin) == pytest.approx(darkness(bare, chin), abs=5)
    assert darkness(moustache, upper_lip) > darkness(bare, upper_lip) + 100
    # An old man wears a moustache unless the photo says he has none.
    old = Figure.for_subject("old man")
    grandfather = illustrate(Slots(subject="old man"), seed=4).image
    shaved = illustrate(Slots(subject="old man", facial_hair="none"), seed=4).image
    assert (765 - np.median(region(grandfather, old, *upper_lip), axis=0).sum()
            > 765 - np.median(region(shaved, old, *upper_lip), axis=0).sum() + 100)
    # Said, it is drawn as read: "一个不留胡子的老爷爷" is shaved, "留胡子的男人" bearded.
    assert np.array_equal(draw("一个不留胡子的老爷爷"),
                          illustrate(Slots(subject="old man", facial_hair="none",
                                           without=["beard"])).image)
    spoken = illustrate(parse_description("一个留胡子的男人"), seed=4).image
    assert darkness(spoken, chin) > darkness(man(facial_hair="none"), chin) + 150


def chin_line(image: np.ndarray, f: Figure) -> int:
    """The row of the ink line at the bottom of the chin, just beside the mouth."""
    top, bottom = int(f.cy + 0.85 * f.chin), int(f.cy + 1.2 * f.chin)
    return top + int(image[top:bottom, int(f.cx) + 22].astype(int).sum(axis=1).argmin())


def test_the_face_shape_changes_the_head():
    f = Figure.for_subject("man")
    oval, long_, round_ = (man(face_shape=shape) for shape in ("oval", "long", "round"))
    assert chin_line(long_, f) > chin_line(oval, f) + 8
    assert chin_line(round_, f) < chin_line(oval, f) - 8
    square = np.abs(man(face_shape="square").astype(int) - oval.astype(int)).max(axis=2) > 40
    assert square.sum() > 1000, square.sum()


def test_the_expression_is_drawn():
    f = Figure.for_subject("man")
    mouth = (-0.15, 0.15), (0.72, 0.86)
    shares = {}
    for expression in ("neutral", "smile", "grin"):
        pixels = region(man(expression=expression), f, *mouth)
        shares[expression] = ((pixels.sum(axis=1) > 740).mean(),  # teeth
                              (np.abs(pixels - [168, 52, 63]).sum(axis=1) < 40).mean())  # mouth
    assert shares["grin"][0] > 0.05 and shares["grin"][1] > 0.05, shares
    assert shares["smile"][1] == shares["neutral"][1] == 0.0, shares
    assert not np.array_equal(man(expression="neutral"), man(expression="smile"))


def test_anime_me_draws_the_glasses_and_beard_found_in_the_photo():
    from skimage import data

    from inference.voice.photo import read_slots
    from tests.inference.photo_evidence import with_beard, with_glasses

    plain = read_slots(data.astronaut(), subject="girl").slots
    dressed = read_slots(with_beard(with_glasses(data.astronaut())), subject="girl").slots
    assert (dressed.facial_hair, [item.kind for item in dressed.accessories]) == (
        "beard", ["glasses"])
    bare, worn = illustrate(plain).image, illustrate(dressed).image
    assert glasses_bridge(worn) > glasses_bridge(bare) + 40


# The garment: white stays white under the shading, and a default that would melt into the
# hair gives way to a clear colour of the style's palette, never a grey one.
def garment_lab(image: np.ndarray, subject: str) -> tuple[float, float]:
    """(L* 0..100, chroma) of the garment's median on both sides of the chest, clear of the
    collar and the buttons."""
    import cv2

    f = Figure.for_subject(subject)
    top, cx = int(f.cy + 290), int(f.cx)
    pixels = np.concatenate([image[top:740, cx - 200:cx - 100], image[top:740, cx + 100:cx + 200]])
    lab = cv2.cvtColor(pixels, cv2.COLOR_RGB2Lab).reshape(-1, 3).astype(float)
    lightness, a, b = np.median(lab, axis=0)
    return lightness * 100 / 255, float(np.hypot(a - 128, b - 128))


@pytest.mark.parametrize("text, subject", [
    ("a girl in a white dress", "girl"), ("a man in a white shirt", "man"),
    ("一个穿白色衬衫的男孩", "boy"), ("a girl in a white dress, shinkai style", "girl")])
def test_white_clothes_are_drawn_white_not_grey(text, subject):
    slots = parse_description(text)
    assert (slots.subject, resolved(slots)["clothes_colour"]) == (subject, "white")
    lightness, chroma = garment_lab(draw(text), subject)
    assert lightness >= 80 and chroma < 10, (lightness, chroma)  # grey was L* 75


@pytest.mark.parametrize("hair", ["brown", "orange", "blue", "light blue", "red", "pink",
                                  "white", "silver", "grey", "green", "purple", "blonde"])
@pytest.mark.parametrize("subject", ["girl", "boy", "woman", "man", "child"])
@pytest.mark.parametrize("style", [None, *lexicon.STYLES])
def test_a_garment_never_takes_the_hairs_colour_nor_turns_white(hair, subject, style):
    from inference.voice.illustrate import SAME_FAMILY

    drawn = resolved(Slots(subject=subject, hair_colour=hair, style=style))
    said = resolved(Slots(subject=subject, hair_colour="black", style=style))["clothes_colour"]
    if said in SAME_FAMILY.get(hair, (hair,)):  # the default would have melted in
        assert drawn["clothes_colour"] not in (*SAME_FAMILY[hair], "white", "grey", "black")
    else:
        assert drawn["clothes_colour"] == said


@pytest.mark.parametrize("text, subject", [
    ("a woman with brown hair", "woman"), ("a girl with light blue hair", "girl"),
    ("红发男孩", "boy"), ("an orange haired child", "child")])
def test_a_garment_that_would_match_the_hair_is_drawn_in_a_clear_colour(text, subject):
    lightness, chroma = garment_lab(draw(text), subject)
    assert chroma > 25 and 35 < lightness < 90, (lightness, chroma)  # was white: chroma 5
    hair = np.median(hair_region(draw(text)), axis=0)
    f = Figure.for_subject(subject)
    top, cx = int(f.cy + 290), int(f.cx)
    garment = np.median(draw(text)[top:740, cx - 200:cx - 100].reshape(-1, 3), axis=0)
    assert np.abs(hair - garment).sum() > 120, (hair, garment)
