"""Every model and cache a worker's threads share answers many threads at once exactly as it
answers one call at a time (issue #10.1: one dlib detector shared by the embedded worker's
threads returned boxes off the photo, 20-110 "faces", or crashed), and a detection no detector
could make fails the job instead of being drawn."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import cv2
import dlib
import numpy as np
import pytest
import torch
from PIL import Image

from inference.anime import stylize
from inference.anime.generator import to_rgb, to_tensor
from inference.anime.runtime import GeneratorRunner
from inference.anime.tiling import image_statistics, run_tiled
from inference.errors import InferenceError
from inference.faces import detect_faces, face_descriptor, models
from inference.sticker import make_sticker, parse_expression
from inference.sticker.caption import draw_caption, find_font
from tests.inference.test_anime_generator import random_generator

THREADS = 4


def at_once(work, items: list) -> list:
    """``work`` over ``items`` from THREADS threads at once, in the order of ``items``."""
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(work, items))


def one_by_one(work, items: list) -> list:
    return [work(item) for item in items]


@pytest.fixture(scope="module")
def photos(face_photo) -> dict[str, np.ndarray]:
    return {name: face_photo(f"{name}.jpg") for name in ("obama", "biden")}


def faces_found(rgb: np.ndarray) -> list:
    return [(face.box, face.score, face.landmarks.tobytes()) for face in detect_faces(rgb)]


def test_detection_from_many_threads_finds_what_it_finds_one_at_a_time(photos):
    # The recipe: obama and biden from 4 threads, 15 times each.
    names = ["obama", "biden"] * 30
    expected = {name: faces_found(rgb) for name, rgb in photos.items()}
    assert all(len(found) == 1 for found in expected.values())

    found = at_once(lambda name: faces_found(photos[name]), names)

    wrong = [name for name, faces in zip(names, found) if faces != expected[name]]
    assert not wrong, f"{len(wrong)} of {len(names)} detections differ"


def test_landmarks_from_many_threads_are_those_of_one_at_a_time(photos):
    predictor = models.landmarks_68()  # one for the process: dlib documents it as shareable
    jobs = [(name, dlib.rectangle(*detect_faces(rgb)[0].box)) for name, rgb in photos.items()] * 20

    def landmarks(job):
        name, box = job
        return [(p.x, p.y) for p in predictor(photos[name], box).parts()]

    assert at_once(landmarks, jobs) == one_by_one(landmarks, jobs)


def test_descriptors_from_many_threads_are_those_of_one_at_a_time(photos):
    jobs = [(name, detect_faces(rgb)[0]) for name, rgb in photos.items()] * 4

    def descriptor(job):
        name, face = job
        return face_descriptor(photos[name], face).tobytes()

    assert at_once(descriptor, jobs) == one_by_one(descriptor, jobs)


def test_each_thread_has_its_own_detector_and_descriptor_net_but_shares_the_predictor():
    both_running = threading.Barrier(2)  # so that the two calls really run in two threads

    def models_of_this_thread(wait: bool):
        if wait:
            both_running.wait(timeout=30)
        return id(models.hog_detector()), id(models.descriptor_net()), id(models.landmarks_68())

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(models_of_this_thread, [True, True])
        main = models_of_this_thread(False)

    assert len({first[0], second[0], main[0]}) == 3
    assert len({first[1], second[1], main[1]}) == 3
    assert first[2] == second[2] == main[2]


def test_the_cnn_detector_from_several_threads_finds_what_it_finds_alone(astronaut):
    def found(_):
        return [(face.box, face.score) for face in detect_faces(astronaut, detector="cnn",
                                                                 upsample=0)]

    alone = found(None)
    assert len(alone) == 1

    assert at_once(found, [0, 1, 2]) == [alone] * 3


# -- AnimeGAN ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_photos(astronaut) -> list[np.ndarray]:
    return [cv2.resize(np.ascontiguousarray(astronaut[y:y + 320, x:x + 320]), (96, 80),
                       interpolation=cv2.INTER_AREA) for y in (0, 96, 192) for x in (0, 96, 192)]


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_one_runner_from_many_threads_styles_as_it_does_one_at_a_time(backend, small_photos):
    runner = GeneratorRunner(random_generator(6), backend=backend)

    styled = at_once(runner.run, small_photos)

    expected = one_by_one(runner.run, small_photos)
    assert all(np.array_equal(a, b) for a, b in zip(styled, expected))


def test_tiled_and_whole_runs_of_one_generator_at_once_do_not_mix(astronaut):
    """Tiling replays statistics and swaps the upsampling grid; another thread running the same
    generator whole, or tiling another photo, must not see them."""
    generator = random_generator(7)
    photos = [cv2.resize(astronaut, (224, 160), interpolation=cv2.INTER_AREA),
              cv2.resize(np.ascontiguousarray(astronaut[::-1]), (224, 160),
                         interpolation=cv2.INTER_AREA)]

    def tiled(rgb):
        return run_tiled(generator, rgb, tile=128, overlap=64, margin=16)

    def whole(rgb):
        with torch.inference_mode():
            return to_rgb(generator(to_tensor(rgb)))

    def statistics(rgb):
        return [s.tolist() for s in image_statistics(generator, rgb)]

    work = [(run, photo) for run in (tiled, whole, statistics) for photo in photos] * 2

    def apply(job):
        run, photo = job
        return run(photo)

    got = at_once(apply, work)

    expected = one_by_one(apply, work)
    for (run, _), a, b in zip(work, got, expected):
        assert np.array_equal(np.asarray(a), np.asarray(b)), run.__name__


# -- Stickers ---------------------------------------------------------------------------------

CAPTIONS = ["开心", "我太难了", "666", "awesome 😎", "無語", "不好意思啦哈哈哈哈哈哈哈"]


def test_caption_drawing_from_many_threads_draws_what_it_draws_one_at_a_time():
    font = find_font()  # one cached file path; the FreeType faces behind it are cached too

    def drawn(text):
        canvas = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
        box = draw_caption(canvas, text, (0.05, 0.7, 0.95, 0.98), font_path=font,
                           font_size=0.14, fill="#ffffff", outline="#222222")
        return box, canvas.tobytes()

    texts = CAPTIONS * 6

    assert at_once(drawn, texts) == one_by_one(drawn, texts)


def test_expressions_from_many_threads_are_those_of_one_at_a_time():
    texts = CAPTIONS * 10

    assert at_once(parse_expression, texts) == one_by_one(parse_expression, texts)


# -- Impossible detections --------------------------------------------------------------------

class _BrokenDetector:
    """What a corrupted dlib detector returned: a 'face' far off the photo, an absurd score."""

    def __init__(self, box: tuple[int, int, int, int], score: float) -> None:
        self.box, self.score = box, score

    def run(self, image, upsample, threshold):
        return [dlib.rectangle(*self.box)], [self.score], [0]


@pytest.mark.parametrize("box, score", [
    ((-900, -900, -700, -700), 1.2),  # centred off the photo
    ((360, 600, 500, 740), 1.2),  # below a 512-high photo
    ((150, 60, 280, 190), 2.6e38),  # where the face is, with a score no face has
    ((150, 60, 280, 190), float("nan")),
])
def test_an_impossible_detection_is_an_error_not_a_face(astronaut, monkeypatch, box, score):
    monkeypatch.setattr(models, "hog_detector", lambda: _BrokenDetector(box, score))

    with pytest.raises(InferenceError) as caught:
        detect_faces(astronaut)

    assert caught.value.code == "bad_detection"


def test_pipelines_fail_on_an_impossible_detection_instead_of_drawing_it(astronaut, monkeypatch):
    monkeypatch.setattr(models, "hog_detector",
                        lambda: _BrokenDetector((-400, 300, -100, 600), 3e37))

    with pytest.raises(InferenceError) as sticker:
        make_sticker(astronaut, text="开心")
    with pytest.raises(InferenceError) as avatar:
        stylize(astronaut, mode="avatar")

    assert sticker.value.code == avatar.value.code == "bad_detection"

