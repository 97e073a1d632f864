"""The Stable Diffusion path, on a tiny random-weight SD1.5 pipeline loaded through the real loader."""
from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download anything

from inference.diffusion import DiffusionResult, img2img, load_sd_pipeline, sd_available  # noqa: E402
from inference.diffusion import loading  # noqa: E402
from inference.diffusion.blend import feather_keep_mask  # noqa: E402
from inference.errors import ModelLoadError  # noqa: E402
from tests.inference.tiny_sd import build_tiny_lora, build_tiny_sd  # noqa: E402

needs_peft = pytest.mark.skipif(importlib.util.find_spec("peft") is None, reason="LoRAs need peft")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-anime")


@pytest.fixture(scope="module")
def handle(model_dir):
    return load_sd_pipeline(model_dir, device="cpu")


@pytest.fixture(scope="module")
def face() -> np.ndarray:
    """A face-like test card: smooth gradients, so the input is not itself noise."""
    y, x = np.mgrid[0:64, 0:64]
    return np.stack([x * 4, y * 4, np.full_like(x, 128)], axis=-1).astype(np.uint8)


@pytest.fixture(scope="module")
def face_mask() -> np.ndarray:
    mask = np.zeros((64, 64), np.float32)
    mask[20:44, 20:44] = 1.0
    return mask


def run(handle, face, **kw) -> DiffusionResult:
    return img2img(handle, face, prompt="smiling anime face", **{"steps": 2, "seed": 7, **kw})


def test_a_diffusers_folder_is_available_and_others_are_not(model_dir, tmp_path):
    assert sd_available(model_dir)
    assert sd_available(str(model_dir))
    assert not sd_available(tmp_path)
    assert not sd_available(tmp_path / "absent")
    assert not sd_available(None)
    assert not sd_available("")


def test_the_result_is_an_rgb_image_of_the_input_size_made_by_the_named_checkpoint(handle, face):
    result = run(handle, face)

    assert result.image.shape == face.shape and result.image.dtype == np.uint8
    assert result.engine.startswith("sd:tiny-anime@")
    assert result.seed == 7
    meta = result.as_metadata()
    assert meta["engine"] == result.engine and meta["scheduler"] == "default"
    assert meta["steps_run"] >= 1 and meta["timings"]["total_s"] >= meta["timings"]["generate_s"] >= 0


def test_an_input_of_another_shape_comes_back_at_its_own_size(handle):
    image = np.full((40, 72, 3), 90, np.uint8)

    result = img2img(handle, image, prompt="smile", steps=2, seed=1, size=64)

    assert result.image.shape == (40, 72, 3)
    assert result.as_metadata()["size"] == [64, 32]  # long side 64, both sides multiples of 16


def test_the_kept_region_is_the_input_and_the_rest_is_redrawn(handle, face, face_mask):
    result = run(handle, face, keep_mask=face_mask, strength=0.8)

    kept = face_mask == 1
    assert np.array_equal(result.image[kept], face[kept])
    far_outside = np.ones_like(kept)
    far_outside[12:52, 12:52] = False  # beyond the feather
    diff = np.abs(result.image.astype(int) - face.astype(int))[far_outside]
    assert diff.mean() > 5


def test_progress_reports_increasing_fractions_of_the_denoising_steps(handle, face):
    reports = []

    result = run(handle, face, steps=4, strength=1.0, progress=lambda stage, f: reports.append((stage, f)))

    fractions = [f for stage, f in reports]
    assert {stage for stage, f in reports} == {"diffusion"}
    assert len(fractions) == result.as_metadata()["steps_run"] >= 2
    assert fractions == sorted(set(fractions)) and fractions[-1] == 1.0 and fractions[0] > 0


def test_the_same_seed_gives_the_same_image_and_another_seed_another(handle, face):
    first, again, other = run(handle, face), run(handle, face), run(handle, face, seed=8)

    assert np.array_equal(first.image, again.image)
    assert not np.array_equal(first.image, other.image)


def test_the_prompt_steers_the_image(handle, face):
    smiling = run(handle, face)

    crying = img2img(handle, face, prompt="crying anime face", steps=2, seed=7)

    assert not np.array_equal(smiling.image, crying.image)
    assert crying.as_metadata()["prompt"] == "crying anime face"


def test_without_a_seed_one_is_chosen_and_reported(handle, face):
    result = img2img(handle, face, prompt="smile", steps=2)

    assert np.array_equal(img2img(handle, face, prompt="smile", steps=2, seed=result.seed).image, result.image)


def test_the_lcm_scheduler_runs_and_says_so_then_the_default_comes_back(handle, face):
    default_scheduler = handle.pipe.scheduler

    result = run(handle, face, scheduler="lcm", steps=2)

    assert result.engine.endswith("+lcm")
    assert result.as_metadata()["scheduler"] == "lcm" and result.as_metadata()["guidance"] == 1.5
    assert handle.pipe.scheduler is default_scheduler
    assert not np.array_equal(result.image, run(handle, face).image)


def test_loading_twice_gives_the_same_pipeline_even_from_several_threads(model_dir, handle):
    handles = []
    def load():
        handles.append(load_sd_pipeline(model_dir, device="cpu"))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert load_sd_pipeline(str(model_dir)) is handle
    assert all(h is handle for h in handles) and len(handles) == 4


def test_the_engine_changes_when_the_weights_change(tmp_path, handle):
    retrained = build_tiny_sd(tmp_path / "tiny-anime", seed=1)

    other = load_sd_pipeline(retrained)

    assert other.engine.startswith("sd:tiny-anime@") and other.engine != handle.engine


def test_a_missing_folder_says_what_a_model_folder_holds(tmp_path):
    with pytest.raises(ModelLoadError, match="does not exist.*model_index.json") as caught:
        load_sd_pipeline(tmp_path / "nowhere")
    assert caught.value.code == "model_load_failed"

    with pytest.raises(ModelLoadError, match="has no model_index.json"):
        load_sd_pipeline(tmp_path)


def test_a_folder_without_a_unet_names_it(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "no-unet")
    shutil.rmtree(broken / "unet")

    with pytest.raises(ModelLoadError, match="lacks the component.*unet"):
        load_sd_pipeline(broken)


def test_corrupt_weights_are_a_model_load_error(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "corrupt")
    (broken / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"\x00not safetensors" * 64)

    with pytest.raises(ModelLoadError, match="Could not load the Stable Diffusion pipeline"):
        load_sd_pipeline(broken)


def test_a_model_index_that_is_not_json_is_a_model_load_error(model_dir, tmp_path):
    broken = shutil.copytree(model_dir, tmp_path / "bad-index")
    (broken / "model_index.json").write_text("{not json", encoding="utf-8")

    with pytest.raises(ModelLoadError, match="not readable JSON"):
        load_sd_pipeline(broken)


def test_the_feather_keeps_the_mask_and_fades_outwards():
    mask = np.zeros((64, 64), np.float32)
    mask[24:40, 24:40] = 1.0

    weights = feather_keep_mask(mask, radius=4)

    assert (weights[mask == 1] == 1).all()
    assert 0 < weights[32, 42] < 1  # just outside: partly kept
    assert weights[32, 56] == pytest.approx(0, abs=1e-3)  # far outside: all generated
    row = weights[32, 40:56]
    assert (np.diff(row) <= 1e-6).all()


def test_an_lcm_lora_next_to_the_model_is_skipped_without_peft_and_says_so(model_dir, tmp_path, face, monkeypatch):
    folder = shutil.copytree(model_dir, tmp_path / "with-lcm-lora")
    (folder / "lcm-lora.safetensors").write_bytes(b"unused")
    monkeypatch.setattr(loading, "_peft_installed", lambda: False)

    result = run(load_sd_pipeline(folder), face, scheduler="lcm")

    assert result.engine.endswith("+lcm")
    assert "peft" in result.as_metadata()["lcm_lora"]


@needs_peft
def test_a_lora_changes_the_output_and_the_engine(model_dir, handle, tmp_path, face):
    lora = build_tiny_lora(model_dir, tmp_path / "ghibli.safetensors")

    styled = load_sd_pipeline(model_dir, device="cpu", lora_path=lora)

    assert styled.engine.startswith(handle.engine + "+lora:ghibli@")
    assert not np.array_equal(run(styled, face).image, run(handle, face).image)


@needs_peft
def test_an_lcm_lora_in_the_model_folder_is_used_only_with_the_lcm_scheduler(model_dir, handle, tmp_path, face):
    folder = shutil.copytree(model_dir, tmp_path / "tiny-anime")
    build_tiny_lora(folder, folder / "lcm-lora" / "pytorch_lora_weights.safetensors")

    with_lcm_lora = load_sd_pipeline(folder)

    lcm = run(with_lcm_lora, face, scheduler="lcm")
    assert "+lcm+lcm-lora@" in lcm.engine
    assert not np.array_equal(lcm.image, run(handle, face, scheduler="lcm").image)
    assert np.array_equal(run(with_lcm_lora, face).image, run(handle, face).image)
