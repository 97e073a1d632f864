"""POST /upload."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from moderation.throttles import OffenderThrottle

from backend.errors import BadRequest, PayloadTooLarge
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
        responses={201: UploadOutput})
    def post(self, request):
        image = request.FILES.get("image") if hasattr(request, "FILES") else None
        url = request.data.get("url", "") if image is None else ""
        if image is None and not url:
            raise BadRequest("Send the photo as multipart field 'image', or its address as 'url'.",
                             code="missing_image")
        if image is not None:
            if image.size > settings.UPLOAD_MAX_BYTES:
                raise PayloadTooLarge(
                    f"The file is larger than {settings.UPLOAD_MAX_BYTES // (1024 * 1024)} MB.")
            data = image.read()
        else:
            if not isinstance(url, str) or len(url) > 2048:
                raise BadRequest("'url' must be an http(s) address.", code="invalid_url")
            data = None
        upload = upload_create(user=request.user, data=data, url=url)
        return Response(UploadOutput(upload).data, status=201)
