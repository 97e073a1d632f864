from django.apps import AppConfig


class PortraitsConfig(AppConfig):
    name = "backend.portraits"
    label = "portraits"
    default_auto_field = "django.db.models.BigAutoField"
