"""The embedded worker: a small thread pool running the very task functions Celery runs,
plus a scheduler thread for housekeeping. Used when no Redis is configured."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import OperationalError, close_old_connections

from backend.memory import release_memory

log = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_scheduler: threading.Thread | None = None
_stop = threading.Event()


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.INPROCESS_WORKERS,
                                       thread_name_prefix="job")
        return _pool


def _run(job_id) -> None:
    from backend.jobs.services import job_run

    try:
        for attempt in range(3):
            close_old_connections()
            try:
                job_run(job_id=job_id)
                return
            except OperationalError:  # the database was busy: the job is still queued, retry
                log.warning("in-process job %s: database busy, retrying", job_id, exc_info=True)
                time.sleep(1 + attempt)
            except Exception:  # noqa: BLE001
                log.exception("in-process job %s crashed", job_id)
                return
            finally:
                close_old_connections()
    finally:
        release_memory()  # this process also serves HTTP: it must not keep a job's peak


def submit(job_id):
    return _executor().submit(_run, job_id)


def wait_idle(timeout: float = 60.0) -> None:
    """Block until every submitted job has finished (tests and shutdown)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


def start_embedded() -> None:
    """Resume jobs a previous process left behind and start the housekeeping scheduler."""
    global _scheduler
    from backend.jobs.housekeeping import jobs_resume

    resumed = jobs_resume()
    if resumed:
        log.info("resumed %d queued jobs", resumed)
    from backend.jobs.warmup import warm_up_models

    threading.Thread(target=warm_up_models, name="warm-up", daemon=True).start()
    if _scheduler is None:
        _stop.clear()
        _scheduler = threading.Thread(target=_schedule_loop, name="housekeeping", daemon=True)
        _scheduler.start()


def stop_embedded() -> None:
    global _scheduler
    _stop.set()
    _scheduler = None
    wait_idle()


def _schedule_loop() -> None:
    """Sweep stuck jobs every SWEEP_INTERVAL_SECONDS and purge every PURGE_INTERVAL_SECONDS:
    what Celery beat does in production."""
    from backend.jobs.housekeeping import jobs_sweep_stuck, purge_expired

    tick = min(settings.SWEEP_INTERVAL_SECONDS, settings.PURGE_INTERVAL_SECONDS)
    due = {jobs_sweep_stuck: 0.0, purge_expired: 0.0}
    every = {jobs_sweep_stuck: settings.SWEEP_INTERVAL_SECONDS,
             purge_expired: settings.PURGE_INTERVAL_SECONDS}
    elapsed = 0.0
    while not _stop.wait(tick):
        elapsed += tick
        close_old_connections()
        for chore in due:
            if elapsed - due[chore] < every[chore]:
                continue
            due[chore] = elapsed
            try:
                chore()
            except Exception:  # noqa: BLE001
                log.exception("%s failed", chore.__name__)
