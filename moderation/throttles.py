"""Users who trip the filters repeatedly get a much lower request rate."""
from __future__ import annotations

import math
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.throttling import SimpleRateThrottle

from core.errors import Throttled
from moderation.models import CaseState, ModerationCase
from moderation.selectors import offender_strikes

STRIKES_CACHE_SECONDS = 60  # also how late a strike leaving the window is noticed


def _strikes_key(user_id) -> str:
    return f"moderation:strikes:{user_id}"


def cached_strikes(*, user) -> int:
    """``offender_strikes``, kept in the shared cache: it is asked on every upload and
    generation, and changes only when a case is rejected."""
    strikes = cache.get(_strikes_key(user.pk))
    if strikes is None:
        strikes = offender_strikes(user=user)
        cache.set(_strikes_key(user.pk), strikes, STRIKES_CACHE_SECONDS)
    return strikes


@receiver(post_save, sender=ModerationCase)
def _forget_strikes(sender, instance, **kwargs) -> None:
    if instance.state == CaseState.REJECTED and instance.user_id:
        cache.delete(_strikes_key(instance.user_id))


class OffenderThrottle(SimpleRateThrottle):
    """Only for offenders: ``MODERATION_OFFENDER_STRIKES`` blocked or rejected contents within
    ``MODERATION_OFFENDER_WINDOW_SECONDS`` put a user on ``MODERATION_OFFENDER_RATE``; everyone
    else is left to the view's other throttles. Add it next to them on upload/generate views."""

    scope = "offender"

    def get_rate(self) -> str:
        return settings.MODERATION_OFFENDER_RATE

    def get_cache_key(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        strikes = settings.MODERATION_OFFENDER_STRIKES
        if strikes <= 0 or cached_strikes(user=user) < strikes:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}

    def allow_request(self, request, view) -> bool:
        """Past the rate, a 429 ``offender_penalty`` that says it is a penalty, why and until
        when (DRF's own answer is a bare "available in 3439 seconds")."""
        if super().allow_request(request, view):
            return True
        wait = max(1, math.ceil(self.wait() or 1))
        raise Throttled(penalty_message(strikes=cached_strikes(user=request.user),
                                        rate=(self.num_requests, self.duration), wait=wait),
                        code="offender_penalty", retry_after=wait)


def penalty_message(*, strikes: int, rate: tuple[int, int], wait: int) -> str:
    window = settings.MODERATION_OFFENDER_WINDOW_SECONDS
    window_text = (_("%(n)s hours") % {"n": window // 3600} if window % 3600 == 0
                   else _("%(n)s seconds") % {"n": window})
    per = {1: _("second"), 60: _("minute"), 3600: _("hour"), 86400: _("day")}.get(
        rate[1], f"{rate[1]} s")
    until = (timezone.now() + timedelta(seconds=wait)).strftime("%H:%M UTC")
    return _("Penalty: %(strikes)s of your photos or texts were blocked or rejected by our "
             "content rules in the last %(window)s, so you may send only %(rate)s request(s) per "
             "%(per)s for now. Your next request is possible at %(until)s (in %(minutes)s min).") % {
        "strikes": strikes, "window": window_text, "rate": rate[0], "per": per, "until": until,
        "minutes": math.ceil(wait / 60)}
