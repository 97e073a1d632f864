"""AnimeGANv2: the public checkpoint format, the loader's errors, the fast path and tiling."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from inference.anime import available_styles, stylize
from inference.anime.checkpoints import find_checkpoints, load_checkpoint
from inference.anime import runtime
from inference.anime.generator import Generator, TileContext, to_rgb, to_tensor
from inference.anime.runtime import GeneratorRunner
from inference.anime.tiling import image_statistics, run_tiled, tile_spans
from inference.errors import ModelLoadError

# A few keys of the public animegan2-pytorch checkpoints, as published.
PUBLIC_KEYS = ["block_a.0.1.weight", "block_a.0.2.bias", "block_c.1.layers.1.1.bias", "out_layer.0.weight"]


def random_generator(seed: int = 0) -> Generator:
    """Random weights, norms included, so that every layer matters."""
    torch.manual_seed(seed)
    generator = Generator().eval()
    with torch.no_grad():
        for norm in generator.norms():
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.uniform_(-0.2, 0.2)
    return generator


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    (folder / "animegan").mkdir()
    torch.save(random_generator().state_dict(), folder / "animegan" / "random_style.pt")
    return folder


def test_state_dict_is_the_public_layout():
    state = Generator().state_dict()

    assert len(state) == 77
    assert all(key in state for key in PUBLIC_KEYS)
    assert state["block_c.1.layers.1.1.weight"].shape == (256, 1, 3, 3)  # depthwise
    assert state["out_layer.0.weight"].shape == (3, 32, 1, 1)


def test_a_checkpoint_in_models_dir_becomes_a_style(models_dir):
    names = [style["name"] for style in available_styles(models_dir)]

    assert names == ["procedural", "random_style"]
    assert find_checkpoints(models_dir)["random_style"].name == "random_style.pt"


def test_loaded_checkpoint_runs_like_the_eager_module(models_dir, astronaut):
    checkpoint = load_checkpoint(find_checkpoints(models_dir)["random_style"])
    image = cv2.resize(astronaut, (160, 128), interpolation=cv2.INTER_AREA)

    fast = checkpoint.runner.run(image)
    with torch.inference_mode():
        reference = to_rgb(random_generator()(to_tensor(image)))

    assert fast.shape == image.shape and fast.dtype == np.uint8
    assert np.abs(fast.astype(int) - reference.astype(int)).mean() <= 1.0  # MAD <= 1/255
    assert checkpoint.engine.startswith("animegan:random_style@") and len(checkpoint.sha256) == 64
    assert load_checkpoint(find_checkpoints(models_dir)["random_style"]) is checkpoint  # cached


def eager_fp32(generator: Generator, image: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return to_rgb(generator(to_tensor(image))).astype(int)


@pytest.mark.parametrize("backend", runtime.BACKENDS)
def test_every_backend_stays_within_one_level_of_eager_fp32(backend, astronaut):
    generator = random_generator(3)
    image = cv2.resize(astronaut, (160, 128), interpolation=cv2.INTER_AREA)

    runner = GeneratorRunner(generator, backend=backend)
    styled = runner.run(image)

    assert runner.backend == backend
    assert styled.shape == image.shape and styled.dtype == np.uint8
    assert np.abs(styled.astype(int) - eager_fp32(generator, image)).mean() <= 1.0
    assert next(generator.parameters()).dtype == torch.float32  # the bf16 copy is a copy


def test_bf16_tiles_replay_fp32_statistics_without_seams(astronaut):
    generator = random_generator(4)
    image = cv2.resize(astronaut, (288, 224), interpolation=cv2.INTER_AREA)
    statistics = image_statistics(generator, image)
    bf16 = GeneratorRunner(generator, backend="torch-bf16")._bf16
    with torch.inference_mode():
        whole = to_rgb(generator(to_tensor(image), TileContext(statistics=statistics))).astype(int)

    tiled = run_tiled(bf16, image, statistics=statistics, tile=160, overlap=96, margin=32).astype(int)

    assert np.abs(tiled - whole).mean() <= 1.0
    for start, _ in tile_spans(288, 160, 96)[1:]:
        x = start + 48  # mid-fade
        assert abs(np.abs(tiled[:, x] - tiled[:, x - 1]).mean() - np.abs(whole[:, x] - whole[:, x - 1]).mean()) < 0.5


def test_the_load_time_choice_keeps_the_fastest_accurate_backend(monkeypatch):
    monkeypatch.setattr(runtime, "native_bf16", lambda: True)  # a candidate on any CPU

    runner = GeneratorRunner(random_generator(5))

    assert set(runner.probe) == set(runtime.BACKENDS)
    assert runner.probe["torch"]["mad"] == 0.0
    accurate = {name: probe for name, probe in runner.probe.items() if probe["mad"] <= runtime.ACCURACY_BUDGET}
    assert runner.backend == min(accurate, key=lambda name: accurate[name]["seconds"])


def test_a_backend_off_by_more_than_the_budget_is_never_chosen(monkeypatch):
    monkeypatch.setattr(runtime, "native_bf16", lambda: True)
    monkeypatch.setattr(runtime, "ACCURACY_BUDGET", 0.1)  # bf16 is ~0.8 levels off: out

    runner = GeneratorRunner(random_generator(5))

    assert runner.probe["torch-bf16"]["mad"] > 0.1
    assert runner.backend in {"torch", "onnxruntime"} and runner._bf16 is None


def test_the_backend_can_be_forced_from_the_environment(monkeypatch):
    monkeypatch.setenv("ANIMEGAN_BACKEND", "torch")
    assert GeneratorRunner(random_generator()).backend == "torch"

    monkeypatch.setenv("ANIMEGAN_BACKEND", "tpu")
    with pytest.raises(ValueError, match="Unknown AnimeGAN backend 'tpu'"):
        GeneratorRunner(random_generator())


def test_stylize_with_a_checkpoint_reports_its_engine(models_dir, astronaut):
    small = cv2.resize(astronaut, (256, 256), interpolation=cv2.INTER_AREA)

    result = stylize(small, style="random_style", mode="full", models_dir=models_dir)

    assert result.image.shape == small.shape and result.image.dtype == np.uint8
    assert result.path == "animegan" and result.engine.startswith("animegan:random_style@")
    assert result.image.std() > 5  # not a constant picture
    assert {"engine", "path", "mode", "faces", "timings", "style"} <= set(result.as_metadata())
    assert result.as_metadata()["backend"] in runtime.BACKENDS


def test_wrong_keys_are_named_in_the_error(tmp_path):
    state = random_generator().state_dict()
    state["block_z.0.weight"] = state.pop("block_a.0.1.weight")
    path = tmp_path / "renamed.pt"
    torch.save(state, path)

    with pytest.raises(ModelLoadError) as caught:
        load_checkpoint(path)

    assert "block_a.0.1.weight" in str(caught.value) and "block_z.0.weight" in str(caught.value)
    assert caught.value.code == "model_load_failed"


def test_wrong_shapes_are_named_in_the_error(tmp_path):
    state = random_generator().state_dict()
    state["out_layer.0.weight"] = torch.zeros(4, 32, 1, 1)
    path = tmp_path / "reshaped.pt"
    torch.save(state, path)

    with pytest.raises(ModelLoadError, match=r"out_layer\.0\.weight \(4, 32, 1, 1\) != \(3, 32, 1, 1\)"):
        load_checkpoint(path)


def test_a_file_that_is_not_a_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / "notes.pt"
    path.write_text("not a checkpoint")

    with pytest.raises(ModelLoadError, match="not a loadable PyTorch checkpoint"):
        load_checkpoint(path)


def test_tiles_start_aligned_and_cover_the_image():
    spans = tile_spans(1000, 512, 128)

    assert spans[0][0] == 0 and spans[-1][1] == 1000
    assert all(start % 4 == 0 for start, _ in spans)
    assert all(b_start < a_end - 64 for (_, a_end), (b_start, _) in zip(spans, spans[1:]))


@pytest.fixture(scope="module")
def tiled_and_whole(astronaut):
    """One photo styled whole and in 3 x 2 tiles, with the same normalisation statistics."""
    generator = random_generator(1)
    image = cv2.resize(astronaut, (288, 224), interpolation=cv2.INTER_AREA)
    statistics = image_statistics(generator, image)
    with torch.inference_mode():
        whole = to_rgb(generator(to_tensor(image), TileContext(statistics=statistics)))
    tiled = run_tiled(generator, image, statistics=statistics, tile=160, overlap=96, margin=32)
    return whole.astype(int), tiled.astype(int), tile_spans(288, 160, 96)


def test_tiled_output_equals_the_whole_image_output(tiled_and_whole):
    whole, tiled, _ = tiled_and_whole
    difference = np.abs(whole - tiled)

    assert difference.mean() < 0.05
    assert np.percentile(difference, 99.9) <= 1


def test_tiled_output_shows_no_seam(tiled_and_whole):
    whole, tiled, column_spans = tiled_and_whole
    # Horizontal change across each tile's inner edge, compared with the whole image's.
    for start, _ in column_spans[1:]:
        for x in (start + 32, start + 64):  # where a fade starts and ends
            tiled_step = np.abs(tiled[:, x] - tiled[:, x - 1]).mean()
            whole_step = np.abs(whole[:, x] - whole[:, x - 1]).mean()
            assert abs(tiled_step - whole_step) < 0.5


def test_measured_statistics_replay_exactly(astronaut):
    generator = random_generator(2)
    image = cv2.resize(astronaut, (128, 128), interpolation=cv2.INTER_AREA)
    with torch.inference_mode():
        plain = generator(to_tensor(image))
        statistics = image_statistics(generator, image)
        replayed = generator(to_tensor(image), TileContext(statistics=statistics))

    assert len(statistics) == len(generator.norms()) == 24
    assert torch.allclose(plain, replayed, atol=1e-4)
