"""A job's named inputs checked against what its mode declares: each present, of the right kind,
the user's own and not expired. Every refusal names the input and says what to send."""
from __future__ import annotations

import uuid

from django.utils import timezone

from backend.jobs.pipelines import InputSpec, Pipeline
from backend.uploads.models import Upload
from core.errors import BadRequest, Gone, NotFound


def inputs_resolve(*, user, pipeline: Pipeline, inputs: dict) -> dict[str, list[Upload]]:
    """The uploads behind each input the mode declares, in the order given (expiry is checked
    apart, by ``inputs_check_fresh``: a repeated request answers its job even then)."""
    declared = {spec.name: spec for spec in pipeline.inputs}
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        accepted = ", ".join(declared) or "none (a typed text only)"
        raise BadRequest(f"Mode {pipeline.mode!r} takes no input {', '.join(unknown)}; its inputs: "
                         f"{accepted}.", code="unknown_input")
    ids = {spec.name: _ids(spec, inputs.get(spec.name)) for spec in pipeline.inputs}
    wanted = {i for values in ids.values() for i in values}
    found = {u.id: u for u in Upload.objects.filter(owner=user, id__in=wanted)}
    resolved = {}
    for name, values in ids.items():
        spec = declared[name]
        uploads = []
        for upload_id in values:
            upload = found.get(upload_id)
            if upload is None:
                raise NotFound(f"No upload {upload_id} of yours for input {name!r}; upload it "
                               "first.", code="upload_not_found")
            if upload.kind != spec.kind:
                raise BadRequest(f"Input {name!r} takes {_a(spec.kind)} upload; {upload_id} is "
                                 f"{_a(upload.kind)}.", code="input_wrong_kind")
            uploads.append(upload)
        if uploads:
            resolved[name] = uploads
    return resolved


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _ids(spec: InputSpec, value) -> list[uuid.UUID]:
    if value is None or value == []:
        if spec.required:
            shape = "a list of upload ids" if spec.many else "an upload id"
            raise BadRequest(f"This mode needs the input {spec.name!r} ({_a(spec.kind)}): send "
                             f"{shape} in inputs.{spec.name}.", code="input_missing")
        return []
    values = value if spec.many else [value]
    if spec.many and not isinstance(value, list) or not spec.many and isinstance(value, list):
        shape = "a list of upload ids" if spec.many else "one upload id"
        raise BadRequest(f"inputs.{spec.name} must be {shape}.", code="invalid_input")
    if spec.many and not spec.min_count <= len(values) <= spec.max_count:
        raise BadRequest(f"inputs.{spec.name} takes {spec.min_count} to {spec.max_count} uploads.",
                         code="invalid_input")
    try:
        ids = [uuid.UUID(str(v)) for v in values]
    except ValueError:
        raise BadRequest(f"inputs.{spec.name} must hold upload ids.",
                         code="invalid_input") from None
    if len(set(ids)) != len(ids):
        raise BadRequest(f"inputs.{spec.name} names an upload twice.", code="invalid_input")
    return ids


def inputs_check_fresh(resolved: dict[str, list[Upload]]) -> None:
    now = timezone.now()
    for name, uploads in resolved.items():
        if any(upload.expires_at <= now for upload in uploads):
            raise Gone(f"The upload for input {name!r} has expired; upload it again.",
                       code="upload_expired")

