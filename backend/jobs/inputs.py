"""A job's named inputs checked against what its mode declares: each present, of the right kind,
the user's own and not expired. Every refusal names the input and says what to send."""
from __future__ import annotations

import uuid

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.jobs.pipelines import InputSpec, Pipeline
from backend.uploads.models import Upload
from core.errors import BadRequest, Gone, NotFound


def inputs_resolve(*, user, pipeline: Pipeline, inputs: dict) -> dict[str, list[Upload]]:
    """The uploads behind each input the mode declares, in the order given (expiry is checked
    apart, by ``inputs_check_fresh``: a repeated request answers its job even then)."""
    declared = {spec.name: spec for spec in pipeline.inputs}
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        accepted = ", ".join(declared) or _("none (a typed text only)")
        raise BadRequest(_("Mode %(mode)s takes no input %(names)s; its inputs: %(accepted)s.")
                         % {"mode": repr(pipeline.mode), "names": ", ".join(unknown),
                            "accepted": accepted}, code="unknown_input")
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
                raise NotFound(_("No upload %(id)s of yours for input %(name)s; upload it first.")
                               % {"id": upload_id, "name": repr(name)}, code="upload_not_found")
            if upload.kind != spec.kind:
                raise BadRequest(_("Input %(name)s takes %(kind)s upload; %(id)s is %(actual)s.")
                                 % {"name": repr(name), "kind": _a(spec.kind), "id": upload_id,
                                    "actual": _a(upload.kind)}, code="input_wrong_kind")
            uploads.append(upload)
        if uploads:
            resolved[name] = uploads
    return resolved


def _a(kind: str) -> str:
    return {"image": _("an image"), "audio": _("an audio")}.get(kind, kind)


def _ids(spec: InputSpec, value) -> list[uuid.UUID]:
    if value is None or value == []:
        if spec.required:
            shape = _("a list of upload ids") if spec.many else _("an upload id")
            raise BadRequest(_("This mode needs the input %(name)s (%(kind)s): send %(shape)s in "
                               "inputs.%(field)s.")
                             % {"name": repr(spec.name), "kind": _a(spec.kind), "shape": shape,
                                "field": spec.name}, code="input_missing")
        return []
    values = value if spec.many else [value]
    if spec.many and not isinstance(value, list) or not spec.many and isinstance(value, list):
        shape = _("a list of upload ids") if spec.many else _("one upload id")
        raise BadRequest(_("inputs.%(field)s must be %(shape)s.") % {"field": spec.name, "shape": shape},
                         code="invalid_input")
    if spec.many and not spec.min_count <= len(values) <= spec.max_count:
        raise BadRequest(_("inputs.%(field)s takes %(min)s to %(max)s uploads.")
                         % {"field": spec.name, "min": spec.min_count, "max": spec.max_count},
                         code="invalid_input")
    try:
        ids = [uuid.UUID(str(v)) for v in values]
    except ValueError:
        raise BadRequest(_("inputs.%(field)s must hold upload ids.") % {"field": spec.name},
                         code="invalid_input") from None
    if len(set(ids)) != len(ids):
        raise BadRequest(_("inputs.%(field)s names an upload twice.") % {"field": spec.name},
                         code="invalid_input")
    return ids


def inputs_check_fresh(resolved: dict[str, list[Upload]]) -> None:
    now = timezone.now()
    for name, uploads in resolved.items():
        if any(upload.expires_at <= now for upload in uploads):
            raise Gone(_("The upload for input %(name)s has expired; upload it again.")
                       % {"name": repr(name)},
                       code="upload_expired")

