"""Modes ``portrait_train`` (photos of one person become an identity, PAI's ``model_id``) and
``portrait`` (a template with each face, left to right, replaced by an identity's)."""
from __future__ import annotations

import time

import numpy as np
from django.conf import settings
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import InputSpec, Output, Pipeline, PipelineInput, register
from inference.progress import scaled

TRAIN_ENGINE = "portrait-identity-v1"
PHOTOS_MIN, PHOTOS_MAX = 5, 20  # PAI's bounds on a training set


def diffusion_model_dir() -> str | None:
    """The Stable Diffusion folder portraits train LoRAs for and render with, when one is
    configured and present (``SD_MODEL_DIR``); None: the embedded path."""
    from inference.diffusion import sd_available

    return settings.SD_MODEL_DIR if sd_available(settings.SD_MODEL_DIR) else None


def portrait_queue() -> str:
    """``gpu`` when the diffusion path is configured for a GPU worker (``GPU_QUEUE``)."""
    return "gpu" if settings.SD_MODEL_DIR and settings.GPU_QUEUE else "cpu"


class TrainParams(serializers.Serializer):
    # What the client sent, in order (URLs or upload ids), and which of them could not be read:
    # the per-photo states answer each one.
    images = serializers.ListField(child=serializers.CharField(max_length=2048), required=False,
                                   max_length=PHOTOS_MAX, default=list)
    unreadable = serializers.ListField(child=serializers.IntegerField(min_value=0),
                                       required=False, max_length=PHOTOS_MAX, default=list)


def run_train(job: PipelineInput) -> list[Output]:
    from inference.portrait import check_photos, learn_identity
    from inference.portrait.check import DECODE_ERROR, MESSAGES

    start = time.perf_counter()
    photos = job.inputs["photos"]
    job.progress("check", 0.1)
    checks = check_photos(photos)
    identity = learn_identity(photos, checks=checks)
    model_dir = diffusion_model_dir()
    job.progress("identity", 0.2 if model_dir else 0.9)
    lora = _train_lora(model_dir, checks, job) if model_dir else None
    images = job.params.get("images") or [""] * len(photos)
    unreadable = set(job.params.get("unreadable") or [])
    decoded = iter(checks)
    states = []
    for index, url in enumerate(images):
        if index in unreadable:
            states.append({"code": DECODE_ERROR, "frontal": False,
                           "message": MESSAGES[DECODE_ERROR], "url": url})
        else:
            states.append({**next(decoded).as_dict(), "url": url})
    metadata = {"states": states, "photos": identity.photos,
                "path": "diffusion" if lora else "landmark-warp",
                "lora": lora.metadata if lora else None,
                "cost_time": round(time.perf_counter() - start, 3)}
    # Moderation looks at the face the identity keeps first.
    face = Image.fromarray(identity.faces[0])
    data = identity.to_bytes()
    outputs = [Output(kind="identity", data=data, format="npz",
                      content_type="application/octet-stream", width=face.width,
                      height=face.height, engine=TRAIN_ENGINE, image=face, metadata=metadata)]
    if lora:
        outputs.append(lora)
    return outputs


def _train_lora(model_dir: str, checks, job: PipelineInput) -> Output:
    """The person's LoRA for the configured Stable Diffusion model, as a result of its own:
    a kohya-layout .safetensors file (not a picture: moderation saw the faces)."""
    from inference.diffusion.loading import checkpoint_engine
    from inference.portrait.lora import (TrainingOptions, lora_digest, train_lora,
                                         training_faces)

    options = TrainingOptions(steps=settings.PORTRAIT_LORA_STEPS,
                              rank=settings.PORTRAIT_LORA_RANK,
                              learning_rate=settings.PORTRAIT_LORA_LEARNING_RATE)
    faces = training_faces(checks, size=512)
    base = checkpoint_engine(model_dir)
    trained = train_lora(model_dir, faces, base=base, options=options,
                         progress=scaled(job.progress, 0.2, 0.95))
    data = trained.to_bytes()
    metadata = {**trained.as_metadata(), "digest": lora_digest(data), "faces": len(faces)}
    return Output(kind="lora", data=data, format="safetensors",
                  content_type="application/octet-stream", width=512, height=512,
                  engine=f"{base}+peft-lora", image=None, metadata=metadata)


register(Pipeline(
    mode="portrait_train", queue=portrait_queue(), params=TrainParams, run=run_train,
    inputs=(InputSpec("photos", min_count=1, max_count=PHOTOS_MAX),),
    description="5 to 20 photos of one person (inputs.photos) to an identity for portraits."))


class PortraitParams(serializers.Serializer):
    identities = serializers.ListField(child=serializers.UUIDField(format="hex_verbose"),
                                       min_length=1, max_length=8,
                                       help_text="identity ids (model_id), one per template "
                                                 "face, left to right")
    configure = serializers.DictField(required=False, default=dict,
                                      help_text="PAI's configure fields")

    def validate_configure(self, value: dict) -> dict:
        from inference.errors import InferenceError
        from inference.portrait import parse_configure

        try:
            return parse_configure(value).as_dict()
        except InferenceError as error:
            raise serializers.ValidationError(error.message) from None

    def validate_identities(self, value: list) -> list[str]:
        return [str(v) for v in value]


def check_owned(*, user, params: dict) -> None:
    """Every identity named is the user's own (an unknown and a foreign one alike: 404)."""
    from backend.portraits.selectors import identity_get, identity_result

    for model_id in params["identities"]:
        identity_result(identity_get(user=user, model_id=model_id))


def run_portrait(job: PipelineInput) -> list[Output]:
    from backend.portraits.models import Identity as IdentityRow
    from backend.portraits.selectors import (MODEL_NOT_FOUND, identity_bytes, identity_lora_bytes,
                                             pai_message)
    from core.errors import NotFound
    from inference.portrait import Identity, fuse

    ids = job.params["identities"]
    rows = {str(row.id): row for row in
            IdentityRow.objects.select_related("job").filter(id__in=ids)}
    if set(ids) - set(rows):
        raise NotFound(pai_message(MODEL_NOT_FOUND, "it was deleted"), code="model_not_found")
    identities = [Identity.from_bytes(identity_bytes(rows[model_id])) for model_id in ids]
    configure = job.params.get("configure") or None
    model_dir = diffusion_model_dir()
    if model_dir:
        from inference.diffusion import load_sd_pipeline
        from inference.portrait.diffusion import render

        loras = [identity_lora_bytes(rows[model_id]) for model_id in ids]
        portrait = render(job.inputs["template"], identities, loras, configure,
                          handle=load_sd_pipeline(model_dir), progress=job.progress)
    else:
        portrait = fuse(job.inputs["template"], identities, configure, progress=job.progress)
    similarity = min(face["similarity"] for face in portrait.faces)
    metadata = {**portrait.as_metadata(), "similarity": similarity,
                "model_ids": list(job.params["identities"])}
    return [Output.from_image(Image.fromarray(np.asarray(portrait.image)), kind="portrait",
                              engine=portrait.engine, format="jpeg", metadata=metadata)]


register(Pipeline(
    mode="portrait", queue=portrait_queue(), params=PortraitParams, run=run_portrait,
    inputs=(InputSpec("template"),), check_params=check_owned,
    description="AI portrait: a template photo (inputs.template) with each face, left to "
                "right, made the person of an identity (params.identities)."))
