"""Writing templates and ratings."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from core.errors import Gone
from backend.jobs.models import Result
from backend.jobs.selectors import result_is_expired
from backend.stickers.models import Rating


def rating_set(*, user, result: Result, score: int) -> Rating:
    """Record (or change) the user's score of their own result, while it exists for them."""
    if result_is_expired(result):
        raise Gone(_("This result has expired and was deleted; rate a newer one."))
    expression = (result.metadata.get("expression") or {}).get("name", "")
    rating, _created = Rating.objects.update_or_create(
        result_id=result.id, user=user,
        defaults={"score": score, "mode": result.job.mode, "expression": expression,
                  "template_id": result.metadata.get("template", ""), "engine": result.engine})
    return rating
