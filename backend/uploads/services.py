"""Taking an upload in: fetch (URL) or read (file), sanitise, moderate, store."""
from __future__ import annotations

import threading
import uuid
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from core.errors import ServiceError, Unavailable
from backend.memory import release_memory
from core.storage import StorageError, get_storage
from backend.uploads.fetch import fetch_url
from backend.uploads.models import ModerationState, Upload
from backend.uploads.sanitize import sanitize_image
from moderation.services import moderate_image


def retention_deadline(start=None):
    return (start or timezone.now()) + timedelta(hours=settings.RETENTION_HOURS)


# A URL upload holds a web thread for up to UPLOAD_URL_TIMEOUT; at most half of them may, and
# never fewer than two: each user fetches one at a time, so one user cannot take them all.
_fetch_slots = threading.BoundedSemaphore(max(2, settings.HTTP_THREADS // 2))


def upload_create(*, user, data: bytes | None = None, url: str = "") -> Upload:
    """Store a clean copy of the image the user sent (bytes) or pointed at (url)."""
    if data is None:
        if not _fetch_slots.acquire(blocking=False):
            raise Unavailable("Too many photos are being fetched right now; try again shortly.",
                              code="url_fetch_busy")
        try:
            data = fetch_url(url, max_bytes=settings.UPLOAD_MAX_BYTES,
                             timeout=settings.UPLOAD_URL_TIMEOUT,
                             allowed_networks=settings.UPLOAD_URL_ALLOW_NETWORKS)
        finally:
            _fetch_slots.release()
    try:
        clean = sanitize_image(data, max_bytes=settings.UPLOAD_MAX_BYTES,
                               max_pixels=settings.UPLOAD_MAX_PIXELS,
                               max_side=settings.UPLOAD_MAX_SIDE,
                               keep_side=settings.UPLOAD_WORKING_SIDE)
    finally:
        release_memory(collect=False)  # the full-size decode is freed; give its pages back
    upload_id = uuid.uuid4()
    key = f"u/{user.pk}/uploads/{upload_id}.{'jpg' if clean.format == 'jpeg' else clean.format}"
    storage = get_storage()
    try:
        storage.put(key, clean.data, clean.content_type)
    except StorageError as exc:
        raise Unavailable("Storage is unavailable; try the upload again shortly.",
                          code="storage_unavailable") from exc
    upload = Upload.objects.create(
        id=upload_id, owner=user, storage_key=key, format=clean.format,
        content_type=clean.content_type, source_format=clean.source_format, source_url=url,
        width=clean.width, height=clean.height, size_bytes=len(clean.data), sha256=clean.sha256,
        expires_at=retention_deadline())
    try:
        verdict = moderate_image(image=clean.image, user=user, subject_type="upload",
                                 subject_id=upload.id, preview_key=key)
    except Exception:
        upload_discard(upload=upload)
        raise
    if verdict.decision == "block":
        upload_discard(upload=upload)
        raise ServiceError(verdict.message or "This image is not allowed.",
                           code=verdict.code or "content_blocked", status=422)
    if verdict.decision == "review":
        upload.moderation_state = ModerationState.HELD
        upload.moderation_case_id = verdict.case_id
        upload.save(update_fields=["moderation_state", "moderation_case_id"])
    return upload


def upload_discard(*, upload: Upload) -> None:
    """Delete an upload's object and row now (blocked or rejected content)."""
    get_storage().delete(upload.storage_key)
    upload.delete()
