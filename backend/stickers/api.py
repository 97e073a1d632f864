"""GET /templates, POST /results/{id}/rating, GET /stickers/ratings (staff)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.errors import BadRequest
from backend.jobs.selectors import result_get
from backend.stickers import selectors, services


class TemplateListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("kind", str, default="sticker")])
    def get(self, request):
        kind = request.query_params.get("kind", "sticker")
        if kind not in {"sticker"}:
            raise BadRequest("Unknown template kind; use kind=sticker.", code="unknown_kind")
        return Response({"results": selectors.template_list(kind=kind)})


class RatingApi(APIView):
    class Input(serializers.Serializer):
        score = serializers.IntegerField(min_value=1, max_value=5)

    @extend_schema(request=Input)
    def post(self, request, result_id):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        result = result_get(user=request.user, result_id=result_id)
        rating = services.rating_set(user=request.user, result=result,
                                     score=data.validated_data["score"])
        return Response({"result_id": str(result.id), "score": rating.score}, status=201)


class RatingSummaryApi(APIView):
    permission_classes = [IsAdminUser]

    def get(self, request):
        return Response(selectors.rating_summary())
