from django.apps import AppConfig


class StickersConfig(AppConfig):
    name = "backend.stickers"
    label = "stickers"
    default_auto_field = "django.db.models.BigAutoField"
