"""Faces: detection, landmarks, scores, descriptors and alignment on real photos."""
from __future__ import annotations

import json

import numpy as np
import pytest

from inference.__main__ import main
from inference.faces import (
    SAME_PERSON_DISTANCE,
    align_face,
    descriptor_distance,
    detect_faces,
    face_descriptor,
)
from inference.faces import regions
from inference.faces.align import five_points


def test_astronaut_has_one_frontal_face_with_landmarks_inside_its_box(astronaut):
    faces = detect_faces(astronaut)

    assert len(faces) == 1
    face = faces[0]
    left, top, right, bottom = face.box
    assert 150 < left < right < 300 and 50 < top < bottom < 200
    assert face.landmarks.shape == (68, 2) and face.landmarks.dtype == np.float32
    inner = face.landmarks[regions.INNER_FACE]  # all inside the detector's box
    assert np.all((inner[:, 0] > left - 5) & (inner[:, 0] < right + 5))
    assert np.all((inner[:, 1] > top - 5) & (inner[:, 1] < bottom + 5))
    assert abs(face.yaw) < 20
    assert 0.5 < face.frontal_score <= 1.0
    assert 0.3 < face.quality_score <= 1.0


def test_face_as_dict_is_json(astronaut):
    encoded = json.loads(json.dumps(detect_faces(astronaut)[0].as_dict()))

    assert set(encoded) == {"box", "landmarks", "yaw", "pitch", "frontal_score", "quality_score", "score"}
    assert len(encoded["landmarks"]) == 68


def test_a_photo_without_faces_gives_an_empty_list():
    sky = np.zeros((300, 400, 3), np.uint8)
    sky[:] = (90, 140, 220)

    assert detect_faces(sky) == []


def test_faces_come_largest_first(astronaut):
    # Two copies of the face side by side, the second one half size.
    face_crop = astronaut[40:240, 120:330]
    canvas = np.full((420, 640, 3), 200, np.uint8)
    canvas[10:410, 10:430] = np.kron(face_crop, np.ones((2, 2, 1), np.uint8))
    canvas[100:300, 430:640] = face_crop

    faces = detect_faces(canvas, upsample=1)

    assert len(faces) == 2
    assert faces[0].width > 1.5 * faces[1].width
    assert faces[0].box[0] < faces[1].box[0]


def test_turning_the_head_moves_yaw_and_lowers_the_frontal_score(astronaut):
    face = detect_faces(astronaut)[0]
    turned = detect_faces(np.ascontiguousarray(astronaut[:, ::-1]))[0]

    # A mirror image turns the head the other way.
    assert np.sign(turned.yaw) != np.sign(face.yaw) or abs(face.yaw) < 2


def test_blur_lowers_the_quality_score(astronaut):
    import cv2

    blurred = cv2.GaussianBlur(astronaut, (0, 0), 4)

    assert detect_faces(blurred)[0].quality_score < detect_faces(astronaut)[0].quality_score


def test_unknown_detector_is_a_clear_error(astronaut):
    from inference.errors import InferenceError

    with pytest.raises(InferenceError, match="hog"):
        detect_faces(astronaut, detector="yolo")


def test_cnn_detector_finds_the_same_face(astronaut):
    hog = detect_faces(astronaut)[0]
    cnn = detect_faces(astronaut, detector="cnn")[0]

    assert np.abs(hog.landmarks - cnn.landmarks).mean() < 5


def test_alignment_puts_the_eyes_level_at_fixed_places(astronaut):
    face = detect_faces(astronaut)[0]

    aligned = align_face(astronaut, face, size=256)

    assert aligned.image.shape == (256, 256, 3)
    left_eye, right_eye, nose, _, _ = aligned.to_aligned(five_points(face.landmarks))
    assert abs(left_eye[1] - right_eye[1]) < 1.0
    # FFHQ geometry: eyes just above the middle, eye distance about a quarter of the side.
    assert 0.42 * 256 < left_eye[1] < 0.5 * 256
    assert 0.2 * 256 < right_eye[0] - left_eye[0] < 0.35 * 256
    assert abs(nose[0] - 128) < 20


def test_alignment_matrices_are_inverse_of_each_other(astronaut):
    aligned = align_face(astronaut, detect_faces(astronaut)[0])
    points = np.array([[10.0, 20.0], [300.0, 400.0]])

    np.testing.assert_allclose(aligned.to_image(aligned.to_aligned(points)), points, atol=1e-3)
    # And the crop really shows the photo through that matrix: compare a pixel at the eye.
    eye = five_points(detect_faces(astronaut)[0].landmarks)[0]
    x, y = aligned.to_aligned(eye)[0]
    crop_pixel = aligned.image[int(round(y)), int(round(x))].astype(int)
    photo_pixel = astronaut[int(round(eye[1])), int(round(eye[0]))].astype(int)
    assert np.abs(crop_pixel - photo_pixel).max() < 40


def test_descriptor_is_128_floats_and_stable_under_resizing(astronaut):
    import cv2

    bigger = cv2.resize(astronaut, (768, 768), interpolation=cv2.INTER_CUBIC)
    a = face_descriptor(astronaut, detect_faces(astronaut)[0])
    b = face_descriptor(bigger, detect_faces(bigger)[0])

    assert a.shape == (128,) and a.dtype == np.float32
    assert descriptor_distance(a, b) < 0.2


def _descriptor(face_photo, name):
    rgb = face_photo(name)
    faces = detect_faces(rgb)
    assert faces, f"no face found in {name}"
    return face_descriptor(rgb, faces[0])


def test_same_person_is_closer_than_the_threshold(face_photo):
    assert descriptor_distance(
        _descriptor(face_photo, "obama.jpg"), _descriptor(face_photo, "obama-480p.jpg")
    ) < SAME_PERSON_DISTANCE


def test_different_people_are_further_than_the_threshold(face_photo):
    assert descriptor_distance(
        _descriptor(face_photo, "obama.jpg"), _descriptor(face_photo, "biden.jpg")
    ) > SAME_PERSON_DISTANCE


def test_a_small_face_is_found_and_recognised(face_photo):
    small = face_photo("obama_small.jpg")
    assert max(small.shape[:2]) <= 400

    assert descriptor_distance(
        _descriptor(face_photo, "obama_small.jpg"), _descriptor(face_photo, "obama.jpg")
    ) < SAME_PERSON_DISTANCE


def test_a_face_cut_by_the_frame_is_found_and_aligned(face_photo):
    rgb = face_photo("test_obama_partial_face.jpg")
    face = detect_faces(rgb)[0]

    assert face.box[0] < 0  # the detector's box runs off the photo
    aligned = align_face(rgb, face)
    assert aligned.image.shape == (512, 512, 3)
    assert descriptor_distance(face_descriptor(rgb, face), _descriptor(face_photo, "obama.jpg")) < SAME_PERSON_DISTANCE


def test_cli_prints_faces_as_json(tmp_path, astronaut, capsys):
    from PIL import Image

    path = tmp_path / "astronaut.png"
    Image.fromarray(astronaut).save(path)

    assert main(["faces", str(path)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["width"] == 512 and len(printed["faces"]) == 1


def test_a_faint_face_like_patch_never_outranks_the_real_face():
    """Re-encoded, the astronaut's shoulder patch becomes a barely-detected 'face' larger than
    her real one; the most prominent face must still be hers (found by a sticker built from
    an upload, which is re-encoded)."""
    import io

    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=92)
    Image.open(io.BytesIO(buffer.getvalue())).convert("RGB").save(buffer := io.BytesIO(), "JPEG",
                                                                  quality=92)
    rgb = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    faces = detect_faces(rgb)
    assert faces[0].box[1] < 200  # the head, not the patch on the shoulder (y > 300)
    assert faces[0].score > 1.0 and all(f.score <= faces[0].score for f in faces)
