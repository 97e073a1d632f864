"""Followers as accounts: found or created by openid, joined to the mini-program's account by
unionid, and deleted when they unsubscribe."""
from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.accounts.models import WechatAccount
from backend.accounts.services import account_delete
from backend.jobs.deletion import job_delete
from backend.mpbot.models import Follower
from backend.uploads.services import upload_delete
from core.errors import NotFound, ServiceError

log = logging.getLogger(__name__)


def user_for_unionid(unionid: str):
    """A follower's account that a mini-program login with this unionid should join (only one
    that has no mini-program identity yet)."""
    follower = (Follower.objects.select_related("user")
                .filter(unionid=unionid, user__wechat__isnull=True).first())
    return follower.user if follower else None


def follower_for(*, openid: str, unionid: str = "") -> Follower:
    follower = Follower.objects.select_related("user").filter(openid=openid).first()
    if follower is not None:
        if unionid and not follower.unionid:
            follower.unionid = unionid
            follower.save(update_fields=["unionid"])
        return follower
    account = (WechatAccount.objects.select_related("user").filter(unionid=unionid).first()
               if unionid else None)
    try:
        with transaction.atomic():
            user = (account.user if account is not None
                    else get_user_model().objects.create_user(username=f"mp_{openid}"[:150]))
            return Follower.objects.create(openid=openid, unionid=unionid, user=user)
    except IntegrityError:  # the same follower's first two messages at once
        return Follower.objects.select_related("user").get(openid=openid)


def follower_unsubscribed(*, openid: str) -> None:
    """The unsubscribe event: the data goes now, or, when storage is down, as soon as the
    sender's retry (``followers_forget_pending``) succeeds."""
    try:
        follower_forget(openid=openid)
    except ServiceError:
        log.warning("deleting unsubscribed follower %s failed; retried later", openid, exc_info=True)
        Follower.objects.filter(openid=openid).update(unsubscribed_at=timezone.now())


def followers_forget_pending() -> int:
    done = 0
    for openid in Follower.objects.filter(unsubscribed_at__isnull=False).values_list(
            "openid", flat=True)[:50]:
        try:
            done += follower_forget(openid=openid)
        except ServiceError:
            log.warning("deleting unsubscribed follower %s failed again", openid)
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
