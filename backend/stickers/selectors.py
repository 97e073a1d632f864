"""Reading templates (built-in and admin-made) and rating summaries."""
from __future__ import annotations

import io

from django.db.models import Avg, Count
from django.utils.translation import gettext_lazy as _
from PIL import Image

from core.errors import BadRequest
from backend.stickers.models import Rating, StickerTemplate
from core.storage import get_storage


def template_list(*, kind: str = "sticker") -> list[dict]:
    """Every template a user may pick, built-in first, as JSON-ready dicts."""
    from inference.sticker import builtin_templates

    items = [{"id": t.id, "name": t.name, "kind": t.kind, "builtin": True, "spec": t.to_dict()}
             for t in builtin_templates() if t.kind == kind]
    for row in StickerTemplate.objects.filter(kind=kind, active=True):
        items.append({"id": row.id, "name": row.name, "kind": row.kind, "builtin": False,
                      "spec": {**row.spec, "id": row.id, "name": row.name, "kind": row.kind}})
    return items


def template_ids(*, kind: str = "sticker") -> set[str]:
    return {t["id"] for t in template_list(kind=kind)}


def template_load(*, template_id: str):
    """The inference ``Template`` for an id, with its images read from storage."""
    from inference.sticker.templates import Template, builtin_templates

    for template in builtin_templates():
        if template.id == template_id:
            return template
    row = StickerTemplate.objects.filter(id=template_id, active=True).first()
    if row is None:
        raise BadRequest(_("No sticker template %(id)s.") % {"id": repr(template_id)},
                         code="unknown_template")
    storage = get_storage()

    def image(key: str):
        return Image.open(io.BytesIO(storage.get(key))).convert("RGBA") if key else None

    spec = {**row.spec, "id": row.id, "name": row.name, "kind": row.kind}
    return Template.from_dict(spec, background=image(row.background_key),
                              frame=image(row.frame_key))


def rating_summary() -> dict:
    """Average score and count per expression and per template (for admins)."""
    def grouped(field: str) -> list[dict]:
        rows = (Rating.objects.values(field).annotate(average=Avg("score"), count=Count("id"))
                .order_by(field))
        return [{field: r[field], "average": round(r["average"], 2), "count": r["count"]}
                for r in rows]

    return {"by_expression": grouped("expression"), "by_template": grouped("template_id")}
