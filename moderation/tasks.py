"""Celery entry points for moderation housekeeping; each just calls a service."""
from celery import shared_task

from moderation.services import cases_expire_wechat_waits


@shared_task(name="moderation.tasks.expire_wechat_waits_task")
def expire_wechat_waits_task() -> int:
    return cases_expire_wechat_waits()
