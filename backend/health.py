"""GET /healthz (the process answers) and GET /readyz (its dependencies answer)."""
from __future__ import annotations

import logging

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from core.storage import get_storage

log = logging.getLogger(__name__)


def healthz(request):
    return JsonResponse({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _storage() -> None:
    get_storage().check()


def _broker() -> None:
    if settings.TASK_RUNNER != "celery":
        return
    import redis

    redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2,
                         socket_connect_timeout=2).ping()


def readyz(request):
    checks = {}
    for name, check in (("database", _database), ("storage", _storage), ("broker", _broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception:  # noqa: BLE001 - details go to the log, not to anonymous callers
            log.warning("readiness check %s failed", name, exc_info=True)
            checks[name] = "error"
    ready = all(v == "ok" for v in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    if not ready:
        body["error"] = {"code": "not_ready", "message": "A dependency is unreachable."}
    return JsonResponse(body, status=200 if ready else 503)
