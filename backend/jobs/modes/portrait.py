"""Modes ``portrait_train`` (photos of one person become an identity, PAI's ``model_id``) and
``portrait`` (a template with each face, left to right, replaced by an identity's)."""
from __future__ import annotations

import time

import numpy as np
from PIL import Image
from rest_framework import serializers

from backend.jobs.pipelines import InputSpec, Output, Pipeline, PipelineInput, register

TRAIN_ENGINE = "portrait-identity-v1"
PHOTOS_MIN, PHOTOS_MAX = 5, 20  # PAI's bounds on a training set


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
    job.progress("identity", 0.9)
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
                "cost_time": round(time.perf_counter() - start, 3)}
    # Moderation looks at the face the identity keeps first.
    face = Image.fromarray(identity.faces[0])
    data = identity.to_bytes()
    return [Output(kind="identity", data=data, format="npz",
                   content_type="application/octet-stream", width=face.width,
                   height=face.height, engine=TRAIN_ENGINE, image=face, metadata=metadata)]


register(Pipeline(
    mode="portrait_train", queue="cpu", params=TrainParams, run=run_train,
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
    from backend.portraits.selectors import MODEL_NOT_FOUND, identity_bytes
    from core.errors import NotFound
    from inference.portrait import Identity, fuse

    ids = job.params["identities"]
    rows = {str(row.id): row for row in
            IdentityRow.objects.select_related("job").filter(id__in=ids)}
    if set(ids) - set(rows):
        raise NotFound(f"{MODEL_NOT_FOUND} (it was deleted)", code="model_not_found")
    identities = [Identity.from_bytes(identity_bytes(rows[model_id])) for model_id in ids]
    portrait = fuse(job.inputs["template"], identities, job.params.get("configure") or None,
                    progress=job.progress)
    similarity = min(face["similarity"] for face in portrait.faces)
    metadata = {**portrait.as_metadata(), "similarity": similarity,
                "model_ids": list(job.params["identities"])}
    return [Output.from_image(Image.fromarray(np.asarray(portrait.image)), kind="portrait",
                              engine=portrait.engine, format="jpeg", metadata=metadata)]


register(Pipeline(
    mode="portrait", queue="cpu", params=PortraitParams, run=run_portrait,
    inputs=(InputSpec("template"),), check_params=check_owned,
    description="AI portrait: a template photo (inputs.template) with each face, left to "
                "right, made the person of an identity (params.identities)."))
