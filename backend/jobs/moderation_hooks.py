"""What a moderator's decision does to uploads, jobs and results that it held."""
from __future__ import annotations

from django.db.models import Q
from django.dispatch import receiver

from backend.jobs.models import Job, JobState, Result
from backend.jobs.review import job_reject, job_release
from backend.uploads.models import ModerationState, Upload
from backend.uploads.services import upload_discard
from moderation.models import CaseState
from moderation.signals import case_decided


@receiver(case_decided)
def on_case_decided(sender, case, **kwargs) -> None:
    approved = case.state == CaseState.APPROVED
    held = Result.objects.filter(moderation_case_id=case.id)
    # Found before a rejected upload goes (its job inputs go with it).
    jobs = list(Job.objects.filter(Q(moderation_case_id=case.id)
                                   | Q(id__in=held.values("job_id"))
                                   | Q(inputs__upload__moderation_case_id=case.id),
                                   state=JobState.HELD).distinct())
    for upload in Upload.objects.filter(moderation_case_id=case.id):
        if approved:
            upload.moderation_state = ModerationState.CLEAR
            upload.save(update_fields=["moderation_state"])
        else:
            upload_discard(upload=upload)
    if approved:
        held.update(moderation_case_id=None)  # this case no longer holds them
    for job in jobs:
        job_release(job=job) if approved else job_reject(job=job)
