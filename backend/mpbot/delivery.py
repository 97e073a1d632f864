"""What the bot owes a follower, sent once: as the passive reply when it is ready in time, else
through the customer-service API.

A ``Delivery`` row is claimed by one atomic update (pending → sending), so the request that is
still waiting and every process's sender can race for it and exactly one sends. A failed send
goes back to pending with a doubling delay; a claim whose process died is taken again after
``CLAIM_SECONDS``. Each web process runs one sender thread, started with its first message.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

from backend.jobs.models import Job, JobState
from backend.mpbot import replies
from backend.mpbot.models import Awaiting, Delivery, DeliveryState, Follower
from backend.mpbot.wechat import custom_send, media_upload
from core.storage import get_storage

log = logging.getLogger(__name__)

CLAIM_SECONDS = 60
MAX_BACKOFF_SECONDS = 300
HORIZON = timedelta(days=2)  # WeChat's customer-service window is 48 hours
# Where a delivered job stops: what comes after (a confirmed voice job) is a new delivery.
READY_STATES = {JobState.SUCCEEDED, JobState.FAILED, JobState.BLOCKED, JobState.EXPIRED,
                JobState.CANCELLED, JobState.AWAITING_CONFIRMATION}
# Results a follower gets, best first (a sticker's GIF, else its PNG; the anime avatar; …).
SENT_KINDS = ("animation", "sticker", "avatar", "image", "picture", "portrait", "poster")


@dataclass(frozen=True)
class Outgoing:
    text: str = ""
    media_id: str = ""


def delivery_for_job(*, follower: Follower, job: Job, not_before) -> Delivery:
    return Delivery.objects.create(follower=follower, job=job, not_before=not_before)


def delivery_for_text(*, openid: str, text: str) -> Delivery | None:
    """A late answer (the request had already been answered "正在生成…")."""
    follower = Follower.objects.filter(openid=openid).first()
    if follower is None:
        return None  # unsubscribed meanwhile
    return Delivery.objects.create(follower=follower, text=text[:600], not_before=timezone.now())


def _claim(delivery_id) -> Delivery | None:
    now = timezone.now()
    claimed = Delivery.objects.filter(id=delivery_id, state=DeliveryState.PENDING).update(
        state=DeliveryState.SENDING, claimed_at=now)
    if not claimed:
        return None
    return Delivery.objects.select_related("follower", "job").get(id=delivery_id)


def _ready(delivery: Delivery) -> bool:
    return delivery.job is None or delivery.job.state in READY_STATES


def deliveries_ready(ids) -> set:
    """Which of these deliveries can go out now (one query for every waiting request)."""
    return set(Delivery.objects.filter(Q(job__isnull=True) | Q(job__state__in=READY_STATES),
                                       id__in=ids).values_list("id", flat=True))


def delivery_try_passive(delivery_id, exchange) -> None:
    """Prepare the outcome as a passive reply (the picture uploaded first) and offer it to the
    waiting request (``exchange``); when that has answered meanwhile, or the upload failed, the
    delivery goes back to the sender."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return
    try:
        outgoing = _render(delivery)
    except Exception as exc:  # noqa: BLE001 - a failed upload leaves it to the sender
        _release(delivery, exc, retry_now=True)
        return
    if exchange.offer(outgoing):
        _sent(delivery, how="passive")
    else:
        _release(delivery, TimeoutError("the request was answered first"), retry_now=True)


def _render(delivery: Delivery) -> Outgoing:
    """What to send for the delivery: its text, or its job's outcome (a picture is uploaded as
    temporary media first)."""
    if delivery.job is None:
        return Outgoing(text=delivery.text)
    job = delivery.job
    if job.state == JobState.SUCCEEDED:
        results = {r.kind: r for r in job.results.all()}
        result = next((results[k] for k in SENT_KINDS if k in results), None)
        if result is None:
            return Outgoing(text=replies.FAILED_GENERIC)
        data = get_storage().get(result.storage_key)
        media_id = media_upload(data, filename=f"{result.id}.{result.format}",
                                content_type=result.content_type)
        return Outgoing(media_id=media_id)
    if job.state == JobState.AWAITING_CONFIRMATION:
        Follower.objects.filter(id=delivery.follower_id).update(
            awaiting=Awaiting.CONFIRM, job=job, expires_at=timezone.now() + timedelta(
                seconds=settings.VOICE_CONFIRM_TIMEOUT))
        return Outgoing(text=replies.question(job.metadata.get("question") or job.message))
    return Outgoing(text=replies.job_outcome(job))


def _sent(delivery: Delivery, *, how: str) -> None:
    Delivery.objects.filter(id=delivery.id).update(state=DeliveryState.SENT, how=how,
                                                   sent_at=timezone.now(), last_error="")


def _release(delivery: Delivery, exc: Exception, *, retry_now: bool = False) -> None:
    attempts = delivery.attempts + (0 if retry_now else 1)
    failed = attempts >= settings.WECHAT_MP_SEND_ATTEMPTS
    delay = 0 if retry_now else min(2 ** attempts, MAX_BACKOFF_SECONDS)
    log.warning("mp delivery %s failed (attempt %d%s): %s", delivery.id, attempts,
                ", giving up" if failed else "", exc)
    Delivery.objects.filter(id=delivery.id).update(
        state=DeliveryState.FAILED if failed else DeliveryState.PENDING, attempts=attempts,
        not_before=timezone.now() + timedelta(seconds=delay), last_error=str(exc)[:300])


def delivery_send(delivery_id) -> bool:
    """Claim and send one delivery through the customer-service API; False when it was not
    ready, already taken, or failed (then retried later)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return False
    if not _ready(delivery):
        Delivery.objects.filter(id=delivery.id).update(state=DeliveryState.PENDING)
        return False
    try:
        outgoing = _render(delivery)
        custom_send(openid=delivery.follower.openid, text=outgoing.text,
                    media_id=outgoing.media_id)
    except Exception as exc:  # noqa: BLE001 - WeChat's refusals, timeouts, storage: all retried
        _release(delivery, exc)
        return False
    _sent(delivery, how="custom")
    return True


def deliveries_send_due() -> int:
    """One pass of the sender: every due delivery whose job is ready; and claims left by a
    process that died are taken again."""
    now = timezone.now()
    Delivery.objects.filter(state=DeliveryState.SENDING,
                            claimed_at__lt=now - timedelta(seconds=CLAIM_SECONDS)).update(
        state=DeliveryState.PENDING)
    due = Delivery.objects.filter(
        Q(job__isnull=True) | Q(job__state__in=READY_STATES), state=DeliveryState.PENDING,
        not_before__lte=now, created_at__gte=now - HORIZON).order_by("not_before")
    sent = 0
    for delivery_id in due.values_list("id", flat=True)[:100]:
        sent += delivery_send(delivery_id)
    return sent


def deliveries_prune() -> int:
    """Rows past WeChat's 48-hour window can no longer be sent: forget them."""
    deleted, _ = Delivery.objects.filter(created_at__lt=timezone.now() - HORIZON).delete()
    return deleted


_sender: threading.Thread | None = None
_sender_stop = threading.Event()
_sender_lock = threading.Lock()
POLL_SECONDS = 0.25
HOUSEKEEPING_SECONDS = 60


def sender_start(*, housekeeping: tuple = ()) -> None:
    """This process's sender thread (idempotent); it also runs ``deliveries_prune`` and the
    given functions every ``HOUSEKEEPING_SECONDS``."""
    global _sender
    with _sender_lock:
        if _sender is not None and _sender.is_alive():
            return
        _sender_stop.clear()
        _sender = threading.Thread(target=_sender_loop, args=((deliveries_prune, *housekeeping),),
                                   name="mp-sender", daemon=True)
        _sender.start()


def sender_stop() -> None:
    """Stop this process's sender (tests, before their database goes)."""
    with _sender_lock:
        _sender_stop.set()
        if _sender is not None:
            _sender.join(timeout=30)


def _sender_loop(housekeeping: tuple) -> None:
    kept_at = 0.0
    while not _sender_stop.wait(POLL_SECONDS):
        try:
            close_old_connections()
            deliveries_send_due()
            if time.monotonic() - kept_at > HOUSEKEEPING_SECONDS:
                kept_at = time.monotonic()
                for task in housekeeping:
                    task()
        except Exception:  # noqa: BLE001 - the loop must outlive a database hiccup
            log.warning("mp sender pass failed", exc_info=True)
        finally:
            close_old_connections()
