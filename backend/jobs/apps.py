from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "backend.jobs"
    label = "jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from backend.jobs import moderation_hooks, modes  # noqa: F401 - registers modes and signal receivers
