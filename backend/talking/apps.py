from django.apps import AppConfig


class TalkingConfig(AppConfig):
    name = "backend.talking"
    label = "talking"
    default_auto_field = "django.db.models.BigAutoField"
