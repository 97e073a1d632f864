"""The portraits' diffusion path through PAI's own SDK, on the tiny random-weight SD1.5
pipeline (``SD_MODEL_DIR``): training stores a LoRA beside the identity, create renders with it
and says so, and a picture that fails its face check is refused, not stored."""
from __future__ import annotations

import base64
import io
import json
import os

import pytest
from PIL import Image

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing here may download anything

from backend.jobs.models import Job, Result  # noqa: E402
from backend.jobs.modes.portrait import portrait_queue  # noqa: E402
from core.storage import get_storage  # noqa: E402
from inference.diffusion.loading import checkpoint_engine  # noqa: E402
from inference.portrait.lora import lora_digest, lora_header, lora_state_dict  # noqa: E402
from tests.backend.test_portraits_api import _credential, _pai, _refusal, _rgb, _train, \
    photo_server  # noqa: E402,F401 - photo_server is a fixture
from tests.conftest import jpeg_bytes  # noqa: E402
from tests.inference.portrait_photos import photo_set, side_by_side  # noqa: E402
from tests.inference.tiny_sd import build_tiny_sd  # noqa: E402


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return build_tiny_sd(tmp_path_factory.mktemp("models") / "tiny-portrait-api")


@pytest.fixture
def diffusion(settings, tiny_model, inprocess_jobs):
    """The diffusion path configured, with a LoRA trained for two steps; jobs run in this
    process, where these settings reach them."""
    settings.SD_MODEL_DIR = str(tiny_model)
    settings.PORTRAIT_LORA_STEPS = 2
    settings.PORTRAIT_LORA_RANK = 4
    settings.PORTRAIT_LORA_LEARNING_RATE = 1e-3
    settings.PORTRAIT_CREATE_WAIT = 300
    return tiny_model


def _photo_urls(photo_server, name: str) -> list[str]:
    return [photo_server(f"{name}{i}.jpg", jpeg_bytes(p))
            for i, p in enumerate(photo_set(_rgb(f"{name}.jpg")))]


def test_train_and_create_on_the_diffusion_path_through_pais_sdk(login, live_server, diffusion,
                                                                  photo_server):
    owner = login()
    aigc, jobs = _pai(live_server, _credential(owner))
    biden = _rgb("biden.jpg")
    urls = {"obama": _photo_urls(photo_server, "obama")}

    # Training: the identity and, beside it, the person's LoRA in kohya's layout.
    obama_id, seen, job = _train(aigc, jobs, urls["obama"])
    assert seen[-1] == 2, job
    train_job = Job.objects.get(id=job["job_uuid"])
    assert train_job.metadata["path"] == "diffusion"
    assert train_job.metadata["lora"]["steps"] == 2
    assert train_job.metadata["lora"]["base"] == checkpoint_engine(diffusion)
    lora_row = train_job.results.get(kind="lora")
    assert lora_row.format == "safetensors"
    assert lora_row.storage_key.startswith(f"u/{train_job.owner_id}/")  # the owner's, expiring
    lora = get_storage().get(lora_row.storage_key)
    assert lora_digest(lora) == train_job.metadata["lora"]["digest"]
    assert all(key.startswith("lora_unet_") for key in lora_state_dict(lora))
    assert lora_header(lora)["mx_steps"] == "2"

    # Create: redrawn with the LoRA, the diffusion fields applied, the engine named.
    template = photo_server("t1.jpg", jpeg_bytes(side_by_side(biden, side=384)))
    configure = {"first_diffusion_steps": 20, "second_diffusion_steps": 20,
                 "lora_weights": 0.7}
    single = aigc.aigc_images_create(obama_id, template, "", configure)
    assert single.code == "OK" and single.data["model_id"] == obama_id
    assert single.data["path"] == "diffusion"
    assert single.data["engine"].startswith("sd:tiny-portrait-api@")
    assert f"+lora:{lora_digest(lora)}+" in single.data["engine"]
    assert single.data["similarity"] >= 0.5
    with Image.open(io.BytesIO(base64.b64decode(single.data["image"]))) as image:
        assert image.format == "JPEG" and image.size == (384, 384)
    result = Result.objects.get(id=single.data["result_id"])
    assert {p["steps"] for p in result.metadata["diffusion"]["passes"]} == {20}
    assert result.metadata["configure"]["lora_weights"] == 0.7
    assert "lora_weights" not in result.metadata["not_applied"]
    assert "first_diffusion_steps" not in result.metadata["not_applied"]

    # A picture whose face is lost or not the person is refused with a clear error, and
    # nothing of it is stored.
    portraits = Result.objects.filter(kind="portrait").count()
    status, body = _refusal(lambda: aigc.aigc_images_create(
        obama_id, template, "", {"apply_face_fusion_after": False}))
    assert status == 400 and body["code"] == "error"
    assert body["data"]["error"]["code"] == "portrait_check_failed"
    assert body["message"].startswith("The portrait failed its check: face 1 from the left")
    assert Result.objects.filter(kind="portrait").count() == portraits
    failed = Job.objects.filter(mode="portrait").order_by("-created_at").first()
    assert failed.state == "failed" and failed.error_code == "portrait_check_failed"
    assert not failed.results.exists()

    # Bad inputs stay 4xx on this path: a diffusion field out of range, a broken template.
    status, body = _refusal(lambda: aigc.aigc_images_create(
        obama_id, template, "", {"first_diffusion_steps": 19}))
    assert status == 400 and "configure.first_diffusion_steps" in body["message"]
    broken = photo_server("broken.jpg", b"\xff\xd8 not a jpeg")
    status, body = _refusal(lambda: aigc.aigc_images_create(obama_id, broken, "", None))
    assert status == 400 and body["data"]["error"]["code"] == "template_unreadable"

    # Deleting the identity takes its LoRA with it.
    assert owner.client.delete(f"/portraits/models/{obama_id}").status_code == 204
    with pytest.raises(KeyError):
        get_storage().get(lora_row.storage_key)


def test_a_two_person_portrait_uses_each_persons_lora(login, live_server, diffusion,
                                                       photo_server):
    owner = login()
    aigc, jobs = _pai(live_server, _credential(owner))
    obama_id, _, obama_job = _train(aigc, jobs, _photo_urls(photo_server, "obama"))
    biden_id, _, biden_job = _train(aigc, jobs, _photo_urls(photo_server, "biden"))
    digests = [Job.objects.get(id=job["job_uuid"]).metadata["lora"]["digest"]
               for job in (obama_job, biden_job)]
    two = photo_server("t2.jpg", jpeg_bytes(side_by_side(_rgb("biden.jpg"), _rgb("obama.jpg"),
                                                         side=256)))

    # Our own clients may take the job id and read PAI's Result, which names engine and path.
    queued = owner.post("/api/v1/aigc_images/create", {
        "model_ids": [obama_id, biden_id], "template_image": two, "async": True}).json()
    assert owner.wait(queued["data"]["id"])["state"] == "succeeded"
    answer = json.loads(jobs.get_async_job(queued["data"]["job_id"]).data["job"]["Result"])
    assert answer["path"] == "diffusion" and answer["similarity"] >= 0.5
    assert answer["engine"].count("+lora:") == 2
    loras = Result.objects.get(id=answer["result_id"]).metadata["diffusion"]["loras"]
    assert [note["digest"] for note in loras] == digests  # left to right, each their own


def test_an_identity_learnt_without_stable_diffusion_is_drawn_without_a_lora(
        login, live_server, inprocess_jobs, photo_server, settings, tiny_model):
    settings.PORTRAIT_CREATE_WAIT = 300
    owner = login()
    aigc, jobs = _pai(live_server, _credential(owner))
    obama, biden = _rgb("obama.jpg"), _rgb("biden.jpg")
    urls = [photo_server(f"o{i}.jpg", jpeg_bytes(p)) for i, p in enumerate(photo_set(obama))]
    model_id, _, job = _train(aigc, jobs, urls)  # no SD_MODEL_DIR yet: no LoRA
    assert not Job.objects.get(id=job["job_uuid"]).results.filter(kind="lora").exists()

    settings.SD_MODEL_DIR = str(tiny_model)
    made = aigc.aigc_images_create(
        model_id, photo_server("t.jpg", jpeg_bytes(side_by_side(biden, side=384))), "", None)

    assert made.data["path"] == "diffusion" and "+lora:" not in made.data["engine"]
    result = Result.objects.get(id=made.data["result_id"])
    assert "train it again" in result.metadata["not_applied"]["lora_weights"]


def test_the_gpu_queue_takes_portraits_when_diffusion_is_configured_for_it(settings):
    settings.SD_MODEL_DIR, settings.GPU_QUEUE = "/models/sd15", True
    assert portrait_queue() == "gpu"
    settings.GPU_QUEUE = False
    assert portrait_queue() == "cpu"
    settings.SD_MODEL_DIR, settings.GPU_QUEUE = "", True
    assert portrait_queue() == "cpu"
