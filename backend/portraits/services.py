"""The portraits' workflows behind PAI's wire protocol: credentials, the photo check, training
an identity, making a portrait (waiting for its job within a bound), deleting an identity."""
from __future__ import annotations

import base64
import io
import secrets
import time
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from PIL import Image

from backend.jobs.creation import job_create
from backend.jobs.deletion import job_delete
from backend.jobs.models import Job, JobState
from backend.jobs.modes.portrait import PHOTOS_MAX, PHOTOS_MIN
from backend.portraits.models import ApiCredential, Identity, PortraitTemplate, PublicJob
from backend.portraits.secrets import token_encrypt, token_new
from backend.portraits.selectors import identity_get, identity_result, pai_message
from backend.uploads.fetch import fetch_url
from backend.uploads.models import Upload
from backend.uploads.sanitize import sanitize_image
from backend.uploads.services import upload_create
from core.errors import BadRequest, NotFound, ServiceError
from core.storage import get_storage
from inference.portrait import PhotoChecks, check_photo_bytes, parse_configure

# PAI's words (pai_message: never translated); our own errors follow the request's language.
INVALID_INPUT = "Invalid input data. Please check the input dict."
IMAGE_NOT_PROVIDED = "Image not provided"
TEMPLATE_MISSING = "Image not provided. Please check the template_image."
TEMPLATE_UNREADABLE = "Template image decord error. Please Give a new template."
TEMPLATE_NO_FACE = "There is not face in template. Please Give a new template."
CREDENTIALS_MAX = 10


def credential_create(*, user) -> tuple[ApiCredential, str]:
    """A new appid and token for the user; the token is returned this once only."""
    if ApiCredential.objects.filter(owner=user, revoked_at__isnull=True).count() >= CREDENTIALS_MAX:
        raise ServiceError(_("You have %(n)s credentials; revoke one first.")
                           % {"n": CREDENTIALS_MAX},
                           code="too_many_credentials", status=409)
    token = token_new()
    credential = ApiCredential.objects.create(owner=user, appid=secrets.token_hex(8),
                                              token_encrypted=token_encrypt(token))
    return credential, token


def credential_revoke(*, user, appid: str) -> None:
    revoked = ApiCredential.objects.filter(owner=user, appid=appid, revoked_at__isnull=True) \
        .update(revoked_at=timezone.now())
    if not revoked:
        raise NotFound(_("No such credential of yours."), code="credential_not_found")


def _image_list(images) -> list[str]:
    if not isinstance(images, list) or not all(isinstance(i, str) and i for i in images):
        raise BadRequest(pai_message(INVALID_INPUT,
                                     "images must be a list of image URLs or upload ids"),
                         code="invalid_input")
    return images


def _own_upload(user, ref: str) -> Upload | None:
    try:
        key = uuid.UUID(ref)
    except ValueError:
        return None
    return Upload.objects.filter(owner=user, id=key, expires_at__gt=timezone.now()).first()


def _image_bytes(user, ref: str) -> bytes | None:
    """An image named by URL (fetched through the SSRF-safe fetcher and bounded like an upload
    before anything decodes it in full) or by upload id; None when it cannot be had or read
    (PAI's code 2)."""
    upload = _own_upload(user, ref)
    try:
        if upload is not None:
            return get_storage().get(upload.storage_key)
        data = fetch_url(ref, max_bytes=settings.UPLOAD_MAX_BYTES,
                         timeout=settings.UPLOAD_URL_TIMEOUT,
                         allowed_networks=settings.UPLOAD_URL_ALLOW_NETWORKS)
        return sanitize_image(data, max_bytes=settings.UPLOAD_MAX_BYTES,
                              max_pixels=settings.UPLOAD_MAX_PIXELS,
                              max_side=settings.UPLOAD_MAX_SIDE,
                              keep_side=settings.UPLOAD_WORKING_SIDE).data
    except (ServiceError, KeyError):
        return None


def photos_check(*, user, images) -> PhotoChecks:
    images = _image_list(images)
    if len(images) > PHOTOS_MAX:
        raise BadRequest(pai_message(INVALID_INPUT, f"at most {PHOTOS_MAX} images"),
                         code="invalid_input")
    return check_photo_bytes([_image_bytes(user, ref) for ref in images])


def _upload_of(user, ref: str) -> Upload:
    """An upload id of the user's, a template of the library by id, or a URL, as an upload."""
    own = _own_upload(user, ref)
    if own is not None:
        return own
    template = PortraitTemplate.objects.filter(id=ref, active=True).first()
    if template is not None:
        return upload_create(user=user, data=get_storage().get(template.image_key))
    return upload_create(user=user, url=ref)


def identity_train(*, user, images, name: str = "", app_id: str = "") -> tuple[int, Identity]:
    """Queue the training of an identity from 5 to 20 photos; (public job number, identity)."""
    images = _image_list(images)
    if not PHOTOS_MIN <= len(images) <= PHOTOS_MAX:
        raise BadRequest(pai_message(INVALID_INPUT, f"send {PHOTOS_MIN} to {PHOTOS_MAX} images"),
                         code="invalid_input")
    uploads, unreadable = [], []
    for index, ref in enumerate(images):
        try:
            uploads.append(_upload_of(user, ref))
        except ServiceError:
            unreadable.append(index)
    if not uploads:
        raise BadRequest(pai_message(IMAGE_NOT_PROVIDED, "none of the images could be read"),
                         code="no_usable_photo")
    job = job_create(user=user, mode="portrait_train",
                     inputs={"photos": [str(u.id) for u in uploads]},
                     params={"images": images, "unreadable": unreadable})
    with transaction.atomic():
        identity = Identity.objects.create(owner=user, job=job, name=(name or "")[:64],
                                           expires_at=job.expires_at)
        public = PublicJob.objects.create(job=job, app_id=app_id)
    return public.id, identity


def portrait_create(*, user, template, model_ids, configure=None, app_id: str = "") -> Job:
    """Queue a portrait: ``template`` (a URL or an upload id) with each face, left to right,
    made the person of the matching identity."""
    configure = parse_configure(configure).as_dict()  # invalid_configure, naming the field
    if not isinstance(model_ids, list) or not model_ids:
        raise BadRequest(pai_message(INVALID_INPUT, "send model_id, or model_ids as a list"),
                         code="invalid_input")
    for model_id in model_ids:
        identity_result(identity_get(user=user, model_id=model_id))
    if not isinstance(template, str) or not template:
        raise BadRequest(pai_message(TEMPLATE_MISSING),
                         code="template_missing")
    try:
        upload = _upload_of(user, template)
    except ServiceError as error:
        with translation.override("en"):  # after PAI's words, in their language
            detail = error.message
        raise BadRequest(pai_message(TEMPLATE_UNREADABLE, detail),
                         code="template_unreadable") from error
    job = job_create(user=user, mode="portrait", inputs={"template": str(upload.id)},
                     params={"identities": [str(m) for m in model_ids], "configure": configure})
    PublicJob.objects.create(job=job, app_id=app_id)
    return job


def job_wait(job: Job, seconds: float) -> Job:
    """The job once it stops moving, or as it is after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not job.is_terminal and job.state != JobState.HELD and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    return job


def portrait_image(job: Job) -> tuple[str, object]:
    """The finished portrait as base64 JPEG, and its result row."""
    result = job.results.filter(kind="portrait").first()
    if result is None:
        raise ServiceError(_("The portrait is waiting for a moderator."), code="under_review",
                           status=403)
    return base64.b64encode(get_storage().get(result.storage_key)).decode(), result


def identity_delete(*, user, model_id) -> None:
    """Delete an identity now: its training job, the stored file and the rows."""
    identity = identity_get(user=user, model_id=model_id)
    job_delete(user=user, job_id=identity.job_id)  # the identity row goes with its job


PREVIEW_SIDE = 320


def portrait_template_store(template: PortraitTemplate, data: bytes) -> None:
    """Keep an admin's template photo (re-encoded, upright) and its preview; count its faces."""
    from inference.faces import detect_faces
    from inference.portrait.check import decode_photo

    rgb = decode_photo(data)
    if rgb is None:
        raise BadRequest(pai_message(TEMPLATE_UNREADABLE), code="template_unreadable")
    faces = len(detect_faces(rgb))
    if not faces:
        raise BadRequest(pai_message(TEMPLATE_NO_FACE),
                         code="template_no_face")
    image = Image.fromarray(rgb)
    storage = get_storage()
    stamp = uuid.uuid4().hex[:8]
    template.image_key = f"portrait-templates/{template.id}/{stamp}.jpg"
    template.preview_key = f"portrait-templates/{template.id}/{stamp}-preview.jpg"
    storage.put(template.image_key, _jpeg(image), "image/jpeg")
    image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    storage.put(template.preview_key, _jpeg(image), "image/jpeg")
    template.faces = faces


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()
