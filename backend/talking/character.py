"""A user's live character: the picture (sanitised and moderated like an upload, cropped to the
head and stored) and its state (emotion, talking, animator settings) in Django's cache, which
is Redis in production, so every web process sees the same character. Each process builds the
rig it renders with once per picture and emotion."""
from __future__ import annotations

import io
import threading
import uuid
from collections import OrderedDict

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from PIL import Image

from backend.talking.animation import settings_applied
from backend.talking.models import CharacterPicture
from backend.uploads.sanitize import sanitize_image
from backend.uploads.services import retention_deadline
from core.errors import BadRequest, NotFound, ServiceError
from core.storage import get_storage
from inference.errors import InferenceError, NoFaceError
from inference.sticker.headcrop import crop_head
from inference.talking import known_emotions
from inference.talking.emotions import emotion_params
from inference.talking.face import locate_face
from inference.talking.pipeline import EYE_HEIGHT, UNIT_FRACTION, picture_rgb
from inference.talking.rig import Rig, build_rig
from moderation.services import BLOCK, REVIEW, moderate_image

NO_CHARACTER = _("No character is loaded; POST a picture to /api/talkinghead/load first.")
_RIGS_KEPT = 16
_rigs: OrderedDict[tuple[str, str], Rig] = OrderedDict()
_rigs_lock = threading.Lock()


def _key(user_id) -> str:
    return f"talkinghead:{user_id}"


def character_get(*, user_id) -> dict | None:
    """The user's character state, or None when none is loaded."""
    return cache.get(_key(user_id))


def _require(user_id) -> dict:
    state = character_get(user_id=user_id)
    if state is None:
        raise NotFound(NO_CHARACTER, code="no_character")
    return state


def _save(user_id, state: dict) -> dict:
    cache.set(_key(user_id), state, settings.TALKINGHEAD_STATE_TTL)
    return state


def character_forget(*, user_id) -> None:
    """Forget the user's character and its pictures' rows once their objects are deleted (the
    account's files go by prefix): its feeds end at their next look at the state."""
    cache.delete(_key(user_id))
    CharacterPicture.objects.filter(owner_id=user_id).delete()


def character_load(*, user, data: bytes) -> dict:
    """Make ``data`` (a picture with one face, RGBA welcome) the user's live character."""
    clean = sanitize_image(data, max_bytes=settings.UPLOAD_MAX_BYTES,
                           max_pixels=settings.UPLOAD_MAX_PIXELS,
                           max_side=settings.UPLOAD_MAX_SIDE, keep_side=1024)
    picture = clean.image if clean.image.mode in ("RGB", "RGBA") else clean.image.convert("RGB")
    rgb, alpha = picture_rgb(np.asarray(picture))
    try:
        found = locate_face(rgb, alpha)
    except NoFaceError as exc:  # inference/ speaks English only: the user's language here
        raise BadRequest(_("No face found: send a picture where the face is clear and facing "
                           "the camera."), code=exc.code) from exc
    size = settings.TALKINGHEAD_SIZE
    crop = crop_head(rgb, found.landmarks, size=size, unit_fraction=UNIT_FRACTION,
                     eye_height=EYE_HEIGHT)
    picture_id = uuid.uuid4().hex
    image_key = f"u/{user.pk}/talkinghead/{picture_id}.png"
    storage = get_storage()
    buffer = io.BytesIO()
    Image.fromarray(crop.image).save(buffer, "PNG")
    # The row first: a picture is never stored without retention knowing of it.
    CharacterPicture.objects.create(owner=user, storage_key=image_key,
                                    expires_at=retention_deadline())
    storage.put(image_key, buffer.getvalue(), "image/png")
    # Moderated as the upload it is; its case names the stored picture.
    verdict = moderate_image(image=clean.image, user=user, subject_type="upload",
                             subject_id=picture_id, preview_key=image_key)
    if verdict.decision == BLOCK:
        _picture_delete(image_key)
        raise ServiceError(verdict.message or _("This picture is not allowed; choose another."),
                           code="content_blocked", status=422)
    if verdict.decision == REVIEW:
        _picture_delete(image_key)  # the case keeps its audit; a live character cannot wait
        raise ServiceError(_("This picture needs a moderator's check, and a live character "
                             "cannot wait for one; choose another picture."), code="content_held",
                           status=422)
    previous = character_get(user_id=user.pk)
    state = {"image_key": image_key, "landmarks": crop.landmarks.tolist(), "unit": crop.unit,
             "face": found.source, "emotion": "neutral", "talking": False,
             "animator": previous["animator"] if previous else {}}
    _save(user.pk, state)
    if previous:
        _picture_delete(previous["image_key"])
    return state


def _picture_delete(image_key: str) -> None:
    """The stored picture, then its row (a failed deletion leaves the row for retention)."""
    get_storage().delete(image_key)
    CharacterPicture.objects.filter(storage_key=image_key).delete()


def character_unload(*, user_id) -> None:
    state = character_get(user_id=user_id)
    cache.delete(_key(user_id))
    if state is not None:
        _picture_delete(state["image_key"])


def pictures_purge(*, now) -> tuple[int, list[str]]:
    """Retention: every character picture past its deadline deleted (object, then row), and
    the character that shows it unloaded, so its feeds end. The count and the failures."""
    storage, count, failures = get_storage(), 0, []
    for picture in CharacterPicture.objects.filter(expires_at__lte=now).iterator():
        state = character_get(user_id=picture.owner_id)
        if state is not None and state["image_key"] == picture.storage_key:
            cache.delete(_key(picture.owner_id))
        try:
            storage.delete(picture.storage_key)
        except Exception as exc:  # noqa: BLE001 - kept for the next run
            failures.append(f"{picture.storage_key}: {exc}")
            continue
        picture.delete()
        count += 1
    return count, failures


def character_update(*, user_id, **changes) -> dict:
    """Set ``talking`` or ``emotion`` (checked) on the loaded character."""
    state = _require(user_id)
    if "emotion" in changes:
        name = str(changes["emotion"] or "").strip().lower()
        if name not in known_emotions():
            raise BadRequest(_("Unknown emotion %(name)s: use one of %(names)s.")
                             % {"name": repr(changes["emotion"]),
                                "names": ", ".join(known_emotions())}, code="unknown_emotion")
        changes["emotion"] = name
    return _save(user_id, {**state, **changes})


def character_animator(*, user_id, changes: object) -> tuple[dict, list[str]]:
    """Apply SillyTavern's animator settings; the ones applied and the keys ignored."""
    state = _require(user_id)
    applied, ignored = settings_applied(state["animator"], changes,
                                        max_fps=settings.TALKINGHEAD_MAX_FPS)
    _save(user_id, {**state, "animator": applied})
    return applied, ignored


def character_rig(state: dict) -> Rig:
    """The rig for a state's picture and emotion, built once per process."""
    key = (state["image_key"], state["emotion"])
    with _rigs_lock:
        rig = _rigs.get(key)
        if rig is not None:
            _rigs.move_to_end(key)
            return rig
    try:
        data = get_storage().get(state["image_key"])
    except KeyError as exc:
        raise InferenceError("The character's picture is gone; load it again.",
                             code="no_character") from exc
    with Image.open(io.BytesIO(data)) as picture:
        image = np.asarray(picture.convert("RGB"))
    rig = build_rig(image, np.asarray(state["landmarks"], np.float32),
                    emotion_params(state["emotion"]), state["unit"])
    with _rigs_lock:
        _rigs[key] = rig
        while len(_rigs) > _RIGS_KEPT:
            _rigs.popitem(last=False)
    return rig
