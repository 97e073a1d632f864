"""Django admin: the portrait template library (a photo upload becomes the stored template, its
preview and its face count)."""
from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backend.portraits.models import PortraitTemplate
from backend.portraits.services import portrait_template_store
from core.errors import ServiceError


class PortraitTemplateForm(forms.ModelForm):
    photo = forms.ImageField(required=False, help_text="JPEG/PNG with the faces to replace.")

    class Meta:
        model = PortraitTemplate
        fields = ["id", "name", "active"]

    def clean(self):
        cleaned = super().clean()
        photo = cleaned.get("photo")
        if photo:
            self.instance.id = cleaned.get("id") or self.instance.id
            try:  # stored here, so that a photo without a face is a form error
                portrait_template_store(self.instance, photo.read())
            except ServiceError as error:
                raise forms.ValidationError(error.message) from error
        elif not self.instance.image_key:
            raise forms.ValidationError(_("A new template needs its photo."))
        return cleaned


@admin.register(PortraitTemplate)
class PortraitTemplateAdmin(admin.ModelAdmin):
    form = PortraitTemplateForm
    list_display = ("id", "name", "faces", "active", "created_at")

