"""With SD_MODEL_DIR: the description's prompt drawn by Stable Diffusion txt2img, on the tiny
random-weight SD1.5 pipeline loaded through the real loader."""
from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download anything

from inference.diffusion import load_sd_pipeline  # noqa: E402
from inference.diffusion.txt2img import txt2img  # noqa: E402
from inference.voice import describe  # noqa: E402
from tests.inference.tiny_sd import build_tiny_sd  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-anime")


@pytest.fixture(scope="module")
def handle(model_dir):
    return load_sd_pipeline(model_dir, device="cpu")


def test_a_description_is_drawn_from_its_prompt(handle):
    description = describe("a girl with blue hair on the beach at sunset")
    fractions = []
    result = txt2img(handle, prompt=description.prompt,
                     negative_prompt=description.negative_prompt, steps=2, seed=3,
                     progress=lambda stage, fraction: fractions.append(fraction))
    assert result.image.dtype == np.uint8 and result.image.ndim == 3
    assert result.image.shape[0] == result.image.shape[1] == result.params["size"][0]
    assert result.engine.startswith("sd:tiny-anime@") and result.seed == 3
    assert fractions and fractions == sorted(fractions) and fractions[-1] == 1.0


def test_the_seed_and_the_prompt_decide_the_picture(handle):
    def draw(prompt: str, seed: int) -> np.ndarray:
        return txt2img(handle, prompt=prompt, steps=2, seed=seed).image

    first = draw("a girl with blue hair", 5)
    assert np.array_equal(first, draw("a girl with blue hair", 5))
    assert not np.array_equal(first, draw("a girl with blue hair", 6))
    assert not np.array_equal(first, draw("a boy with red hair", 5))


def test_img2img_still_works_after_a_txt2img_call(handle):
    from inference.diffusion import img2img

    txt2img(handle, prompt="a cat", steps=1, seed=1)
    card = np.full((64, 64, 3), 128, np.uint8)
    assert img2img(handle, card, prompt="smile", steps=2, seed=1).image.shape == (64, 64, 3)


def test_a_description_is_drawn_by_sd_with_a_pipeline_and_by_the_illustrator_without(model_dir):
    description = describe("一只黑猫在雪地里睡觉")
    assert description.draw(seed=1, sd_model_dir=model_dir).engine.startswith("sd:tiny-anime@")
    embedded = description.draw(seed=1, sd_model_dir=None)
    assert embedded.engine.startswith("illustrator") and embedded.image.shape == (768, 768, 3)


# The anime style pass after txt2img, with tiny random AnimeGAN checkpoints installed.
@pytest.fixture(scope="module")
def anime_models(tmp_path_factory):
    import torch

    from tests.inference.test_anime_generator import random_generator

    folder = tmp_path_factory.mktemp("anime-models")
    (folder / "animegan").mkdir()
    for seed, name in enumerate(("paprika", "hayao")):
        torch.save(random_generator(seed).state_dict(), folder / "animegan" / f"{name}.pt")
    return folder


def test_the_painted_picture_gets_the_anime_pass_and_says_which_models_made_it(
        model_dir, anime_models):
    description = describe("a girl with blue hair on the beach at sunset")
    styled = description.draw(seed=2, sd_model_dir=model_dir, models_dir=anime_models, steps=2)
    plain = description.draw(seed=2, sd_model_dir=model_dir, models_dir=anime_models, steps=2,
                             anime_style="none")
    handle = load_sd_pipeline(model_dir, device="cpu")
    raw = txt2img(handle, prompt=description.prompt,
                  negative_prompt=description.negative_prompt, steps=2, seed=2)
    assert np.array_equal(plain.image, raw.image) and plain.engine == raw.engine
    assert styled.image.shape == raw.image.shape
    assert np.abs(styled.image.astype(int) - raw.image.astype(int)).mean() > 5
    sd, animegan = styled.engine.split("+animegan:")
    assert sd == raw.engine and animegan.startswith("paprika@")
    meta = styled.as_metadata()
    assert meta["models"]["sd"] == {"engine": raw.engine, "folder": "tiny-anime"}
    assert meta["models"]["animegan"]["file"] == "paprika.pt"
    assert meta["anime_pass"]["path"] == "animegan" and meta["anime_pass"]["mode"] == "full"
    assert meta["diffusion"]["steps"] == 2 and "anime_pass" not in plain.as_metadata()


def test_the_anime_pass_follows_the_described_style(model_dir, anime_models, tmp_path):
    from inference.errors import InferenceError
    from inference.voice.painted import anime_pass_style

    ghibli = describe("宫崎骏风格的女孩在森林里")
    assert ghibli.slots.style == "ghibli"
    assert anime_pass_style(ghibli.slots, anime_models) == "hayao"
    assert anime_pass_style(describe("a girl").slots, anime_models) == "paprika"
    assert anime_pass_style(describe("a girl").slots, tmp_path) is None  # none installed
    assert anime_pass_style(ghibli.slots, anime_models, "paprika") == "paprika"
    with pytest.raises(InferenceError) as error:
        anime_pass_style(ghibli.slots, anime_models, "shinkai")
    assert error.value.code == "unknown_style"
    drawn = ghibli.draw(seed=1, sd_model_dir=model_dir, models_dir=anime_models, steps=1)
    assert "+animegan:hayao@" in drawn.engine
