"""The portraits' diffusion path on the tiny random-weight SD1.5 pipeline: a LoRA trained with
peft, saved in kohya's layout and loaded back, and portraits rendered with it, checked."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download anything

from inference.diffusion import img2img, load_sd_pipeline  # noqa: E402
from inference.diffusion.loading import checkpoint_engine  # noqa: E402
from inference.errors import InferenceError  # noqa: E402
from inference.portrait import check_photos, learn_identity  # noqa: E402
from inference.portrait.diffusion import CHECK_FAILED, render, verify_faces  # noqa: E402
from inference.portrait.lora import (TRIGGER, TrainedLora, TrainingOptions,  # noqa: E402
                                     kohya_state_dict, lora_digest, lora_header,
                                     lora_state_dict, train_lora, train_unet_lora,
                                     training_faces)
from tests.inference.portrait_photos import photo_set, side_by_side  # noqa: E402
from tests.inference.tiny_sd import build_tiny_sd  # noqa: E402

FAST = TrainingOptions(steps=3, rank=4, learning_rate=1e-3, seed=5, device="cpu")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-portrait")


@pytest.fixture(scope="module")
def handle(model_dir):
    return load_sd_pipeline(model_dir, device="cpu")


@pytest.fixture(scope="module")
def astronaut_faces(astronaut) -> list[np.ndarray]:
    return training_faces(check_photos(photo_set(astronaut)), size=64)


def _unet_output(unet):
    import torch

    latents = torch.randn(1, 4, 8, 8, generator=torch.Generator().manual_seed(1))
    text = torch.randn(1, 77, 32, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        return unet(latents, torch.tensor([500]), encoder_hidden_states=text).sample


def test_training_changes_the_unet_and_the_saved_file_reloads_identically(
        model_dir, astronaut_faces, tmp_path):
    from diffusers import StableDiffusionImg2ImgPipeline, UNet2DConditionModel

    reports = []
    unet, losses, timings = train_unet_lora(model_dir, astronaut_faces, options=FAST,
                                            progress=lambda stage, f: reports.append((stage, f)))
    assert len(losses) == 3 and all(np.isfinite(losses))
    assert reports == [("lora", 1 / 3), ("lora", 2 / 3), ("lora", 1.0)]
    base = UNet2DConditionModel.from_pretrained(model_dir / "unet")
    trained_output = _unet_output(unet)
    assert (trained_output - _unet_output(base)).abs().max() > 1e-4  # the LoRA learnt something

    lora = TrainedLora(state_dict=kohya_state_dict(unet), base=checkpoint_engine(model_dir),
                       rank=4, steps=3, losses=losses)
    path = tmp_path / "person.safetensors"
    path.write_bytes(lora.to_bytes())
    # kohya's layout: lora_unet_<module path with _>.lora_down/lora_up/alpha, what
    # Automatic1111 and ComfyUI read as well as diffusers.
    keys = set(lora_state_dict(path.read_bytes()))
    assert keys and all(k.startswith("lora_unet_") for k in keys)
    assert {k.rsplit(".", 2)[-2] if k.endswith(".weight") else k.rsplit(".", 1)[-1]
            for k in keys} == {"lora_down", "lora_up", "alpha"}
    header = lora_header(path.read_bytes())
    assert header["mx_base"].startswith("sd:tiny-portrait@") and header["mx_trigger"] == TRIGGER

    pipe = StableDiffusionImg2ImgPipeline.from_pretrained(
        model_dir, safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.load_lora_weights(str(tmp_path), weight_name=path.name, adapter_name="person")
    assert (_unet_output(pipe.unet) - trained_output).abs().max() < 1e-6


def test_the_same_seed_trains_the_same_lora(model_dir, astronaut_faces):
    one = train_lora(model_dir, astronaut_faces, base="b", options=FAST)
    two = train_lora(model_dir, astronaut_faces, base="b", options=FAST)
    assert lora_digest(one.to_bytes()) == lora_digest(two.to_bytes())
    assert one.as_metadata()["steps"] == 3 and one.as_metadata()["format"] == "kohya"


def test_nothing_to_learn_from_and_a_file_that_is_not_a_lora_are_clear_errors(model_dir):
    with pytest.raises(InferenceError) as caught:
        train_lora(model_dir, [], base="b", options=FAST)
    assert caught.value.code == "no_usable_photo"
    for junk in (b"", b"\x00" * 4, b"\xff" * 16 + b"not safetensors"):
        with pytest.raises(InferenceError) as caught:
            lora_state_dict(junk)
        assert caught.value.code == "bad_lora"


@pytest.fixture(scope="module")
def people(face_photo, model_dir):
    """Obama's and Biden's identities and LoRAs (trained for 3 steps)."""
    made = {}
    for name in ("obama", "biden"):
        photos = photo_set(face_photo(f"{name}.jpg"))
        checks = check_photos(photos)
        lora = train_lora(model_dir, training_faces(checks, 64), base=checkpoint_engine(model_dir),
                          options=FAST)
        made[name] = (learn_identity(photos, checks=checks), lora.to_bytes())
    return made


@pytest.fixture(scope="module")
def template(face_photo) -> np.ndarray:
    return side_by_side(face_photo("biden.jpg"), side=512)


def test_a_portrait_is_redrawn_with_the_lora_and_the_diffusion_fields(handle, people, template):
    identity, lora = people["obama"]
    configure = {"first_diffusion_steps": 20, "second_diffusion_steps": 40,
                 "first_denoising_strength": 0.5, "second_denoising_strength": 0.25}

    result = render(template, [identity], [lora], configure, handle=handle, seed=3)

    assert result.path == "diffusion"
    assert result.engine == f"{handle.engine}+lora:{lora_digest(lora)}+portrait-fusion-v1"
    face = result.faces[0]
    assert face["distance"] <= 0.5 < face["distance_to_template"]
    meta = result.as_metadata()
    first, second = meta["diffusion"]["passes"]
    # About steps x strength of the schedule runs (PNDM may add one).
    assert first["steps"] == 20 and abs(first["steps_run"] - 20 * 0.5) <= 1
    assert second["steps"] == 40 and abs(second["steps_run"] - 40 * 0.25) <= 1
    assert meta["diffusion"]["loras"][0]["trained_on"] == handle.engine
    for field in ("lora_weights", "first_diffusion_steps", "second_denoising_strength",
                  "lcm_accelerate"):
        assert field not in result.not_applied
    assert "photo_enhancement_method" in result.not_applied  # no restoration model here either


def test_lora_weights_strength_and_lcm_change_the_picture(handle, people, template):
    identity, lora = people["obama"]

    def picture(**configure):
        return render(template, [identity], [lora], configure, handle=handle, seed=3)

    default = picture()
    weaker = picture(lora_weights=0.5)
    assert np.abs(default.image.astype(int) - weaker.image.astype(int)).max() > 0
    assert np.array_equal(default.image, picture().image)  # the seed makes it repeatable
    untouched = picture(first_denoising_strength=0.0, second_denoising_strength=0.0)
    assert [p["skipped"] for p in untouched.as_metadata()["diffusion"]["passes"]] == \
        ["strength 0: nothing redrawn"] * 2
    lcm = picture(lcm_accelerate=True)
    assert "+lcm+lora:" in lcm.engine
    assert {p["steps"] for p in lcm.as_metadata()["diffusion"]["passes"]} == {4}


def test_an_identity_without_a_lora_is_drawn_without_one_and_says_so(handle, people, template):
    identity, _ = people["obama"]

    result = render(template, [identity], [None], None, handle=handle, seed=3)

    assert "lora:" not in result.engine
    assert "train it again" in result.not_applied["lora_weights"]


def test_a_lost_face_fails_the_check_instead_of_returning_a_picture(handle, people, template):
    # Without the second fusion the tiny model's noise is all there is where the face was.
    identity, lora = people["obama"]
    with pytest.raises(InferenceError) as caught:
        render(template, [identity], [lora], {"apply_face_fusion_after": False}, handle=handle,
               seed=3)
    assert caught.value.code == CHECK_FAILED
    assert caught.value.message.startswith("The portrait failed its check: face 1 from the left")
    assert "apply_face_fusion_after" in caught.value.message  # what to try


@pytest.mark.parametrize("face, why", [
    ({"distance": None, "distance_to_template": None}, "face 2 from the left was lost"),
    ({"distance": 0.65, "distance_to_template": 0.9}, "face 2 from the left is not the person"),
    ({"distance": 0.45, "distance_to_template": 0.4}, "face 2 from the left is not the person"),
])
def test_the_check_names_the_face_that_failed_and_why(face, why):
    good = {"distance": 0.3, "distance_to_template": 0.8}
    verify_faces([good, good], "engine")  # passes
    with pytest.raises(InferenceError) as caught:
        verify_faces([good, face], "sd:x@1")
    assert caught.value.code == CHECK_FAILED and why in caught.value.message
    assert "face 1" not in caught.value.message


def test_a_two_person_template_uses_each_persons_lora(handle, people, face_photo):
    obama, biden = people["obama"], people["biden"]
    group = side_by_side(face_photo("biden.jpg"), face_photo("obama.jpg"), side=320)

    result = render(group, [obama[0], biden[0]], [obama[1], biden[1]], None, handle=handle,
                    seed=4)

    assert [note["digest"] for note in result.as_metadata()["diffusion"]["loras"]] == \
        [lora_digest(obama[1]), lora_digest(biden[1])]
    assert all(face["distance"] <= 0.5 for face in result.faces)


def test_a_lora_that_does_not_fit_the_model_is_refused(handle, people, template):
    import torch
    from safetensors.torch import save

    identity, lora = people["obama"]
    # A LoRA made for a UNet of other widths: a tensor cannot go on this one.
    state = lora_state_dict(lora)
    down = next(k for k in state if k.endswith("lora_down.weight"))
    state[down] = torch.zeros(state[down].shape[0], state[down].shape[1] + 3)
    before = img2img(handle, template[:64, :64].copy(), prompt="x", steps=2, seed=1)

    with pytest.raises(InferenceError) as caught:
        render(template, [identity], [save(state)], None, handle=handle, seed=3)

    assert caught.value.code == "bad_lora" and "train the identity again" in caught.value.message
    # The pipeline is left as it was: the next call is unaffected.
    after = img2img(handle, template[:64, :64].copy(), prompt="x", steps=2, seed=1)
    assert np.array_equal(before.image, after.image)


def test_several_threads_render_as_one_thread_does(handle, people, template):
    jobs = [("obama", 1), ("biden", 2), ("obama", 3), ("biden", 4)]

    def one(name: str, seed: int) -> np.ndarray:
        # Obama into Biden's template with either LoRA (Biden's too: the fusions keep the
        # identity): the LoRAs go on and off the one shared pipeline between calls.
        lora = people[name][1]
        return render(template, [people["obama"][0]], [lora], None, handle=handle,
                      seed=seed).image

    sequential = [one(*job) for job in jobs]
    together: list = [None] * len(jobs)

    def run(i: int) -> None:
        together[i] = one(*jobs[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(np.array_equal(a, b) for a, b in zip(sequential, together))


def test_the_command_line_trains_a_lora_and_renders_with_it(model_dir, tmp_path, capsys,
                                                            face_photo):
    import json

    from inference.__main__ import main
    from tests.inference.conftest import SHARED_FACES

    face_photo("obama.jpg")  # skips without ../shared
    obama, biden = str(SHARED_FACES / "obama.jpg"), str(SHARED_FACES / "biden.jpg")
    lora, identity = tmp_path / "me.safetensors", tmp_path / "me.npz"
    assert main(["portrait", "lora", obama, "--sd-model-dir", str(model_dir), "--steps", "2",
                 "--rank", "4", "-o", str(lora)]) == 0
    assert json.loads(capsys.readouterr().out)["steps"] == 2
    assert main(["portrait", "identity", obama, "-o", str(identity)]) == 0
    capsys.readouterr()
    assert main(["portrait", "fuse", biden, str(identity), "--sd-model-dir", str(model_dir),
                 "--lora", str(lora), "-o", str(tmp_path / "out.png")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["path"] == "diffusion" and f"+lora:{lora_digest(lora.read_bytes())}+" in \
        report["engine"]
    assert (tmp_path / "out.png").stat().st_size > 10_000
