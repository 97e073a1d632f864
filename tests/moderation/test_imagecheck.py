"""NudeNet as an image check: detections on a real photo, rules from settings, the decision."""
import pytest
from PIL import Image
from skimage import data

from moderation import imagecheck


def test_detects_the_face_on_a_real_photo_in_image_pixels():
    [face] = [d for d in imagecheck.detect(Image.fromarray(data.astronaut())) if d["label"].startswith("FACE")]
    x, y, w, h = face["box"]
    assert face["score"] > 0.5 and 150 < x + w / 2 < 300 and 50 < y + h / 2 < 200  # her face


def test_a_blank_image_has_no_detections():
    assert imagecheck.detect(Image.new("RGB", (640, 480), (90, 140, 200))) == []


def test_rules_parse_from_a_string_or_a_dict():
    assert imagecheck.parse_rules("FACE_MALE=block:0.4, feet_exposed=review") == {
        "FACE_MALE": ("block", 0.4), "FEET_EXPOSED": ("review", 0.5)}
    assert imagecheck.parse_rules({"ANUS_EXPOSED": ["allow", 0.9]}) == {"ANUS_EXPOSED": ("allow", 0.9)}
    for bad in ("NOT_A_LABEL=block:0.5", "FACE_MALE=delete:0.5"):
        with pytest.raises(ValueError):
            imagecheck.parse_rules(bad)


def test_the_worst_action_over_threshold_decides():
    detections = [{"label": "BUTTOCKS_EXPOSED", "score": 0.6, "box": [0, 0, 1, 1]},
                  {"label": "FEMALE_BREAST_EXPOSED", "score": 0.3, "box": [0, 0, 1, 1]},
                  {"label": "FACE_FEMALE", "score": 0.9, "box": [0, 0, 1, 1]}]
    decision, labels = imagecheck.judge(detections, imagecheck.DEFAULT_RULES)
    assert decision == "review" and [l["label"] for l in labels] == ["BUTTOCKS_EXPOSED"]
    rules = dict(imagecheck.DEFAULT_RULES, FEMALE_BREAST_EXPOSED=("block", 0.25))
    assert imagecheck.judge(detections, rules)[0] == "block"


def test_one_shared_model_answers_threads_at_once_as_it_answers_one():
    from concurrent.futures import ThreadPoolExecutor

    images = [Image.fromarray(data.astronaut()), Image.fromarray(data.chelsea()),
              Image.fromarray(data.coffee())] * 3
    alone = [imagecheck.detect(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(imagecheck.detect, images))
    assert together == alone
