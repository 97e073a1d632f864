"""The moderators' console at /console/: the review queue, decided cases and word lists, for
staff signed in with a Django session."""
from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "backend.console"
    label = "console"

    def ready(self) -> None:
        from backend.console import announcements  # noqa: F401 - signal receivers
