"""Reading a user's uploads."""
from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backend.uploads.models import Upload
from core.errors import NotFound


def upload_list(*, user):
    """The user's uploads not yet expired, newest first."""
    return Upload.objects.filter(owner=user, expires_at__gt=timezone.now()).order_by("-created_at")


def upload_get(*, user, upload_id) -> Upload:
    try:
        return Upload.objects.get(owner=user, id=upload_id)
    except Upload.DoesNotExist:
        raise NotFound(_("No such upload of yours."), code="upload_not_found") from None
