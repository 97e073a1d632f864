"""The procedural anime style, by measurable properties: anime proportions, flat colours, line
art, and the person still recognisable."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from inference.anime import stylize
from inference.anime.geometry import proportions_warp, warp_points
from inference.faces import SAME_PERSON_DISTANCE, align_face, descriptor_distance, detect_faces, face_descriptor


def eye_to_face_width(landmarks: np.ndarray) -> float:
    eyes = np.linalg.norm(landmarks[39] - landmarks[36]) + np.linalg.norm(landmarks[45] - landmarks[42])
    return float(eyes / 2 / np.linalg.norm(landmarks[16] - landmarks[0]))


def eye_opening(landmarks: np.ndarray) -> float:
    """Mean eye height over face width."""
    heights = [np.linalg.norm(landmarks[a] - landmarks[b]) for a, b in ((37, 41), (38, 40), (43, 47), (44, 46))]
    return float(np.mean(heights) / np.linalg.norm(landmarks[16] - landmarks[0]))


@pytest.fixture(scope="module")
def astronaut_avatar(astronaut):
    aligned = align_face(astronaut, detect_faces(astronaut)[0])
    return aligned.image, stylize(astronaut, mode="avatar").image


def test_eyes_are_larger_relative_to_the_face(astronaut_avatar):
    photo, avatar = astronaut_avatar
    before = detect_faces(photo)[0].landmarks
    after = detect_faces(avatar)[0].landmarks  # re-detected on the drawing

    assert eye_to_face_width(after) > 1.05 * eye_to_face_width(before)
    assert eye_opening(after) > 1.1 * eye_opening(before)


def test_the_warp_moves_features_the_anime_way(astronaut):
    face = detect_faces(astronaut)[0]
    aligned = align_face(astronaut, face)
    points = aligned.to_aligned(face.landmarks)
    moved = warp_points(points, proportions_warp((512, 512), points, strength=1.0))

    assert eye_to_face_width(moved) > 1.1 * eye_to_face_width(points)
    nose = lambda p: np.linalg.norm(p[35] - p[31])  # noqa: E731
    mouth = lambda p: np.linalg.norm(p[54] - p[48])  # noqa: E731
    jaw = lambda p: np.linalg.norm(p[11] - p[5])  # noqa: E731
    assert nose(moved) < 0.95 * nose(points)
    assert mouth(moved) < 0.97 * mouth(points)
    assert jaw(moved) < 0.95 * jaw(points)


def test_strength_zero_leaves_the_geometry_alone(astronaut):
    face = detect_faces(astronaut)[0]
    points = align_face(astronaut, face).to_aligned(face.landmarks)
    warp = proportions_warp((512, 512), points, strength=0.0)

    identity = np.dstack(np.mgrid[0:512, 0:512][::-1]).astype(np.float32)
    assert np.abs(warp - identity).max() < 1e-3


def distinct_colours(rgb: np.ndarray) -> int:
    return len(np.unique(rgb.reshape(-1, 3), axis=0))


def test_far_fewer_distinct_colours(astronaut_avatar):
    photo, avatar = astronaut_avatar
    centre = slice(128, 384)

    assert distinct_colours(avatar[centre, centre]) < 0.5 * distinct_colours(photo[centre, centre])


def line_pixels(rgb: np.ndarray) -> float:
    """Share of pixels much darker than their neighbourhood: drawn lines."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    surroundings = cv2.medianBlur(gray.astype(np.uint8), 15).astype(np.float32)
    return float(np.mean(gray < 0.5 * surroundings))


def test_line_art_is_present(astronaut_avatar):
    photo, avatar = astronaut_avatar

    assert line_pixels(avatar) > 0.005
    assert line_pixels(avatar) > 2 * line_pixels(photo)


def test_whole_scene_treatment_has_flat_colours_and_lines():
    from skimage import data

    coffee = data.coffee()
    result = stylize(coffee, mode="full")

    assert result.image.shape == coffee.shape
    assert distinct_colours(result.image) < 0.5 * distinct_colours(coffee)
    assert line_pixels(result.image) > 0.002


@pytest.mark.parametrize("name", ["astronaut", "obama.jpg", "biden.jpg", "obama_small.jpg"])
def test_the_person_is_still_recognisable(name, astronaut, face_photo):
    photo = astronaut if name == "astronaut" else face_photo(name)
    styled = stylize(photo, mode="face").image

    faces = detect_faces(styled)
    assert faces, "the styled face is no longer detected as a face"
    distance = descriptor_distance(face_descriptor(photo, detect_faces(photo)[0]), face_descriptor(styled, faces[0]))
    assert distance <= SAME_PERSON_DISTANCE
