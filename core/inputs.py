"""Request bodies are read strictly: a field the endpoint does not know (``anmiated``,
``uploadId``) is a 400 ``unknown_field`` that names it and the accepted ones, never a silent
default."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from core.errors import BadRequest


def reject_unknown_fields(data, accepted: Iterable[str], *, where: str = "") -> None:
    if not isinstance(data, Mapping):
        return  # the serializer itself refuses a body that is not an object
    accepted = sorted(accepted)
    unknown = sorted(set(data) - set(accepted))
    if not unknown:
        return
    prefix = f"{where}." if where else ""
    names = ", ".join(f"'{prefix}{name}'" for name in unknown)
    values = {"names": names, "where": where or _("the request"),
              "accepted": ", ".join(accepted) or _("no fields")}
    message = (_("Unknown field %(names)s; %(where)s accepts: %(accepted)s.") if len(unknown) == 1
               else _("Unknown fields %(names)s; %(where)s accepts: %(accepted)s."))
    raise BadRequest(message % values, code="unknown_field")


class StrictInput(serializers.Serializer):
    """The base of every Input serializer."""

    def to_internal_value(self, data):
        reject_unknown_fields(data, self.fields)
        return super().to_internal_value(data)
