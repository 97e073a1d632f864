"""GET /files/<token>: serves a locally stored object through a short-lived signed link
(the embedded stand-in for an S3 presigned URL; used for moderation previews)."""
from __future__ import annotations

import mimetypes

from django.http import FileResponse, JsonResponse
from django.utils.translation import gettext_lazy as _

from core.errors import error_body
from core.storage import LocalStorage, get_storage


def storage_share(request, token: str):
    storage = get_storage()
    payload = LocalStorage.read_share_token(token) if isinstance(storage, LocalStorage) else None
    if payload is None:
        return JsonResponse(error_body("link_expired", str(_("This link is invalid or expired."))),
                            status=404)
    try:
        handle = storage.open(payload["k"])
    except KeyError:
        return JsonResponse(error_body("not_found", str(_("This file no longer exists."))), status=404)
    content_type = payload.get("t") or mimetypes.guess_type(payload["k"])[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)
