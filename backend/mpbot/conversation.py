"""One follower's conversation: keywords, photos and voice in; jobs through the job core; the
reply in words, or a job's outcome to wait for.

State per follower (``Follower.awaiting``), forgotten after ``WECHAT_MP_CONVERSATION_SECONDS``:
a keyword waits for a photo; a photo without a keyword waits for a keyword; a voice description
waits for "1" or a correction. Every text and image passes moderation first, and the bot
refuses political content that the mini-program would only hold for review (WeChat itself
refuses it in an Official Account's chat).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from rest_framework.throttling import ScopedRateThrottle

from backend.jobs.confirmation import job_confirm
from backend.jobs.creation import job_create
from backend.jobs.models import TEXT_MAX, JobState
from backend.mpbot import replies
from backend.mpbot.delivery import delivery_for_job
from backend.mpbot.followers import follower_for, follower_unsubscribed
from backend.mpbot.messages import Message
from backend.mpbot.models import Awaiting, Follower
from backend.mpbot.wechat import media_get
from backend.uploads.fetch import fetch_url
from backend.uploads.models import ModerationState, Upload
from backend.uploads.services import upload_create
from core.errors import ServiceError, Throttled
from inference.sticker import CAPTION_MAX_CHARS
from moderation.services import BLOCK, REVIEW, moderate_text
from moderation.throttles import OffenderThrottle
from moderation.wechat import WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)

ANIME_WORDS = {"动漫化", "头像", "anime", "动漫头像", "动漫"}
STICKER_WORD = "表情包"
HELP_WORDS = {"帮助", "help", "?", "？", "菜单"}
YES_WORDS = {"1", "确认", "是", "好", "好的", "yes", "y", "ok"}
NO_WORDS = {"0", "取消", "不", "不要", "no", "n"}
POLITICAL_LABELS = {"politics", "politics_attack"}

ERROR_REPLIES = {
    "content_blocked": replies.REFUSED, "text_blocked": replies.REFUSED,
    "throttled": replies.THROTTLED, "offender_penalty": replies.THROTTLED,
    "too_large": replies.PHOTO_TOO_LARGE, "too_many_pixels": replies.PHOTO_TOO_LARGE,
    "unsupported_format": replies.PHOTO_UNREADABLE, "corrupt_image": replies.PHOTO_UNREADABLE,
    "audio_too_long": replies.VOICE_UNREADABLE, "corrupt_audio": replies.VOICE_UNREADABLE,
    "audio_empty": replies.VOICE_UNREADABLE,
    "text_too_long": f"文字太长了，请控制在 {TEXT_MAX} 字以内。",
    "not_awaiting_confirmation": "这个描述已经不在等待确认了，请重新发一段语音。",
    "url_not_allowed": replies.MEDIA_UNAVAILABLE,
    "media_unavailable": replies.MEDIA_UNAVAILABLE,
    # The only parameter a follower sets is a sticker's words (its caption).
    "invalid_params": f"表情包的文字太长了，请控制在 {CAPTION_MAX_CHARS} 个字以内。",
}


@dataclass(frozen=True)
class Answer:
    """The reply now (``text``; empty: WeChat's "success", nothing shown), or a job's outcome to
    wait for (``delivery_id``; ``text`` is then what to say if it is not ready in time)."""

    text: str = ""
    delivery_id: object = None


def message_receive(*, message: Message, reply_by: datetime) -> Answer:
    """Answer one message (already deduplicated). ``reply_by`` is when the request must be
    answered: a job's outcome is left to the sender from then on."""
    if message.msg_type == "event":
        return _event(message)
    follower = follower_for(openid=message.from_user, unionid=message.get("UnionId"))
    if follower.unsubscribed_at is not None:  # its data is still being deleted
        return Answer(text=replies.BUSY)
    _forget_if_stale(follower)
    try:
        if message.msg_type == "text":
            return _text(follower, message.get("Content"), reply_by)
        if message.msg_type == "image":
            return _image(follower, message, reply_by)
        if message.msg_type == "voice":
            return _voice(follower, message, reply_by)
    except ServiceError as exc:
        log.info("mp message from follower %s refused: %s (%s)", follower.id, exc.code, exc)
        return Answer(text=ERROR_REPLIES.get(exc.code, replies.BUSY))
    return Answer(text=replies.NOT_SUPPORTED)


def _event(message: Message) -> Answer:
    event = message.get("Event").lower()
    if event == "subscribe":
        follower_for(openid=message.from_user, unionid=message.get("UnionId"))
        return Answer(text=replies.WELCOME)
    if event == "unsubscribe":
        follower_unsubscribed(openid=message.from_user)
    return Answer()


# -- state -------------------------------------------------------------------------------------

def _forget_if_stale(follower: Follower) -> None:
    if follower.expires_at is not None and follower.expires_at < timezone.now():
        _state(follower)


def _state(follower: Follower, *, awaiting: str = Awaiting.NOTHING, mode: str = "",
           sticker_text: str = "", photo: Upload | None = None, job=None,
           seconds: int | None = None) -> None:
    follower.awaiting, follower.mode, follower.sticker_text = awaiting, mode, sticker_text
    follower.photo, follower.job = photo, job
    keep = awaiting or photo is not None
    follower.expires_at = (timezone.now() + timedelta(
        seconds=seconds or settings.WECHAT_MP_CONVERSATION_SECONDS)) if keep else None
    follower.save(update_fields=["awaiting", "mode", "sticker_text", "photo", "job", "expires_at"])


def _key(text: str) -> str:
    return "".join(text.split()).lower()


# -- text --------------------------------------------------------------------------------------

def _screen(follower: Follower, text: str) -> str:
    """A refusal or "submitted for review", or "" when the text may be used."""
    verdict = moderate_text(text=text, user=follower.user, subject="mp_text")
    political = any(label.get("label") in POLITICAL_LABELS for label in verdict.labels)
    if verdict.decision == BLOCK or political:
        return replies.REFUSED
    if verdict.decision == REVIEW:
        return replies.HELD_TEXT
    return ""


def _text(follower: Follower, content: str, reply_by: datetime) -> Answer:
    text = content.strip()
    key = _key(text)
    if not key:
        return Answer(text=replies.UNKNOWN)
    refusal = _screen(follower, text)
    if refusal:
        return Answer(text=refusal)
    confirming = follower.awaiting == Awaiting.CONFIRM and follower.job_id is not None
    if confirming and key in YES_WORDS | NO_WORDS:
        return _confirm(follower, key in YES_WORDS, reply_by)
    if key in HELP_WORDS:
        return Answer(text=replies.HELP)
    if key in ANIME_WORDS:
        return _wants_photo(follower, mode="anime", reply_by=reply_by)
    if key.startswith(STICKER_WORD):
        words = text.strip()[len(STICKER_WORD):].strip(" ：:，,")
        if not words:
            return Answer(text=replies.ASK_STICKER_TEXT)
        if len(words) > TEXT_MAX:  # no job would take it: say so before the photo is sent
            return Answer(text=ERROR_REPLIES["text_too_long"])
        return _wants_photo(follower, mode="sticker", sticker_text=words, reply_by=reply_by)
    if confirming:
        return _correct(follower, text)
    return Answer(text=replies.UNKNOWN)


def _wants_photo(follower: Follower, *, mode: str, reply_by: datetime,
                 sticker_text: str = "") -> Answer:
    photo = follower.photo if follower.photo_id and follower.awaiting != Awaiting.CONFIRM else None
    if photo is not None and photo.expires_at > timezone.now():
        return _start(follower, mode=mode, upload=photo, text=sticker_text, reply_by=reply_by)
    _state(follower, awaiting=Awaiting.PHOTO, mode=mode, sticker_text=sticker_text)
    if mode == "sticker":
        return Answer(text=replies.ASK_STICKER_PHOTO.format(text=sticker_text))
    return Answer(text=replies.ASK_PHOTO)


def _confirm(follower: Follower, yes: bool, reply_by: datetime) -> Answer:
    job = job_confirm(user=follower.user, job_id=follower.job_id, confirm=yes)
    _state(follower)
    if not yes:
        return Answer(text=replies.CANCELLED)
    delivery = delivery_for_job(follower=follower, job=job, not_before=reply_by)
    return Answer(text=replies.CONFIRMED, delivery_id=delivery.id)


def _correct(follower: Follower, text: str) -> Answer:
    """Any other words while a description waits: they replace it, and it is asked again."""
    job = job_confirm(user=follower.user, job_id=follower.job_id, text=text)
    if job.state == JobState.HELD:
        _state(follower)
        return Answer(text=replies.HELD)
    _state(follower, awaiting=Awaiting.CONFIRM, job=job, seconds=settings.VOICE_CONFIRM_TIMEOUT)
    return Answer(text=replies.question(job.metadata.get("question") or job.message))


# -- photos ------------------------------------------------------------------------------------

def _throttle(user, scope: str) -> None:
    """The mini-program's throttles for the same user (DRF's, asked outside a view)."""
    request, view = SimpleNamespace(user=user, META={}), SimpleNamespace(throttle_scope=scope)
    for throttle in (ScopedRateThrottle(), OffenderThrottle()):
        if not throttle.allow_request(request, view):
            raise Throttled("Too many requests.", retry_after=int(throttle.wait() or 1))


def _media(message: Message) -> bytes:
    """The follower's file: by MediaId from WeChat, else (an image) from its PicUrl, which may
    only point at WeChat's image hosts."""
    media_id, pic_url = message.get("MediaId"), message.get("PicUrl")
    try:
        if media_id:
            return media_get(media_id)
    except WeChatError as exc:
        if not pic_url:
            raise ServiceError("media unavailable", code="media_unavailable", status=503) from exc
        log.info("media/get failed (%s); trying PicUrl", exc)
    host = (urlsplit(pic_url).hostname or "") if pic_url else ""
    if host not in settings.WECHAT_MP_PICURL_HOSTS:
        raise ServiceError("PicUrl is not on a WeChat image host", code="url_not_allowed",
                           status=400)
    return fetch_url(pic_url, max_bytes=settings.UPLOAD_MAX_BYTES,
                     timeout=settings.UPLOAD_URL_TIMEOUT, max_redirects=0,
                     allowed_networks=settings.UPLOAD_URL_ALLOW_NETWORKS)


def _image(follower: Follower, message: Message, reply_by: datetime) -> Answer:
    try:
        data = _media(message)
    except WeChatUnavailable:
        return Answer(text=replies.MEDIA_UNAVAILABLE)
    _throttle(follower.user, "upload")
    upload = upload_create(user=follower.user, data=data)  # sanitised and moderated
    if follower.awaiting == Awaiting.PHOTO:
        return _start(follower, mode=follower.mode, upload=upload, text=follower.sticker_text,
                      reply_by=reply_by)
    _state(follower, photo=upload)
    if upload.moderation_state == ModerationState.HELD:
        return Answer(text=replies.HELD_TEXT + "\n" + replies.MENU)
    return Answer(text=replies.MENU)


def _start(follower: Follower, *, mode: str, upload: Upload, text: str,
           reply_by: datetime) -> Answer:
    _throttle(follower.user, "generate")
    if mode == "sticker":
        job = job_create(user=follower.user, mode="sticker", params={}, text=text,
                         upload_id=upload.id)
    else:
        job = job_create(user=follower.user, mode="anime", params={"mode": "avatar"},
                         upload_id=upload.id)
    _state(follower)
    delivery = delivery_for_job(follower=follower, job=job, not_before=reply_by)
    if job.state == JobState.HELD:
        return Answer(text=replies.HELD)  # the sender delivers it once a moderator decides
    return Answer(text=replies.WORKING, delivery_id=delivery.id)


# -- voice -------------------------------------------------------------------------------------

def _voice(follower: Follower, message: Message, reply_by: datetime) -> Answer:
    """A spoken description: WeChat's own recognition when it sends one, else our ASR on the
    recording (the voice mode's); either way it is asked about before anything is drawn."""
    heard = message.get("Recognition").strip()
    if heard and follower.awaiting == Awaiting.CONFIRM and follower.job_id is not None:
        return _text(follower, heard, reply_by)  # "1", or a spoken correction
    if heard:
        refusal = _screen(follower, heard)
        if refusal:
            return Answer(text=refusal)
        _throttle(follower.user, "generate")
        job = job_create(user=follower.user, mode="voice", params={}, text=heard)
    else:
        try:
            data = media_get(message.get("MediaId"))
        except WeChatError:
            return Answer(text=replies.MEDIA_UNAVAILABLE)
        _throttle(follower.user, "upload")
        upload = upload_create(user=follower.user, data=data)
        _throttle(follower.user, "generate")
        job = job_create(user=follower.user, mode="voice", params={},
                         inputs={"voice": str(upload.id)})
    _state(follower)
    delivery = delivery_for_job(follower=follower, job=job, not_before=reply_by)
    if job.state == JobState.HELD:
        return Answer(text=replies.HELD)
    return Answer(text=replies.WORKING, delivery_id=delivery.id)
