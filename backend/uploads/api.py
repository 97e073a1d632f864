"""POST /upload, GET /uploads, DELETE /uploads/{id}."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.parsers import SafeJSONParser
from backend.uploads.models import UploadKind
from backend.uploads.selectors import upload_list
from backend.uploads.services import upload_create, upload_delete
from core.errors import BadRequest, PayloadTooLarge, Throttled, error_responses
from core.inputs import reject_unknown_fields
from moderation.throttles import OffenderThrottle

FILE_FIELDS = ("file", "image")  # "image": the field's name before recordings were accepted


class UploadOutput(serializers.Serializer):
    """An upload in every response: a photo has pixels, a recording a duration (seconds)."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=UploadKind.choices)
    format = serializers.CharField()
    source_format = serializers.CharField()
    size_bytes = serializers.IntegerField()
    width = serializers.SerializerMethodField()
    height = serializers.SerializerMethodField()
    duration = serializers.SerializerMethodField()
    faces = serializers.IntegerField(
        allow_null=True, help_text="faces found in a photo (0: no face; null for a recording)")
    sha256 = serializers.CharField()
    moderation = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()

    def get_width(self, upload) -> int | None:
        return upload.width if upload.kind == UploadKind.IMAGE else None

    def get_height(self, upload) -> int | None:
        return upload.height if upload.kind == UploadKind.IMAGE else None

    def get_duration(self, upload) -> float | None:
        return upload.duration_ms / 1000 if upload.kind == UploadKind.AUDIO else None

    def get_moderation(self, upload) -> str:
        return {"held": "under_review"}.get(upload.moderation_state, upload.moderation_state)


class UploadPage(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = UploadOutput(many=True)


class UploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]
    throttle_classes = [ScopedRateThrottle, OffenderThrottle]
    throttle_scope = "upload"

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary",
                     "description": "a photo or a recording, recognised by its bytes"},
            "image": {"type": "string", "format": "binary",
                      "description": "the same as 'file' (its earlier name)"},
            "url": {"type": "string"}}}},
        responses={201: UploadOutput, **error_responses(400, 401, 413, 415, 422, 429, 503)})
    def post(self, request):
        reject_unknown_fields(request.data, (*FILE_FIELDS, "url"))
        files = getattr(request, "FILES", {})
        sent = [files[name] for name in FILE_FIELDS if name in files]
        if len(sent) > 1:
            raise BadRequest(_("Send one file, as the multipart field 'file'."),
                             code="too_many_files")
        url = "" if sent else request.data.get("url", "")
        if not sent and not url:
            raise BadRequest(_("Send the photo or recording as multipart field 'file', or its "
                               "address as 'url'."), code="missing_image")
        if sent:
            if sent[0].size > settings.UPLOAD_FILE_MAX_BYTES:
                raise PayloadTooLarge(_("The file is larger than %(mb)s MB.")
                                      % {"mb": settings.UPLOAD_FILE_MAX_BYTES // 2**20})
            data, admission = sent[0].read(), nullcontext()
        else:
            if not isinstance(url, str) or len(url) > 2048:
                raise BadRequest(_("'url' must be an http(s) address."), code="invalid_url")
            data, admission = None, _one_url_upload_at_a_time(request.user)
        with admission:
            upload = upload_create(user=request.user, data=data, url=url)
        return Response(UploadOutput(upload).data, status=201)


class UploadListApi(APIView):
    @extend_schema(operation_id="uploads_list", responses={200: UploadPage, **error_responses(401)},
                   parameters=[OpenApiParameter("limit", int), OpenApiParameter("offset", int)])
    def get(self, request):
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(upload_list(user=request.user), request, view=self)
        return paginator.get_paginated_response(UploadOutput(page, many=True).data)


class UploadDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 404, 503)})
    def delete(self, request, upload_id):
        upload_delete(user=request.user, upload_id=upload_id)
        return Response(status=204)


@contextmanager
def _one_url_upload_at_a_time(user):
    """A user's URL uploads go one by one, in every web process (the cache is Redis there): a few
    slow links from one user then hold one of the process's fetch slots, never all of them."""
    key = f"uploads:url-fetch:{user.pk}"
    # The entry normally goes when the upload ends; its expiry only frees a slot that a killed
    # process left behind, so it outlasts the longest fetch plus the moderation after it.
    if not cache.add(key, 1, timeout=settings.UPLOAD_URL_TIMEOUT + 60):
        raise Throttled(_("Your previous link is still being fetched; wait for it to finish, "
                          "then try again."), code="url_fetch_in_progress")
    try:
        yield
    finally:
        cache.delete(key)
