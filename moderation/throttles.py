"""Users who trip the filters repeatedly get a much lower request rate."""
from __future__ import annotations

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from moderation.selectors import offender_strikes


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
        if strikes <= 0 or offender_strikes(user=user) < strikes:
            return None
        return self.cache_format % {"scope": self.scope, "ident": user.pk}
