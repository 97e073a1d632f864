"""``manage.py serve``: one process that serves HTTP and websockets and, in embedded mode, also
runs the jobs (in-process worker) and the retention scheduler."""
from __future__ import annotations

import logging
import threading

import uvicorn
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

log = logging.getLogger(__name__)


def start_embedded_worker() -> None:
    """Resume jobs a previous process left behind (and, in the background, what other apps left
    unfinished: the bot's unsent messages), load the models in the background and start the
    housekeeping scheduler."""
    from backend.jobs import housekeeping, runner
    from backend.jobs.warmup import warm_up_models

    resumed = housekeeping.jobs_resume()
    if resumed:
        log.info("resumed %d queued jobs", resumed)
    housekeeping.recoveries_start()
    threading.Thread(target=warm_up_models, name="warm-up", daemon=True).start()
    runner.start_scheduler({housekeeping.jobs_sweep_stuck: settings.SWEEP_INTERVAL_SECONDS,
                            housekeeping.purge_expired: settings.PURGE_INTERVAL_SECONDS,
                            housekeeping.recoveries_run: settings.SWEEP_INTERVAL_SECONDS})


class Command(BaseCommand):
    help = "Migrate, then serve the app with uvicorn (embedded worker when TASK_RUNNER=inprocess)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, host, port, no_migrate, **options):
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        if not no_migrate:
            call_command("migrate", interactive=False, verbosity=0)
        if settings.TASK_RUNNER == "inprocess":
            start_embedded_worker()
            self.stdout.write("embedded worker and scheduler started")
        uvicorn.run("backend.asgi:application", host=host, port=port, log_level="info",
                    lifespan="off", ws_max_size=1 << 20)
