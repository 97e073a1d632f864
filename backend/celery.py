"""The Celery app. Workers run ``celery -A backend worker -Q cpu`` (or ``-Q gpu``)."""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("mengxiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["backend.jobs"])


@worker_process_init.connect
def _warm_models(**_):
    """Load the face models once per worker process, before the first job arrives."""
    try:
        from inference.faces import warm_up
    except ImportError:
        return
    warm_up()
