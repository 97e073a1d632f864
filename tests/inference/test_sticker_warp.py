"""The expression warp really changes the face: landmarks found again on the warped photo
move the way the expression says, and the face is still found (not torn)."""
from __future__ import annotations

import numpy as np
import pytest

from inference.faces import detect_faces
from inference.faces import regions
from inference.sticker import parse_expression
from inference.sticker.headcrop import crop_head
from inference.sticker.warp import target_landmarks, warp_expression


def _crop(rgb):
    return crop_head(rgb, detect_faces(rgb)[0].landmarks)


def _redetected(image):
    faces = detect_faces(image)
    assert faces, "the warped face is no longer a face"
    return faces[0].landmarks


def corner_lift(points, unit):
    """How far the mouth corners sit above the middle of the lips, in units."""
    middle = (points[62, 1] + points[66, 1]) / 2
    return (middle - (points[48, 1] + points[54, 1]) / 2) / unit


def mouth_gap(points, unit):
    return float(np.mean(points[[65, 66, 67], 1] - points[[61, 62, 63], 1])) / unit


def eye_height(points, unit):
    return float(np.mean(points[[40, 41, 46, 47], 1] - points[[38, 37, 44, 43], 1])) / unit


def inner_brow_to_eye(points, unit):
    return float(np.mean(points[[39, 42], 1] - points[[21, 22], 1])) / unit


@pytest.fixture(scope="module")
def biden_crop(face_photo):
    return _crop(face_photo("biden.jpg"))


@pytest.fixture(scope="module")
def astronaut_crop(astronaut):
    return _crop(astronaut)


@pytest.fixture(params=["astronaut", "biden"])
def crop(request, astronaut_crop):
    return astronaut_crop if request.param == "astronaut" else request.getfixturevalue("biden_crop")


def _measure(crop, text):
    params = parse_expression(text).params
    before = _redetected(crop.image)
    after = _redetected(warp_expression(crop.image, crop.landmarks, params, crop.unit).image)
    return before, after, crop.unit


def test_a_smile_lifts_the_mouth_corners_and_narrows_the_eyes(biden_crop):
    before, after, unit = _measure(biden_crop, "开心")
    assert corner_lift(after, unit) > corner_lift(before, unit) + 0.04
    assert eye_height(after, unit) < eye_height(before, unit)


def test_sadness_drops_the_corners_even_of_a_smiling_photo(crop):
    before, after, unit = _measure(crop, "难过")
    assert corner_lift(after, unit) < corner_lift(before, unit) - 0.04


def test_surprise_opens_the_mouth_and_the_eyes(crop):
    before, after, unit = _measure(crop, "惊讶")
    assert mouth_gap(after, unit) > mouth_gap(before, unit) + 0.07
    assert eye_height(after, unit) > eye_height(before, unit)


def brow_slope(points, unit):
    """How much lower the inner ends of the brows sit than their outer ends, in units."""
    return float(np.mean([points[21, 1] - points[17, 1], points[22, 1] - points[26, 1]])) / unit


@pytest.mark.parametrize("photo", ["biden.jpg", "obama.jpg"])
def test_anger_lowers_and_slants_the_inner_brows(face_photo, photo):
    # The astronaut's brows are too faint for dlib to find them again, so darker ones here.
    before, after, unit = _measure(_crop(face_photo(photo)), "生气")
    assert inner_brow_to_eye(after, unit) < inner_brow_to_eye(before, unit) - 0.05
    assert brow_slope(after, unit) > brow_slope(before, unit) + 0.05


def test_crying_raises_the_inner_brows(crop):
    before, after, unit = _measure(crop, "哭")
    assert inner_brow_to_eye(after, unit) > inner_brow_to_eye(before, unit) + 0.05


def test_neutral_text_leaves_the_photo_as_it_is(astronaut_crop):
    result = warp_expression(astronaut_crop.image, astronaut_crop.landmarks,
                             parse_expression("周五").params, astronaut_crop.unit)
    assert np.array_equal(result.image, astronaut_crop.image)


def test_the_warp_leaves_the_hair_and_background_above_the_face_alone(astronaut_crop):
    crop = astronaut_crop
    result = warp_expression(crop.image, crop.landmarks, parse_expression("惊讶").params, crop.unit)
    top = int(crop.landmarks[regions.BROWS, 1].min() - 1.2 * crop.unit)
    assert top > 20
    difference = np.abs(result.image[:top].astype(int) - crop.image[:top])
    assert difference.mean() < 0.5


def test_target_landmarks_keep_the_nose_still(astronaut_crop):
    for text in ("开心", "大笑", "惊讶", "生气", "哭", "害羞", "无语", "666"):
        targets = target_landmarks(astronaut_crop.landmarks, parse_expression(text).params,
                                   astronaut_crop.unit)
        assert np.allclose(targets[27:36], astronaut_crop.landmarks[regions.NOSE])


# The asked expression wins over the photo's own: measured on landmarks found again.

@pytest.fixture(scope="module")
def obama_crop(face_photo):
    return _crop(face_photo("obama.jpg"))


@pytest.fixture(params=["astronaut", "obama"])
def smiling_crop(request, astronaut_crop):
    return astronaut_crop if request.param == "astronaut" else request.getfixturevalue("obama_crop")


@pytest.mark.parametrize("text", ["哭", "伤心", "难过", "生气"])
def test_sad_and_angry_texts_end_the_corners_below_the_lips_even_on_a_smile(smiling_crop, text):
    before, after, unit = _measure(smiling_crop, text)
    assert corner_lift(before, unit) > 0.1  # the photo smiles
    assert corner_lift(after, unit) < -0.02


@pytest.mark.parametrize("text", ["开心", "哈哈哈"])
def test_happy_texts_end_the_corners_above_the_lips_even_on_a_closed_mouth(biden_crop, text):
    before, after, unit = _measure(biden_crop, text)
    assert mouth_gap(before, unit) < 0.03  # the photo's lips are closed
    assert corner_lift(after, unit) > 0.03


@pytest.mark.parametrize("text", ["哭", "难过"])
def test_sadness_raises_the_inner_brow_ends_against_the_outer_ones(crop, text):
    before, after, unit = _measure(crop, text)
    assert brow_slope(after, unit) < brow_slope(before, unit) - 0.05


def test_the_brows_follow_the_emotion_on_the_target_landmarks(astronaut_crop):
    # The astronaut's brows are too faint to find again, so the warp's own targets here.
    points, unit = astronaut_crop.landmarks, astronaut_crop.unit
    slope = brow_slope(points, unit)
    for text, direction in (("生气", 1), ("气死了", 1), ("哭", -1), ("难过", -1), ("伤心", -1)):
        moved = brow_slope(target_landmarks(points, parse_expression(text).params, unit), unit)
        assert (moved - slope) * direction > 0.1, text


# The drawn open mouth: a dark inside, upper teeth along the lip, a tongue. Measured on pixels
# of the warped photo, located by the landmarks the warp moved.

def _drawn_mouth(crop, text):
    result = warp_expression(crop.image, crop.landmarks, parse_expression(text).params, crop.unit)
    rgb = result.image.astype(np.float32)
    return rgb, rgb @ np.float32([0.299, 0.587, 0.114]), result.landmarks


def _is_enamel(rgb):
    return (rgb.min(axis=-1) > 150) & (np.ptp(rgb, axis=-1) < 40)


def _is_flesh(rgb):
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return (r > 110) & (r - g > 60) & (r - b > 50)


@pytest.mark.parametrize("text", ["惊讶", "哈哈哈"])
def test_the_drawn_mouth_is_dark_inside_and_darkest_in_the_middle(astronaut_crop, text):
    rgb, luma, points = _drawn_mouth(astronaut_crop, text)
    unit = astronaut_crop.unit
    centre = round(float(points[62, 0]))
    between = round(float(points[61, 0]))
    rows = np.arange(round(float(points[62, 1])), round(float(points[66, 1])))
    inside = ~_is_enamel(rgb[rows, centre]) & ~_is_flesh(rgb[rows, centre])
    assert inside.sum() > 0.03 * unit
    middle = rows[inside][1:-1]  # without the soft edges against teeth and tongue
    assert luma[middle, centre].max() < 60
    # Shaded: deeper in the middle than towards the corners, and deeper lower down.
    assert luma[middle, between].mean() > luma[middle, centre].mean() + 5
    if len(middle) > 6:
        assert luma[middle[:3], centre].mean() > luma[middle[-3:], centre].mean() + 3


@pytest.mark.parametrize("text", ["哈哈哈", "惊讶"])
def test_the_drawn_teeth_hang_from_the_upper_lip_along_its_curve(astronaut_crop, text):
    rgb, _, points = _drawn_mouth(astronaut_crop, text)
    unit = astronaut_crop.unit
    xs = np.linspace(points[61, 0], points[63, 0], 9).round().astype(int)
    lip = np.interp(xs, points[[60, 61, 62, 63, 64], 0], points[[60, 61, 62, 63, 64], 1])
    for x, lip_y in zip(xs, lip):
        column = _is_enamel(rgb[int(lip_y - 0.05 * unit):int(lip_y + 0.15 * unit), x])
        assert column.any(), "no teeth under the lip"
        first = int(lip_y - 0.05 * unit) + int(np.argmax(column))
        assert abs(first - lip_y) < 0.035 * unit  # the band starts at the lip, wherever it is


def test_a_happy_closed_mouth_shows_a_row_of_teeth_not_a_sliver(biden_crop):
    rgb, luma, points = _drawn_mouth(biden_crop, "开心")
    unit = biden_crop.unit
    centre = round(float(points[62, 0]))
    column = slice(round(float(points[62, 1] - 0.05 * unit)), round(float(points[66, 1])))
    teeth = _is_enamel(rgb[column, centre])
    assert teeth.sum() > 0.05 * unit
    assert (luma[column, centre][~teeth] < 60).sum() > 0.01 * unit  # the dark mouth beneath


@pytest.mark.parametrize("text", ["惊讶", "哭"])
def test_a_wide_drawn_mouth_shows_a_tongue_at_the_bottom(astronaut_crop, text):
    rgb, _, points = _drawn_mouth(astronaut_crop, text)
    unit = astronaut_crop.unit
    x0, x1 = round(float(points[61, 0])), round(float(points[63, 0]))
    top, bottom = float(points[62, 1]), float(points[66, 1])
    box = rgb[round(top):round(bottom), x0:x1]
    flesh = _is_flesh(box)
    assert flesh.sum() > 0.01 * unit * unit
    ys = np.nonzero(flesh)[0] + top
    assert np.median(ys) > (top + bottom) / 2  # it lies low, on the lower lip
