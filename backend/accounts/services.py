"""Logging users in (WeChat code exchange or the dev login, each ending in a fresh token), and
deleting an account on request."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.accounts.auth import forget_user
from backend.accounts.models import AuthToken, WechatAccount
from backend.accounts.wechat import code_to_session
from backend.jobs.deletion import user_content_delete
from core.errors import NotFound


# Other identities of a person that a first login with the same unionid joins (the Official
# Account's followers), registered by their apps: a function of the unionid, returning a user
# or None.
unionid_lookups: list[Callable[[str], object | None]] = []


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: datetime
    user: object


def token_issue(*, user) -> Login:
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(hours=settings.TOKEN_TTL_HOURS)
    AuthToken.objects.create(user=user, digest=AuthToken.digest_of(token), expires_at=expires_at)
    return Login(token=token, expires_at=expires_at, user=user)


def account_for_openid(*, openid: str, unionid: str = "", session_key: str = ""):
    """Find or create the user behind an openid, keeping the newest session_key and unionid."""
    try:
        return _account_update(openid=openid, unionid=unionid, session_key=session_key)
    except IntegrityError:
        # Two first logins at once: the other created the account; update that one.
        return _account_update(openid=openid, unionid=unionid, session_key=session_key)


@transaction.atomic
def _account_update(*, openid: str, unionid: str, session_key: str):
    account = WechatAccount.objects.select_for_update().filter(openid=openid).first()
    if account is None:
        user = next((u for u in (find(unionid) for find in unionid_lookups if unionid) if u),
                    None) or get_user_model().objects.create_user(username=f"wx_{openid}"[:150])
        account = WechatAccount.objects.create(user=user, openid=openid)
    if unionid:
        account.unionid = unionid
    if session_key:
        account.session_key = session_key
    account.last_login_at = timezone.now()
    account.save()
    return account.user


def login_wechat(*, code: str) -> Login:
    session = code_to_session(code)
    user = account_for_openid(openid=session.openid, unionid=session.unionid,
                              session_key=session.session_key)
    return token_issue(user=user)


def login_dev(*, openid: str) -> Login:
    if not settings.DEV_LOGIN:
        raise NotFound(_("Dev login is off on this server."), code="dev_login_disabled")
    return token_issue(user=account_for_openid(openid=openid))


def account_delete(*, user) -> None:
    """Delete the account now: its content (objects first; a storage failure leaves the account
    and its token in place, so the same call can be retried), then the user with its tokens and
    WeChat identity. Moderation cases stay, without the content and without the user."""
    user_content_delete(user=user)
    user_id = user.pk
    forget_user(user_id)  # before: the cached instance may be this one, whose pk delete() clears
    user.delete()
    forget_user(user_id)  # after: a request meanwhile may have cached another instance
