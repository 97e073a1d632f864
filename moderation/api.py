"""The moderators' API (staff only) and the endpoint WeChat pushes asynchronous verdicts to."""
from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (OpenApiParameter, OpenApiResponse, extend_schema,
                                   extend_schema_view)
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAdminUser
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from core.errors import BadRequest, Forbidden, NotFound, error_responses
from core.inputs import StrictInput
from moderation import selectors, services
from moderation.models import CaseState, SubjectType
from moderation.wechat import parse_push, push_first_use, push_signature_valid


def _preview_url(request, key: str) -> str:
    url = selectors.preview_url(key)
    return request.build_absolute_uri(url) if url.startswith("/") else url


class CaseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    subject_type = serializers.CharField()
    subject_id = serializers.CharField()
    subject = serializers.CharField()
    user_id = serializers.IntegerField(allow_null=True)
    text = serializers.CharField()
    preview_url = serializers.SerializerMethodField()
    providers = serializers.CharField()
    labels = serializers.JSONField()
    verdict = serializers.CharField()
    state = serializers.CharField()
    awaiting_provider = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()
    decided_at = serializers.DateTimeField(allow_null=True)
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_preview_url(self, case) -> str:
        # Short-lived: the queue is reloaded, previews are never kept.
        return _preview_url(self.context["request"], case.preview_key) if case.state == CaseState.PENDING else ""

    def get_awaiting_provider(self, case) -> bool:
        return bool(case.awaiting_trace_id)

    def get_decided_by(self, case) -> str | None:
        return case.decided_by.get_username() if case.decided_by_id else None


class StaffApi(APIView):
    """Staff only, with a token or with the Django session of a moderator logged in at
    ``/admin/`` (made by ``createsuperuser``); DRF's session authentication enforces CSRF, so a
    POST from the browser sends the ``csrftoken`` cookie back as ``X-CSRFToken``."""

    authentication_classes = [*api_settings.DEFAULT_AUTHENTICATION_CLASSES, SessionAuthentication]
    permission_classes = [IsAdminUser]


class CaseFilter(serializers.Serializer):
    state = serializers.ChoiceField(choices=CaseState.choices + [("all", "all")], default="pending")
    subject_type = serializers.ChoiceField(choices=SubjectType.choices, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=200, default=50)
    offset = serializers.IntegerField(min_value=0, default=0)


class CasePage(serializers.Serializer):
    count = serializers.IntegerField()
    results = CaseOutput(many=True)


class DecisionInput(StrictInput):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CaseListApi(StaffApi):
    @extend_schema(parameters=[CaseFilter],
                   responses={200: CasePage, **error_responses(400, 401, 403)})
    def get(self, request):
        query = CaseFilter(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        cases = selectors.case_list(state=None if params["state"] == "all" else params["state"],
                                    subject_type=params.get("subject_type"))
        page = cases[params["offset"]: params["offset"] + params["limit"]]
        return Response({"count": cases.count(),
                         "results": CaseOutput(page, many=True, context={"request": request}).data})


class _DecisionApi(StaffApi):
    def decide(self, request, case_id: int, decision):
        data = DecisionInput(data=request.data)
        data.is_valid(raise_exception=True)
        if selectors.case_get(case_id=case_id) is None:
            raise NotFound(_("No moderation case with this id."))
        case = decision(case_id=case_id, moderator=request.user, reason=data.validated_data["reason"])
        return Response(CaseOutput(case, context={"request": request}).data)


_DECISION_SCHEMA = extend_schema(
    request=DecisionInput, responses={200: CaseOutput, **error_responses(400, 401, 403, 404, 409)})


class CaseApproveApi(_DecisionApi):
    @_DECISION_SCHEMA
    def post(self, request, case_id: int):
        return self.decide(request, case_id, services.case_approve)


class CaseRejectApi(_DecisionApi):
    @_DECISION_SCHEMA
    def post(self, request, case_id: int):
        return self.decide(request, case_id, services.case_reject)


class WeChatPushApi(APIView):
    """WeChat's message push (plaintext mode). GET verifies the URL (echo ``echostr``); POST
    carries events, JSON or XML; ``wxa_media_check`` ones decide held images."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def _accept_once(self, request) -> None:
        """A valid, fresh signature whose (timestamp, nonce) no GET or POST has used yet."""
        query = request.query_params
        # A push has to be bounded in age: its replay record cannot be kept forever.
        max_age, skew = settings.WECHAT_PUSH_MAX_AGE or 86400, settings.WECHAT_PUSH_CLOCK_SKEW
        timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
        if not push_signature_valid(
                token=settings.WECHAT_PUSH_TOKEN, signature=query.get("signature", ""),
                timestamp=timestamp, nonce=nonce, max_age=max_age, skew=skew):
            raise Forbidden(_("The push signature is invalid."), code="bad_signature")
        if not push_first_use(timestamp=timestamp, nonce=nonce, max_age=max_age, skew=skew):
            raise Forbidden(_("This push was already received."), code="replayed_push")

    def get(self, request):
        self._accept_once(request)
        return HttpResponse(request.query_params.get("echostr", ""), content_type="text/plain")

    def post(self, request):
        self._accept_once(request)
        try:
            event = parse_push(request.body, request.content_type or "")
        except Exception as exc:  # malformed JSON or XML from whoever holds the token
            raise BadRequest(_("The push body is neither JSON nor XML."), code="malformed_push") from exc
        if not isinstance(event, dict):
            raise BadRequest(_("The push body is not an object."), code="malformed_push")
        services.wechat_push_receive(event=event)
        return HttpResponse("success", content_type="text/plain")


class WeChatPushSchema(OpenApiViewExtension):
    """The schema of ``WeChatPushApi`` (WeChat's side of the push protocol), kept apart from it."""

    target_class = WeChatPushApi

    def view_replacement(self):
        signed = [OpenApiParameter(name, str, required=True)
                  for name in ("signature", "timestamp", "nonce")]
        text = OpenApiResponse(OpenApiTypes.STR, description="`echostr` (GET) or `success`")

        @extend_schema_view(
            get=extend_schema(parameters=[*signed, OpenApiParameter("echostr", str)],
                              responses={(200, "text/plain"): text, **error_responses(403)}),
            post=extend_schema(parameters=signed, request={"application/json": OpenApiTypes.OBJECT,
                                                           "text/xml": OpenApiTypes.STR},
                               responses={(200, "text/plain"): text, **error_responses(400, 403)}))
        class Documented(self.target_class):
            pass

        return Documented
