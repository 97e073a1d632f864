"""POST /upload."""
from __future__ import annotations

from contextlib import contextmanager, nullcontext

from django.core.cache import cache
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from moderation.throttles import OffenderThrottle

from core.errors import BadRequest, PayloadTooLarge, Throttled, error_responses
from core.inputs import reject_unknown_fields
from backend.parsers import SafeJSONParser
from backend.uploads.services import upload_create
from django.conf import settings


class UploadOutput(serializers.Serializer):
    id = serializers.UUIDField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField()
    source_format = serializers.CharField()
    sha256 = serializers.CharField()
    moderation = serializers.SerializerMethodField()
    expires_at = serializers.DateTimeField()

    def get_moderation(self, upload) -> str:
        return {"held": "under_review"}.get(upload.moderation_state, upload.moderation_state)


class UploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser, SafeJSONParser]
    throttle_classes = [ScopedRateThrottle, OffenderThrottle]
    throttle_scope = "upload"

    @extend_schema(
        request={"multipart/form-data": {"type": "object", "properties": {
            "image": {"type": "string", "format": "binary"}, "url": {"type": "string"}}}},
        responses={201: UploadOutput, **error_responses(400, 401, 413, 415, 422, 429, 503)})
    def post(self, request):
        reject_unknown_fields(request.data, ("image", "url"))
        image = request.FILES.get("image") if hasattr(request, "FILES") else None
        url = request.data.get("url", "") if image is None else ""
        if image is None and not url:
            raise BadRequest("Send the photo as multipart field 'image', or its address as 'url'.",
                             code="missing_image")
        if image is not None:
            if image.size > settings.UPLOAD_MAX_BYTES:
                raise PayloadTooLarge(
                    f"The file is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
            data, admission = image.read(), nullcontext()
        else:
            if not isinstance(url, str) or len(url) > 2048:
                raise BadRequest("'url' must be an http(s) address.", code="invalid_url")
            data, admission = None, _one_url_upload_at_a_time(request.user)
        with admission:
            upload = upload_create(user=request.user, data=data, url=url)
        return Response(UploadOutput(upload).data, status=201)


@contextmanager
def _one_url_upload_at_a_time(user):
    """A user's URL uploads go one by one, in every web process (the cache is Redis there): a few
    slow links from one user then hold one of the process's fetch slots, never all of them."""
    key = f"uploads:url-fetch:{user.pk}"
    # The entry normally goes when the upload ends; its expiry only frees a slot that a killed
    # process left behind, so it outlasts the longest fetch plus the moderation after it.
    if not cache.add(key, 1, timeout=settings.UPLOAD_URL_TIMEOUT + 60):
        raise Throttled("Your previous link is still being fetched; wait for it to finish, "
                        "then try again.", code="url_fetch_in_progress")
    try:
        yield
    finally:
        cache.delete(key)
