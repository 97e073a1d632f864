"""Taking an upload in (fetch or read, sanitise, store, moderate) and letting it go."""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.memory import release_memory
from backend.uploads.audio import ACCEPTED as AUDIO_ACCEPTED
from backend.uploads.audio import sanitize_audio, sniff_audio_format
from backend.uploads.fetch import fetch_url
from backend.uploads.models import ModerationState, Upload, UploadKind
from backend.uploads.sanitize import ACCEPTED as IMAGES_ACCEPTED
from backend.uploads.sanitize import sanitize_image, sniff_format
from backend.uploads.selectors import upload_get
from core.errors import ServiceError, UnsupportedMedia, Unavailable
from core.storage import StorageError, get_storage
from moderation.services import BLOCK, REVIEW, Verdict, moderate_audio, moderate_image

log = logging.getLogger(__name__)

FACE_COUNT_MIN_SCORE = 0.3


def retention_deadline(start=None):
    return (start or timezone.now()) + timedelta(hours=settings.RETENTION_HOURS)


# A URL upload holds a web thread for up to UPLOAD_URL_TIMEOUT; at most half of them may, and
# never fewer than two: each user fetches one at a time, so one user cannot take them all.
_fetch_slots = threading.BoundedSemaphore(max(2, settings.HTTP_THREADS // 2))


def upload_create(*, user, data: bytes | None = None, url: str = "") -> Upload:
    """Store a clean copy of the photo or recording the user sent (bytes) or pointed at (url)."""
    if data is None:
        data = _fetch(url)
    if sniff_format(data) is None:
        if sniff_audio_format(data) is not None:
            return _audio_upload_create(user=user, data=data, url=url)
        if data:  # an empty file is sanitize_image's to refuse, with its own code
            raise UnsupportedMedia(
                _("This is not a file we accept; upload a %(images)s photo, or %(audio)s.")
                % {"images": IMAGES_ACCEPTED, "audio": AUDIO_ACCEPTED})
    try:
        clean = sanitize_image(data, max_bytes=settings.UPLOAD_MAX_BYTES,
                               max_pixels=settings.UPLOAD_MAX_PIXELS,
                               max_side=settings.UPLOAD_MAX_SIDE,
                               keep_side=settings.UPLOAD_WORKING_SIDE)
    finally:
        release_memory(collect=False)  # the full-size decode is freed; give its pages back
    upload = _store(Upload(
        owner=user, kind=UploadKind.IMAGE, format=clean.format, content_type=clean.content_type,
        source_format=clean.source_format, source_url=url, width=clean.width,
        height=clean.height, size_bytes=len(clean.data), sha256=clean.sha256,
        faces=_count_faces(clean.image)), clean.data)
    return _moderated(upload, lambda: moderate_image(
        image=clean.image, user=user, subject_type="upload", subject_id=upload.id,
        preview_key=upload.storage_key))


def _count_faces(image) -> int | None:
    """How many faces the photo shows (dlib, as the modes see them); None when the detector
    could not say, which never fails an upload."""
    from inference.errors import InferenceError
    from inference.faces import detect_faces

    try:
        faces = detect_faces(np.asarray(image.convert("RGB")))
    except InferenceError:
        log.warning("face count failed for an upload", exc_info=True)
        return None
    # HOG's margin: real faces score 0.9-2 on the fixtures; a badge or a pattern that only
    # looks like one (the astronaut's shoulder patch) scores under 0.1.
    return sum(face.score >= FACE_COUNT_MIN_SCORE for face in faces)


def _audio_upload_create(*, user, data: bytes, url: str) -> Upload:
    clean = sanitize_audio(data, max_bytes=settings.AUDIO_MAX_BYTES,
                           max_seconds=settings.AUDIO_MAX_SECONDS,
                           timeout=settings.AUDIO_DECODE_TIMEOUT)
    upload = _store(Upload(
        owner=user, kind=UploadKind.AUDIO, format=clean.format, content_type=clean.content_type,
        source_format=clean.source_format, source_url=url, width=0, height=0,
        duration_ms=clean.duration_ms, size_bytes=len(clean.data), sha256=clean.sha256),
        clean.data)
    return _moderated(upload, lambda: moderate_audio(
        user=user, subject_id=upload.id, preview_key=upload.storage_key))


def _fetch(url: str) -> bytes:
    if not _fetch_slots.acquire(blocking=False):
        raise Unavailable(_("Too many files are being fetched right now; try again shortly."),
                          code="url_fetch_busy")
    try:
        return fetch_url(url, max_bytes=settings.UPLOAD_FILE_MAX_BYTES,
                         timeout=settings.UPLOAD_URL_TIMEOUT,
                         allowed_networks=settings.UPLOAD_URL_ALLOW_NETWORKS)
    finally:
        _fetch_slots.release()


def _store(upload: Upload, data: bytes) -> Upload:
    """Put the clean bytes under the user's key, then record the row (never a row without its
    object)."""
    upload.id = uuid.uuid4()
    extension = "jpg" if upload.format == "jpeg" else upload.format
    upload.storage_key = f"u/{upload.owner_id}/uploads/{upload.id}.{extension}"
    upload.expires_at = retention_deadline()
    try:
        get_storage().put(upload.storage_key, data, upload.content_type)
    except StorageError as exc:
        raise Unavailable(_("Storage is unavailable; try the upload again shortly."),
                          code="storage_unavailable") from exc
    upload.save(force_insert=True)
    return upload


def _moderated(upload: Upload, moderate: Callable[[], Verdict]) -> Upload:
    """The upload as moderation leaves it: clear, held for a decision, or gone (blocked)."""
    try:
        verdict = moderate()
    except Exception:
        upload_discard(upload=upload)
        raise
    if verdict.decision == BLOCK:
        upload_discard(upload=upload)
        raise ServiceError(verdict.message or _("This file is not allowed."),
                           code=verdict.code or "content_blocked", status=422)
    if verdict.decision == REVIEW:
        upload.moderation_state = ModerationState.HELD
        upload.moderation_case_id = verdict.case_id
        upload.save(update_fields=["moderation_state", "moderation_case_id"])
    return upload


def upload_delete(*, user, upload_id) -> None:
    """The user's own deletion: the object first, then the row. When storage fails the row
    stays, so the same call can be repeated until the object is gone."""
    upload = upload_get(user=user, upload_id=upload_id)
    try:
        get_storage().delete(upload.storage_key)
    except StorageError as exc:
        raise Unavailable(_("Storage is unavailable, so the file could not be deleted yet; "
                            "try again shortly."), code="storage_unavailable") from exc
    upload.delete()


def upload_discard(*, upload: Upload) -> None:
    """Delete an upload's object and row now (blocked or rejected content)."""
    get_storage().delete(upload.storage_key)
    upload.delete()
