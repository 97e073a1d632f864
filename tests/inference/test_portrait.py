"""Portraits (AI写真): PAI's photo check, identities, and fusing them into templates."""
from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from inference.__main__ import main
from inference.errors import InferenceError
from inference.faces import descriptor_distance, detect_faces, face_descriptor
from inference.portrait import Identity, check_photo_bytes, check_photos, fuse, learn_identity
from inference.portrait.fusion import WORKING_SIDE
from inference.portrait.masks import lab
from inference.working_size import fit_within
from tests.inference.portrait_photos import photo_set, side_by_side


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue()


def _refusal(call) -> InferenceError:
    with pytest.raises(InferenceError) as caught:
        call()
    return caught.value


# --- always run: scikit-image's astronaut and synthetic inputs ---------------------------------

def test_check_gives_pais_codes_and_messages_per_photo_in_order(astronaut):
    blank = np.full((300, 300, 3), 180, np.uint8)
    two_faces = np.concatenate([astronaut, astronaut], axis=1)
    grey = astronaut[..., 0]  # not RGB: cannot be read as a photo

    checks = check_photos([astronaut, None, blank, two_faces, grey])

    assert [(c.code, c.message) for c in checks] == [
        (1, "success"), (2, "Image decode error"), (3, "Number of face is not 1"),
        (3, "Number of face is not 1"), (2, "Image decode error")]
    assert checks[0].frontal is True
    assert checks.cost_time > 0
    first = checks.as_dict()["check_results"][0]
    assert first == {"code": 1, "frontal": True, "message": "success"}


def test_a_failing_detector_or_encoder_gets_codes_4_and_5(astronaut, monkeypatch):
    import inference.portrait.check as check

    def fail(*args, **kwargs):
        raise InferenceError("the detector returned an impossible face", code="bad_detection")

    monkeypatch.setattr(check, "face_descriptor", fail)
    assert [(c.code, c.message) for c in check_photos([astronaut])] == [(5, "Image encoding error")]
    monkeypatch.setattr(check, "detect_faces", fail)
    assert [(c.code, c.message) for c in check_photos([astronaut])] == [(4, "Image detect error")]


def test_check_of_encoded_photos_refuses_what_does_not_decode(astronaut):
    checks = check_photo_bytes([_png(astronaut), b"not an image", None, _png(astronaut)[:200]])

    assert [c.code for c in checks] == [1, 2, 2, 2]


def test_an_identity_survives_bytes_and_refuses_other_files(astronaut):
    photos = photo_set(astronaut)
    identity = learn_identity(photos)

    again = Identity.from_bytes(identity.to_bytes())

    assert identity.photos == sum(c.ok for c in check_photos(photos)) >= 4
    assert again.photos == identity.photos
    assert np.array_equal(again.faces, identity.faces)
    assert np.allclose(again.descriptor, identity.descriptor)
    assert np.all((again.mean_landmarks > 0) & (again.mean_landmarks < 1))
    assert 30 < again.skin_lab[0] < 90 and again.skin_lab[1] > 0  # lit, reddish skin
    for junk in (b"", b"PK\x03\x04junk", _png(astronaut)):
        assert _refusal(lambda: Identity.from_bytes(junk)).code == "bad_identity"


def test_no_usable_photo_is_a_clear_error():
    error = _refusal(lambda: learn_identity([None, np.zeros((200, 200, 3), np.uint8)]))

    assert error.code == "no_usable_photo" and "2 Image decode error" in str(error)


def test_a_template_without_a_face_gets_pais_message(astronaut):
    identity = learn_identity([astronaut])
    sky = np.full((600, 600, 3), (90, 140, 220), np.uint8)

    error = _refusal(lambda: fuse(sky, [identity]))

    assert error.code == "template_no_face"
    assert str(error) == "There is not face in template. Please Give a new template."


def test_a_face_count_mismatch_says_both_counts(astronaut):
    identity = learn_identity([astronaut])

    error = _refusal(lambda: fuse(astronaut, [identity, identity]))

    assert error.code == "face_count_mismatch"
    assert "The template has 1 face and 2 identities were given" in str(error)


def test_identities_must_be_identities(astronaut):
    stored = learn_identity([astronaut]).to_bytes()

    assert _refusal(lambda: fuse(astronaut, [stored])).code == "bad_identity"


def test_a_bad_configure_is_refused_before_any_work(astronaut):
    identity = learn_identity([astronaut])

    error = _refusal(lambda: fuse(astronaut, [identity], {"more_like_me": 1.5}))

    assert error.code == "invalid_configure" and "more_like_me" in str(error)


def test_what_needs_absent_models_is_listed_not_pretended(astronaut):
    identity = learn_identity([np.ascontiguousarray(astronaut[:, ::-1])])

    result = fuse(astronaut, [identity], {"ipa_control": True, "lcm_accelerate": True})

    assert {"lora_weights", "first_diffusion_steps", "second_denoising_strength",
            "photo_enhancement_method", "ipa_control", "ipa_weight",
            "lcm_accelerate"} <= set(result.not_applied)
    assert "more_like_me" not in result.not_applied
    assert result.engine == "portrait-fusion-v1"
    assert result.as_metadata()["faces"][0]["distance"] is not None


# --- with ../shared fixtures ---------------------------------------------------------------

@pytest.fixture(scope="module")
def obama(face_photo):
    return face_photo("obama.jpg")


@pytest.fixture(scope="module")
def biden(face_photo):
    return face_photo("biden.jpg")


@pytest.fixture(scope="module")
def obama_identity(obama):
    return learn_identity(photo_set(obama))


@pytest.fixture(scope="module")
def biden_identity(biden):
    return learn_identity(photo_set(biden))


def test_a_set_of_one_persons_photos_passes(obama):
    checks = check_photos(photo_set(obama))

    assert [c.code for c in checks] == [1] * 5
    assert all(c.frontal for c in checks)


def test_a_group_photo_is_code_3_and_another_person_is_code_6(obama, biden):
    photos = photo_set(obama)[:3] + [biden, side_by_side(obama, biden)]

    checks = check_photos(photos)

    assert [c.code for c in checks] == [1, 1, 1, 6, 3]
    assert checks[3].message == "This photo is not the same person in photos"


def test_a_turned_head_is_not_frontal(biden):
    assert check_photos([biden])[0].frontal is False  # about 21 degrees of yaw and 17 of pitch


def result_template(rgb: np.ndarray) -> np.ndarray:
    """The template as ``fuse`` works on it (scaled to its working size)."""
    return fit_within(rgb, WORKING_SIDE)


def _distances(result_rgb: np.ndarray, template_rgb: np.ndarray, identities: list[Identity]):
    """Per face, left to right: distance of the fused face to its identity and to the
    template's own face there, measured afresh (not from the result's metadata)."""
    found = sorted(detect_faces(result_rgb), key=lambda f: f.box[0])
    originals = sorted(detect_faces(template_rgb), key=lambda f: f.box[0])
    assert len(found) == len(originals)
    distances = []
    for fused, original, identity in zip(found, originals, identities):
        descriptor = face_descriptor(result_rgb, fused)
        distances.append((descriptor_distance(descriptor, identity.descriptor),
                          descriptor_distance(descriptor, face_descriptor(template_rgb, original))))
    return distances


@pytest.mark.parametrize("user, template", [("obama", "biden"), ("biden", "obama")])
def test_the_fused_face_is_the_users(user, template, request):
    identity = request.getfixturevalue(f"{user}_identity")
    template_rgb = request.getfixturevalue(template)

    result = fuse(template_rgb, [identity])

    (to_user, to_template), = _distances(result.image, result_template(template_rgb), [identity])
    assert to_user <= 0.5 and to_user < to_template
    assert result.faces[0]["distance"] == pytest.approx(to_user, abs=1e-3)


def _edge_of_change(result: np.ndarray, template: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Where the fused face meets the template: a 4-pixel band just inside the changed area.
    Returns the band, the mean colour difference (Lab ΔE) to the template on it, and the
    result's mean gradient on it relative to the template's."""
    difference = np.linalg.norm(lab(result) - lab(template), axis=2)
    changed = (cv2.GaussianBlur(difference, (0, 0), 1.5) > 4).astype(np.uint8)
    changed = cv2.morphologyEx(changed, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    band = changed - cv2.erode(changed, np.ones((9, 9), np.uint8))
    band = band.astype(bool)

    def gradient(rgb):
        lightness = lab(rgb)[..., 0]
        return np.hypot(cv2.Sobel(lightness, cv2.CV_32F, 1, 0),
                        cv2.Sobel(lightness, cv2.CV_32F, 0, 1))

    ratio = gradient(result)[band].mean() / gradient(template)[band].mean()
    return band, float(difference[band].mean()), float(ratio)


@pytest.mark.parametrize("configure", [None, {"color_shift_middle": False}],
                         ids=["colour matched", "Poisson cloned"])
def test_the_fused_face_has_no_seam_and_no_colour_edge(obama_identity, biden, configure):
    from inference.faces import regions
    from inference.portrait.masks import face_outline, polygon_mask
    from inference.portrait.warp import apply_affine, similarity_transform, warp_face

    template = result_template(biden)
    result = fuse(template, [obama_identity], configure).image

    band, colour_step, gradient_ratio = _edge_of_change(result, template)
    assert band.sum() > 500
    assert colour_step < 8 and gradient_ratio < 1.3

    # The same face pasted with a hard mask and no colour matching fails both measures.
    face = detect_faces(template)[0]
    points = obama_identity.face_landmarks[0]
    placed = apply_affine(similarity_transform(points[regions.STABLE],
                                               face.landmarks[regions.STABLE]), points)
    warped = warp_face(obama_identity.faces[0], points, placed, template.shape[:2])
    mask = polygon_mask(template.shape[:2], [face_outline(placed, forehead=0.3)]) > 127
    pasted = np.where(mask[..., None], warped, template)
    _, pasted_step, pasted_ratio = _edge_of_change(pasted, template)
    assert pasted_step > 8 and pasted_ratio > 1.3


def test_a_three_face_template_gets_each_identity_left_to_right(obama, biden, obama_identity,
                                                                 biden_identity):
    template = side_by_side(biden, obama, biden)
    identities = [obama_identity, biden_identity, obama_identity]

    result = fuse(template, identities)

    for to_user, to_template in _distances(result.image, template, identities):
        assert to_user <= 0.5 and to_user < to_template
    assert [f["box"][0] for f in result.faces] == sorted(f["box"][0] for f in result.faces)


def test_more_like_me_moves_the_face_towards_the_user(biden_identity, obama):
    distances = [fuse(obama, [biden_identity], {"more_like_me": value}).faces[0]["distance"]
                 for value in (0.0, 1.0)]

    assert distances[1] < distances[0] - 0.05


def test_without_either_fusion_the_template_comes_back(obama_identity, biden):
    template = result_template(biden)
    off = {"apply_face_fusion_before": False, "apply_face_fusion_after": False, "sharp_ratio": 0.0}

    result = fuse(template, [obama_identity], off)

    assert np.array_equal(result.image, template)
    assert result.faces[0]["distance"] > 0.6


def test_the_options_change_the_face_where_they_should(obama_identity, biden):
    template = result_template(biden)
    plain = fuse(template, [obama_identity], {"sharp_ratio": 0.0}).image
    options = {"sharp_ratio": 0.0, "skin_retouching_bool": True, "makeup_transfer": True,
               "makeup_transfer_ratio": 1.0, "background_restore": True}
    touched = fuse(template, [obama_identity], options).image
    anime = fuse(template, [obama_identity], {"style_name": "Anime"})

    face = detect_faces(template)[0]
    left, top, right, bottom = face.box
    changed = np.abs(touched.astype(int) - plain).sum(axis=2) > 6
    assert changed[top:bottom, left:right].mean() > 0.1  # the face was retouched
    height = bottom - top
    assert not changed[bottom + 2 * height:].any()  # far from the face, nothing moved
    assert not changed[:, right + height:].any()
    assert "anime" in anime.path and anime.image.shape == template.shape


def test_makeup_moves_the_lips_colour_towards_the_templates(obama_identity, biden):
    from inference.portrait.retouch import lip_mask

    template = result_template(biden)
    plain = fuse(template, [obama_identity], {"sharp_ratio": 0.0}).image
    made_up = fuse(template, [obama_identity], {"sharp_ratio": 0.0, "makeup_transfer": True,
                                                "makeup_transfer_ratio": 1.0}).image

    def lips_colour(rgb, landmarks):
        return lab(rgb)[lip_mask(rgb.shape[:2], landmarks) > 127].mean(axis=0)

    wanted = lips_colour(template, detect_faces(template)[0].landmarks)
    fused_landmarks = detect_faces(plain)[0].landmarks
    before = np.linalg.norm(lips_colour(plain, fused_landmarks) - wanted)
    after = np.linalg.norm(lips_colour(made_up, fused_landmarks) - wanted)
    assert after < 0.6 * before


def test_the_command_line_checks_learns_and_fuses(tmp_path, capsys, face_photo):
    face_photo("obama.jpg")  # skips without ../shared
    from tests.inference.conftest import SHARED_FACES

    obama, biden = str(SHARED_FACES / "obama.jpg"), str(SHARED_FACES / "biden.jpg")
    assert main(["portrait", "check", obama, biden]) == 1
    assert '"code": 6' in capsys.readouterr().out
    assert main(["portrait", "identity", obama, "-o", str(tmp_path / "id.npz")]) == 0
    assert main(["portrait", "fuse", biden, str(tmp_path / "id.npz"), "-o",
                 str(tmp_path / "out.png"), "--configure", '{"more_like_me": 0.8}']) == 0
    assert (tmp_path / "out.png").stat().st_size > 10_000
