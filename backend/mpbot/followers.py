"""Followers as accounts: found or created by openid, joined to the mini-program's account by
unionid (asked of WeChat's user/info once, since messages rarely carry it), and deleted when they
unsubscribe."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import WechatAccount
from backend.accounts.services import account_delete
from backend.jobs.deletion import job_delete
from backend.mpbot.models import Follower
from backend.mpbot.wechat import user_unionid
from backend.uploads.services import upload_delete
from core.errors import NotFound, ServiceError
from moderation.wechat import WeChatError, WeChatUnavailable

log = logging.getLogger(__name__)


def user_for_unionid(unionid: str):
    """A follower's account that a mini-program login with this unionid should join (only one
    that has no mini-program identity yet)."""
    follower = (Follower.objects.select_related("user")
                .filter(unionid=unionid, user__wechat__isnull=True).first())
    return follower.user if follower else None


def follower_for(*, openid: str, unionid: str = "") -> Follower:
    """The follower behind an openid, created on its subscribe or first message. Its unionid is
    the message's when WeChat sends one, else user/info's, asked once per follower; a new
    follower whose unionid is a mini-program user's joins that user's account."""
    follower = Follower.objects.select_related("user").filter(openid=openid).first()
    if follower is not None:
        if not follower.unionid and (unionid or not follower.unionid_asked):
            follower.unionid, follower.unionid_asked = _unionid(openid, given=unionid)
            follower.save(update_fields=["unionid", "unionid_asked"])
        return follower
    unionid, asked = _unionid(openid, given=unionid)
    account = (WechatAccount.objects.select_related("user").filter(unionid=unionid).first()
               if unionid else None)
    try:
        with transaction.atomic():
            user = (account.user if account is not None
                    else get_user_model().objects.create_user(username=f"mp_{openid}"[:150]))
            return Follower.objects.create(openid=openid, unionid=unionid, unionid_asked=asked,
                                           user=user)
    except IntegrityError:  # the same follower's first two messages at once
        return Follower.objects.select_related("user").get(openid=openid)


def _unionid(openid: str, *, given: str) -> tuple[str, bool]:
    """The follower's unionid ("" when the account has none) and whether WeChat answered. The
    conversation never waits on it: unreachable, it is asked again with the next message;
    refused (an unverified account has no user/info), it is not."""
    if given:
        return given, True
    try:
        return user_unionid(openid), True
    except WeChatUnavailable as exc:
        log.warning("user/info for follower %s unavailable (%s); asked again later", openid, exc)
        return "", False
    except WeChatError as exc:
        log.warning("user/info for follower %s refused (%s); carrying on without a unionid",
                    openid, exc)
        return "", True


def follower_unsubscribed(*, openid: str) -> None:
    """The unsubscribe event: the data goes now, or, when storage is down, as soon as the
    sender's retry (``followers_forget_pending``) succeeds."""
    try:
        follower_forget(openid=openid)
    except ServiceError:
        log.warning("deleting unsubscribed follower %s failed; retried later", openid, exc_info=True)
        Follower.objects.filter(openid=openid).update(unsubscribed_at=timezone.now())


FORGETTING_LOCK = "mpbot:forgetting"
FORGETTING_SECONDS = 300


def followers_forget_pending() -> int:
    """Finish the deletions an unsubscribe left undone; one process at a time (every web
    process's sender and every worker's start call this), the others skip their turn."""
    if not cache.add(FORGETTING_LOCK, 1, FORGETTING_SECONDS):
        return 0
    done = 0
    try:
        for openid in Follower.objects.filter(unsubscribed_at__isnull=False).values_list(
                "openid", flat=True)[:50]:
            try:
                done += follower_forget(openid=openid)
            except ServiceError:
                log.warning("deleting unsubscribed follower %s failed again", openid)
    finally:
        cache.delete(FORGETTING_LOCK)
    return done


def follower_forget(*, openid: str) -> bool:
    """Unsubscribed: the follower's data goes. An account of the bot's own is deleted as
    ``DELETE /me`` deletes one; an account shared with the mini-program (same unionid) keeps the
    mini-program's content and loses what the bot made (its jobs, their photos) and the link."""
    follower = Follower.objects.select_related("user").filter(openid=openid).first()
    if follower is None:
        return False
    user = follower.user
    if not WechatAccount.objects.filter(user=user).exists():
        account_delete(user=user)
        return True
    jobs = {d.job for d in follower.deliveries.select_related("job") if d.job is not None}
    for job in jobs:
        uploads = [row.upload_id for row in job.inputs.all()]
        job_delete(user=user, job_id=job.id)
        for upload_id in uploads:
            if upload_id is not None and not user.jobs.filter(inputs__upload_id=upload_id).exists():
                try:
                    upload_delete(user=user, upload_id=upload_id)
                except NotFound:
                    pass  # deleted meanwhile
    follower.delete()
    return True
