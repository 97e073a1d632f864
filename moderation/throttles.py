"""Users who trip the filters repeatedly get a much lower request rate."""
from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_save
from django.dispatch import receiver
from rest_framework.throttling import SimpleRateThrottle

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
        return getattr(settings, "MODERATION_OFFENDER_RATE", "5/hour")

    def get_cache_key(self, request, view) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        strikes = getattr(settings, "MODERATION_OFFENDER_STRIKES", 3)
        if strikes <= 0 or cached_strikes(user=user) < strikes:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
