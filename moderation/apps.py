"""Moderation: screens every upload, text and result, and keeps the admins' review queue."""
from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _seed_empty_wordlists(sender, using="default", **kwargs) -> None:
    # A fresh database gets the shipped word lists; afterwards admins own them
    # (``manage.py seed_wordlists`` adds what later versions of the files bring).
    from moderation.models import WordCategory
    from moderation.services import wordlists_seed

    if not WordCategory.objects.using(using).exists():
        wordlists_seed()


class ModerationConfig(AppConfig):
    name = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(_seed_empty_wordlists, sender=self, dispatch_uid="moderation-seed")
