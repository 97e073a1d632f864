"""POST /generate, GET /jobs, GET and DELETE /jobs/{id}, POST /jobs/{id}/confirm, GET /results,
GET /download/{result_id}, GET /anime/styles."""
from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from moderation.throttles import OffenderThrottle

from backend.jobs import selectors
from backend.jobs.confirmation import job_confirm
from backend.jobs.creation import job_create, text_check
from backend.jobs.models import TEXT_MAX
from backend.jobs.deletion import job_delete
from backend.jobs.modes.anime import style_list
from backend.jobs.presenter import (SHOWN_STATES, JobOutput, JobPage, ResultPage, job_payload,
                                   result_list_item)
from core.errors import BadRequest, Gone, ServiceError, error_responses
from core.inputs import StrictInput
from core.storage import get_storage
from backend.uploads.models import ModerationState


class GenerateInput(StrictInput):
    upload_id = serializers.UUIDField(required=False, help_text="shorthand for inputs.photo")
    inputs = serializers.DictField(
        required=False, default=dict,
        help_text="upload ids by name (photo, voice, template: one id; photos, identities: a "
                  "list); which ones a mode needs is in its description")
    mode = serializers.CharField(max_length=32)
    params = serializers.DictField(required=False, default=dict,
                                   help_text="the mode's parameters; unknown ones are refused")
    text = serializers.CharField(required=False, allow_blank=True, default="", max_length=TEXT_MAX,
                                 trim_whitespace=True)

    def to_internal_value(self, data):
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            text_check(data["text"])  # its own code, before the field's generic max_length
        return super().to_internal_value(data)


class GenerateAccepted(serializers.Serializer):
    job_id = serializers.UUIDField()
    state = serializers.CharField()
    status_url = serializers.CharField()
    ws_url = serializers.CharField()


class GenerateApi(APIView):
    throttle_classes = [ScopedRateThrottle, OffenderThrottle]
    throttle_scope = "generate"

    @extend_schema(request=GenerateInput,
                   responses={202: GenerateAccepted,
                              **error_responses(400, 401, 404, 409, 410, 422, 429)},
                   parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)])
    def post(self, request):
        data = GenerateInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key") or None
        if key is not None and len(key) > 100:
            raise ServiceError(_("Idempotency-Key must be at most 100 characters."),
                               code="invalid_idempotency_key")
        job = job_create(user=request.user, idempotency_key=key, **data.validated_data)
        ws_scheme = "wss" if request.is_secure() else "ws"
        return Response({
            "job_id": str(job.id),
            "state": job.state,
            "status_url": request.build_absolute_uri(reverse("job-detail", args=[job.id])),
            "ws_url": f"{ws_scheme}://{request.get_host()}/ws/jobs/{job.id}/",
        }, status=202)


class JobListApi(APIView):
    @extend_schema(operation_id="jobs_list", responses={200: JobPage, **error_responses(401)},
                   parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)])
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.job_list(user=request.user), request, view=self)
        return paginator.get_paginated_response([job_payload(job, request) for job in page])


class JobDetailApi(APIView):
    @extend_schema(responses={200: JobOutput, **error_responses(401, 404)})
    def get(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(job_payload(job, request))

    @extend_schema(responses={204: None, **error_responses(401, 404, 503)},
                   description="Deletes the job now, its results and their stored files too; a "
                               "job still running is cancelled. 503 `storage_unavailable`: "
                               "nothing lost, call again.")
    def delete(self, request, job_id):
        job_delete(user=request.user, job_id=job_id)
        return Response(status=204)


class ConfirmInput(StrictInput):
    confirm = serializers.BooleanField(required=False, help_text="true: draw it; false: cancel")
    text = serializers.CharField(required=False, max_length=TEXT_MAX, trim_whitespace=True,
                                 help_text="the corrected description, asked about again")

    def validate(self, attrs: dict) -> dict:
        if ("confirm" in attrs) == ("text" in attrs):
            raise BadRequest(_('Send {"confirm": true}, {"confirm": false} or {"text": "..."}.'),
                             code="invalid_confirmation")
        return attrs


class JobConfirmApi(APIView):
    @extend_schema(request=ConfirmInput, responses={200: JobOutput,
                                                    **error_responses(400, 401, 404, 409, 422)},
                   description="For a job in `awaiting_confirmation` (mode voice): `confirm` "
                               "true queues the picture, false cancels the job (`cancelled`); "
                               "`text` replaces the description, and the job asks again. 409 "
                               "`not_awaiting_confirmation` in any other state.")
    def post(self, request, job_id):
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_confirm(user=request.user, job_id=job_id, **data.validated_data)
        return Response(job_payload(job, request))


class ResultListApi(APIView):
    @extend_schema(operation_id="results_list", responses={200: ResultPage, **error_responses(401)},
                   parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)])
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(selectors.result_list(user=request.user), request,
                                           view=self)
        return paginator.get_paginated_response([result_list_item(r, request) for r in page])


class DownloadLink(serializers.Serializer):
    url = serializers.URLField(help_text="S3: a presigned URL; embedded: a signed /files/ link")
    expires_in = serializers.IntegerField(help_text="seconds the URL stays valid")


class DownloadApi(APIView):
    @extend_schema(responses={
        (200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="embedded storage"),
        302: OpenApiResponse(description="S3: to a presigned URL"),
        (200, "application/json"): OpenApiResponse(
            DownloadLink, description="`?link=1`: the short-lived URL itself, for a browser's "
                                      "<img> or <video>, which cannot send the token"),
        **error_responses(401, 403, 404, 410)},
        parameters=[OpenApiParameter("link", int, description="1: answer the URL as JSON")])
    def get(self, request, result_id):
        result = selectors.result_get(user=request.user, result_id=result_id)
        if selectors.result_is_expired(result):
            raise Gone(_("This result has expired and was deleted; generate it again."))
        if (result.moderation_state != ModerationState.CLEAR
                or result.job.state not in SHOWN_STATES):
            raise ServiceError(_("This result is waiting for a moderator."), code="under_review",
                               status=403)
        storage = get_storage()
        if request.query_params.get("link") == "1":
            url = storage.share_url(result.storage_key, settings.DOWNLOAD_URL_TTL,
                                    content_type=result.content_type)
            return Response({"url": request.build_absolute_uri(url),
                             "expires_in": settings.DOWNLOAD_URL_TTL})
        if storage.kind == "s3":
            return HttpResponseRedirect(storage.share_url(
                result.storage_key, settings.DOWNLOAD_URL_TTL, content_type=result.content_type))
        try:
            handle = storage.open(result.storage_key)
        except KeyError as exc:
            raise Gone(_("This result is no longer stored.")) from exc
        response = FileResponse(handle, content_type=result.content_type)
        response["Content-Disposition"] = f'inline; filename="{result.id}.{result.format}"'
        response["Cache-Control"] = "private, max-age=300"
        return response


class AnimeStyle(serializers.Serializer):
    name = serializers.CharField()
    engine = serializers.CharField()
    default = serializers.BooleanField(help_text="the style used when a job names none")


class AnimeStyleList(serializers.Serializer):
    results = AnimeStyle(many=True)


class AnimeStyleListApi(APIView):
    @extend_schema(operation_id="anime_styles", responses={200: AnimeStyleList,
                                                           **error_responses(401)})
    def get(self, request):
        return Response({"results": style_list()})
