"""Django admin: sticker templates (with background/frame upload) and rating averages."""
from __future__ import annotations

import io
import uuid

from django import forms
from django.contrib import admin
from PIL import Image

from backend.stickers.models import Rating, StickerTemplate
from core.storage import get_storage


class StickerTemplateForm(forms.ModelForm):
    background_image = forms.ImageField(required=False, help_text="PNG/JPEG, square works best.")
    frame_image = forms.ImageField(required=False, help_text="PNG with transparency.")

    class Meta:
        model = StickerTemplate
        fields = ["id", "name", "kind", "spec", "active"]

    def clean_spec(self):
        from inference.errors import InferenceError
        from inference.sticker.templates import Template

        spec = self.cleaned_data["spec"] or {}
        try:
            Template.from_dict({**spec, "id": self.cleaned_data.get("id", "x"),
                                "name": self.cleaned_data.get("name", "x")})
        except (InferenceError, TypeError, ValueError) as exc:
            raise forms.ValidationError(str(exc)) from exc
        return spec


def _store_image(upload, template_id: str, role: str) -> str:
    image = Image.open(upload)
    image.load()
    buffer = io.BytesIO()
    image.convert("RGBA").save(buffer, "PNG")
    key = f"templates/{template_id}/{role}-{uuid.uuid4().hex[:8]}.png"
    get_storage().put(key, buffer.getvalue(), "image/png")
    return key


@admin.register(StickerTemplate)
class StickerTemplateAdmin(admin.ModelAdmin):
    form = StickerTemplateForm
    list_display = ("id", "name", "kind", "active", "updated_at")

    def save_model(self, request, obj, form, change):
        for role in ("background", "frame"):
            upload = form.cleaned_data.get(f"{role}_image")
            if upload:
                setattr(obj, f"{role}_key", _store_image(upload, obj.id, role))
                obj.spec = {**obj.spec, role: "image"}
        super().save_model(request, obj, form, change)


@admin.register(Rating)
class RatingAdmin(admin.ModelAdmin):
    list_display = ("result_id", "score", "expression", "template_id", "engine", "created_at")
    list_filter = ("expression", "template_id", "score")

    def changelist_view(self, request, extra_context=None):
        from backend.stickers.selectors import rating_summary

        extra_context = {**(extra_context or {}), "summary": rating_summary()}
        return super().changelist_view(request, extra_context=extra_context)
