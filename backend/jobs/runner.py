"""The embedded worker: a small thread pool running the functions it is given (the ones
Celery's tasks run), plus a scheduler thread for housekeeping. Used when no Redis is configured.
It knows nothing of jobs: callers pass the function in, so this module imports none of theirs."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from django.conf import settings
from django.db import OperationalError, close_old_connections

from backend.memory import release_memory

log = logging.getLogger(__name__)

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()
_scheduler: threading.Thread | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=settings.INPROCESS_WORKERS,
                                       thread_name_prefix="job")
        return _pool


def _run(fn: Callable, args: tuple, kwargs: dict) -> None:
    try:
        for attempt in range(3):
            close_old_connections()
            try:
                fn(*args, **kwargs)
                return
            except OperationalError:  # the database was busy: the job is still queued, retry
                log.warning("in-process %s: database busy, retrying", fn.__name__, exc_info=True)
                time.sleep(1 + attempt)
            except Exception:  # noqa: BLE001
                log.exception("in-process %s%s crashed", fn.__name__, args or kwargs)
                return
            finally:
                close_old_connections()
    finally:
        release_memory()  # this process also serves HTTP: it must not keep a job's peak


def submit(fn: Callable, *args, **kwargs) -> Future:
    """Run ``fn(*args, **kwargs)`` on the pool, again if the database was busy."""
    return _executor().submit(_run, fn, args, kwargs)


def wait_idle() -> None:
    """Block until every submitted function has finished (tests and shutdown)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True)


def start_scheduler(chores: dict[Callable[[], object], float]) -> None:
    """Call each chore every so many seconds, in a daemon thread: what Celery beat does in
    production. Started once per process."""
    global _scheduler
    with _lock:
        if _scheduler is not None:
            return
        _scheduler = threading.Thread(target=_schedule_loop, args=(chores,), name="housekeeping",
                                      daemon=True)
    _scheduler.start()


def _schedule_loop(chores: dict[Callable[[], object], float]) -> None:
    tick = min(chores.values())
    due = dict.fromkeys(chores, 0.0)
    elapsed = 0.0
    while True:
        time.sleep(tick)
        elapsed += tick
        close_old_connections()
        for chore, every in chores.items():
            if elapsed - due[chore] < every:
                continue
            due[chore] = elapsed
            try:
                chore()
            except Exception:  # noqa: BLE001
                log.exception("%s failed", chore.__name__)
