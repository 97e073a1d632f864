"""The Celery app. Workers run ``celery -A backend worker -Q cpu`` (or ``-Q gpu``); one beat
process runs the sweeper and retention."""
from __future__ import annotations

import os

from celery import Celery
from celery.signals import worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")

app = Celery("mengxiang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["backend.jobs", "moderation"])


@worker_process_init.connect
def _prepare_worker_process(**_):
    """In each forked worker process: a fresh event publisher (the parent's loop thread and Redis
    pool did not survive the fork), the recoveries in the background (what a dead process left
    unsent), then the face models, loaded before the first job arrives."""
    from backend.jobs import events

    events.reset_after_fork()
    from backend.jobs.housekeeping import recoveries_start
    from backend.jobs.warmup import warm_up_models

    recoveries_start()
    warm_up_models()


@worker_init.connect
def _prepare_unforked_worker(sender=None, **_):
    """A worker with the threads or solo pool never forks, so ``worker_process_init`` does not
    fire: run the recoveries and load the models in the worker itself before it takes jobs."""
    from celery.concurrency import get_implementation
    from celery.concurrency.prefork import TaskPool as PreforkPool

    pool = get_implementation(getattr(sender, "pool_cls", None) or "prefork")
    if not (isinstance(pool, type) and issubclass(pool, PreforkPool)):
        from backend.jobs.housekeeping import recoveries_start
        from backend.jobs.warmup import warm_up_models

        recoveries_start()
        warm_up_models()
