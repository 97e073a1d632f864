"""Reading identities: the user's own, and the stored file behind one."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone

from backend.jobs.models import JobState, Result
from backend.portraits.models import Identity, PortraitTemplate
from core.errors import NotFound, ServiceError
from core.storage import get_storage

# PAI's words for a model_id it cannot use, and for an identity not trained (yet).
MODEL_NOT_FOUND = "Prompts get error. Please check the model_id."
NOT_TRAINED = "Roop image decord error. Pleace check the user's lora is trained or not."


def pai_message(words: str, detail: str = "") -> str:
    """PAI's own words, verbatim, with our detail in brackets after them. Never translated,
    unlike our other errors: PAI's SDK and the clients written for PAI compare these messages
    (equal, or starting with PAI's words), so they stay exactly as PAI sends them, typos and
    all, whatever the Accept-Language; a translated detail would only mix two languages."""
    return f"{words} ({detail})" if detail else words


def identity_list(*, user):
    return (Identity.objects.filter(owner=user, expires_at__gt=timezone.now())
            .select_related("job"))


def identity_get(*, user, model_id) -> Identity:
    """The user's identity ``model_id``; someone else's is as unknown as a made-up one."""
    key = _uuid(model_id)
    identity = identity_list(user=user).filter(id=key).first() if key else None
    if identity is None:
        raise NotFound(pai_message(MODEL_NOT_FOUND, f"no model {model_id} of yours"),
                       code="model_not_found")
    return identity


def identity_result(identity: Identity) -> Result:
    """The stored identity file's row, once its training job has succeeded."""
    result = None
    if identity.job.state == JobState.SUCCEEDED:
        result = identity.job.results.filter(kind="identity").first()
    if result is None:
        raise ServiceError(pai_message(NOT_TRAINED, f"its training job is {identity.job.state}"),
                           code="model_not_trained", status=409)
    return result


def identity_lora_bytes(identity: Identity) -> bytes | None:
    """The identity's LoRA file (safetensors), or None when it was learnt without one."""
    result = identity.job.results.filter(kind="lora").first()
    if result is None:
        return None
    try:
        return get_storage().get(result.storage_key)
    except KeyError:
        return None


def identity_bytes(identity: Identity) -> bytes:
    try:
        return get_storage().get(identity_result(identity).storage_key)
    except KeyError:
        raise NotFound(pai_message(MODEL_NOT_FOUND, "it was deleted"),
                       code="model_not_found") from None


def portrait_template_list() -> list[dict]:
    """The library's active templates, each with a preview link (signed, temporary)."""
    storage = get_storage()
    return [{"id": t.id, "name": t.name, "kind": "portrait", "builtin": False,
             "faces": t.faces,
             "preview_url": storage.share_url(t.preview_key, settings.DOWNLOAD_URL_TTL,
                                              content_type="image/jpeg")}
            for t in PortraitTemplate.objects.filter(active=True)]


def _uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
