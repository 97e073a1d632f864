"""GET /templates, POST /results/{id}/rating, GET /stickers/ratings (staff)."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import BadRequest, error_responses
from core.inputs import StrictInput
from backend.jobs.selectors import result_get
from backend.portraits.selectors import portrait_template_list
from backend.stickers import selectors, services


class TemplateOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    builtin = serializers.BooleanField()
    spec = serializers.JSONField(required=False,
                                 help_text="stickers: the layout: text box, colours, background, "
                                           "frame")
    faces = serializers.IntegerField(required=False, help_text="portraits: faces to fill")
    preview_url = serializers.CharField(required=False, help_text="portraits: a small preview")


class TemplateList(serializers.Serializer):
    results = TemplateOutput(many=True)


class RatingInput(StrictInput):
    score = serializers.IntegerField(min_value=1, max_value=5)


class RatingOutput(serializers.Serializer):
    result_id = serializers.UUIDField()
    score = serializers.IntegerField()


class _RatingAverage(serializers.Serializer):
    average = serializers.FloatField()
    count = serializers.IntegerField()


class ExpressionRating(_RatingAverage):
    expression = serializers.CharField()


class TemplateRating(_RatingAverage):
    template_id = serializers.CharField()


class RatingSummary(serializers.Serializer):
    by_expression = ExpressionRating(many=True)
    by_template = TemplateRating(many=True)


class TemplateListApi(APIView):
    @extend_schema(parameters=[OpenApiParameter("kind", str, default="sticker",
                                                enum=["sticker", "portrait"])],
                   responses={200: TemplateList, **error_responses(400, 401)},
                   description="kind=portrait: the portrait library, each with `faces` and a "
                               "`preview_url`; pass its id as a portrait's template_image.")
    def get(self, request):
        kind = request.query_params.get("kind", "sticker")
        if kind == "portrait":
            return Response({"results": portrait_template_list()})
        if kind not in {"sticker"}:
            raise BadRequest(_("Unknown template kind; use kind=sticker or kind=portrait."),
                             code="unknown_kind")
        return Response({"results": selectors.template_list(kind=kind)})


class RatingApi(APIView):
    @extend_schema(request=RatingInput,
                   responses={201: RatingOutput, **error_responses(400, 401, 404, 410)})
    def post(self, request, result_id):
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        result = result_get(user=request.user, result_id=result_id)
        rating = services.rating_set(user=request.user, result=result,
                                     score=data.validated_data["score"])
        return Response({"result_id": str(result.id), "score": rating.score}, status=201)


class RatingSummaryApi(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: RatingSummary, **error_responses(401, 403)})
    def get(self, request):
        return Response(selectors.rating_summary())
