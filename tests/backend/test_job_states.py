"""``held`` is a job state of its own: rows written when it was ``blocked`` plus the error code
``under_review`` are moved to it by the migration, and events rank it where the job is."""
from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from backend.jobs.events import event_order


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_jobs_held_for_review_to_held_and_keeps_blocked_ones():
    executor = MigrationExecutor(connection)
    executor.migrate([("jobs", "0001_initial")])
    old = executor.loader.project_state([("jobs", "0001_initial")]).apps
    user = old.get_model("auth", "User").objects.create(username="legacy")
    Job = old.get_model("jobs", "Job")
    deadline = timezone.now() + timezone.timedelta(hours=1)
    held = Job.objects.create(owner=user, mode="anime", state="blocked", stage="review",
                              error_code="under_review", error_message="waiting",
                              expires_at=deadline)
    blocked = Job.objects.create(owner=user, mode="anime", state="blocked",
                                 error_code="content_rejected", expires_at=deadline)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    from backend.jobs.models import Job as CurrentJob

    held, blocked = (CurrentJob.objects.get(id=held.id), CurrentJob.objects.get(id=blocked.id))
    assert (held.state, held.error_code, held.stage) == ("held", "", "review")
    assert (blocked.state, blocked.error_code) == ("blocked", "content_rejected")


def event(state: str, attempt: int, progress: int = 0) -> dict:
    return {"state": state, "attempt": attempt, "progress": progress}


def test_held_results_rank_after_running_and_before_the_end():
    assert event_order(event("running", 1, 99)) < event_order(event("held", 1, 99))
    assert event_order(event("held", 1, 99)) < event_order(event("succeeded", 1, 100))


def test_a_job_held_before_running_ranks_with_queued_so_its_release_is_sent():
    assert event_order(event("held", 0)) == event_order(event("queued", 0))
    assert event_order(event("queued", 0)) < event_order(event("running", 1, 1))
