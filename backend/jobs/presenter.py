"""The JSON of jobs and results, built in this one place: the API's answers, the websocket's
events and the OpenAPI schema (the serializers below document exactly what the functions build)."""
from __future__ import annotations

import time

from django.urls import reverse
from rest_framework import serializers

from backend.jobs.models import Job, JobState, Result
from backend.jobs.pipelines import LIST_INPUTS
from backend.jobs.selectors import job_as_seen
from backend.uploads.models import ModerationState
from core.errors import ErrorDetail

# What a person reads while a job works: a stage's name is ours, these words are the user's.
STAGE_WORDS = {
    "queued": ("Waiting for a free worker", "排队中"),
    "starting": ("Starting", "开始处理"),
    "warming": ("Loading the model", "正在加载模型"),
    "detect": ("Finding your face", "正在识别人脸"),
    "faces": ("Finding your face", "正在识别人脸"),
    "face": ("Drawing your face", "正在绘制面部"),
    "expression": ("Making the expression", "正在调整表情"),
    "cutout": ("Cutting out your head", "正在抠出头像"),
    "compose": ("Putting the sticker together", "正在合成表情包"),
    "animate": ("Animating the sticker", "正在生成动图"),
    "generator": ("Drawing in anime style", "正在绘制动漫风格"),
    "tiles": ("Drawing in anime style", "正在绘制动漫风格"),
    "diffusion": ("Redrawing with AI", "AI 正在重绘"),
    "check": ("Checking your photos", "正在检查照片"),
    "identity": ("Learning your face", "正在学习你的面部特征"),
    "lora": ("Training a model of your face", "正在训练你的专属模型"),
    "fuse": ("Putting your face into the portrait", "正在把你的脸融入写真"),
    "similarity": ("Checking the likeness", "正在比对相似度"),
    "speech": ("Preparing the voice", "正在合成语音"),
    "render": ("Making the video", "正在生成视频"),
    "transcribe": ("Listening to your recording", "正在识别语音"),
    "read": ("Reading your photo", "正在读取照片"),
    "describe": ("Understanding your description", "正在理解你的描述"),
    "illustrate": ("Drawing the picture", "正在绘制图片"),
    "review": ("Waiting for a moderator", "等待人工审核"),
    "done": ("Done", "完成"),
}
WORKING = ("Working on it", "处理中")


def job_messages(job: Job) -> tuple[str, str]:
    """The job's message in English and Chinese: its own (a question, an explanation) when it
    has one, else human words for its stage."""
    if job.message:
        return job.message, job.message
    if job.state in (JobState.QUEUED, JobState.RUNNING):
        return STAGE_WORDS.get(job.stage, WORKING)
    if job.state == JobState.HELD:
        return STAGE_WORDS["review"]
    if job.state == JobState.SUCCEEDED:
        return STAGE_WORDS["done"]
    return "", ""  # a failed or blocked job says why in its error


class ResultOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    format = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    engine = serializers.CharField()
    download_url = serializers.URLField()


class JobOutput(serializers.Serializer):
    """The shape of a job in responses (documentation; ``job_payload`` builds it)."""

    id = serializers.UUIDField()
    mode = serializers.CharField()
    state = serializers.ChoiceField(choices=JobState.choices)
    progress = serializers.IntegerField()
    stage = serializers.CharField(help_text="our name for the step (stable, for programs)")
    message = serializers.CharField(help_text="what a person reads: the step in words, or the "
                                              "job's own message (a question)")
    message_zh = serializers.CharField(help_text="the same in Chinese")
    engine = serializers.CharField()
    upload_id = serializers.UUIDField(allow_null=True, help_text="the photo input")
    inputs = serializers.DictField(help_text="upload ids by input name; a list for photos and "
                                             "identities")
    params = serializers.JSONField()
    text = serializers.CharField()
    attempts = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    error = ErrorDetail(allow_null=True)
    results = ResultOutput(many=True, help_text="only once the job has succeeded (awaiting "
                                                "confirmation: the spoken question)")
    metadata = serializers.JSONField()


class JobPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = JobOutput(many=True)


class ResultListItem(ResultOutput):
    job_id = serializers.UUIDField()
    mode = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(help_text="deleted then, with its job's data")


class ResultPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ResultListItem(many=True)


def _iso(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def result_payload(result: Result, request=None) -> dict:
    """A result; its download URL absolute when answering a request, else a path."""
    url = reverse("download", args=[result.id])
    return {"id": str(result.id), "kind": result.kind, "format": result.format,
            "width": result.width, "height": result.height, "engine": result.engine,
            "download_url": request.build_absolute_uri(url) if request is not None else url}


def result_list_item(result: Result, request=None) -> dict:
    """``ResultListItem``: a result with its job and when it goes (whichever deadline is first)."""
    expires_at = min(result.expires_at, result.job.expires_at)
    return {**result_payload(result, request), "job_id": str(result.job_id),
            "mode": result.job.mode, "created_at": _iso(result.created_at),
            "expires_at": _iso(expires_at)}


# The states in which a job's results are shown: awaiting confirmation, the spoken question.
SHOWN_STATES = {JobState.SUCCEEDED, JobState.AWAITING_CONFIRMATION}


def result_payloads(job: Job, request=None) -> list[dict]:
    """The results a client may see: only a succeeded (or awaiting confirmation) job's, until
    its deadline, and only those moderation cleared."""
    if job_as_seen(job).state not in SHOWN_STATES:
        return []
    return [result_payload(r, request) for r in job.results.all()
            if r.moderation_state == ModerationState.CLEAR]


def job_inputs(job: Job) -> dict:
    """``{name: id}``, or ``{name: [ids]}`` for a list input."""
    inputs: dict = {}
    for row in job.inputs.all():
        if row.name in LIST_INPUTS:
            inputs.setdefault(row.name, []).append(str(row.upload_id))
        else:
            inputs[row.name] = str(row.upload_id)
    return inputs


def _error(job: Job) -> dict | None:
    return {"code": job.error_code, "message": job.error_message} if job.error_code else None


def job_payload(job: Job, request=None) -> dict:
    """``JobOutput``'s fields, built directly: clients poll this many times a second, and
    DRF serializers cost more than the database queries behind them."""
    job = job_as_seen(job)
    message, message_zh = job_messages(job)
    return {
        "id": str(job.id), "mode": job.mode, "state": job.state, "progress": job.progress,
        "stage": job.stage, "message": message, "message_zh": message_zh, "engine": job.engine,
        "upload_id": str(job.upload_id) if job.upload_id else None,
        "inputs": job_inputs(job), "params": job.params,
        "text": job.text, "attempts": job.attempts, "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at), "finished_at": _iso(job.finished_at),
        "expires_at": _iso(job.expires_at), "error": _error(job),
        "results": result_payloads(job, request), "metadata": job.metadata,
    }


def job_event(job: Job, *, results: list | None = None) -> dict:
    """A websocket event: the job's moving parts, and its results when it has just finished."""
    job = job_as_seen(job)
    if job.state == JobState.EXPIRED:
        results = None
    message, message_zh = job_messages(job)
    event = {"type": "job.progress", "job_id": str(job.id), "state": job.state,
             "stage": job.stage, "progress": job.progress, "message": message,
             "message_zh": message_zh,
             "attempt": job.attempts, "at": round(time.time(), 3)}
    error = _error(job)
    if error is not None:
        event["error"] = error
    if results is not None:
        event["results"] = results
    return event
