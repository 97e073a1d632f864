"""PAI's AI写真 wire protocol (``/api/v1/aigc_images/*``, ``/api/v1/async_jobs/{id}``), so that
PAI's own SDK works unchanged, and our routes for credentials and identities."""
from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.accounts.auth import BearerTokenAuthentication
from backend.jobs.models import JobState
from backend.portraits import services
from backend.portraits.auth import PaiSignatureAuthentication
from backend.portraits.models import ApiCredential, PublicJob
from backend.portraits.presenter import pai_body, pai_job, pai_state
from backend.portraits.selectors import identity_list
from core.errors import NotFound, ServiceError, error_responses
from moderation.throttles import OffenderThrottle


class AlwaysJson(BaseContentNegotiation):
    """PAI's SDK asks for ``text/plain`` on some routes and reads JSON: answer JSON always."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class PaiApi(APIView):
    """A route of PAI's protocol: signed by PAI's SDK or with our token; every answer, errors
    too, in PAI's envelope (an error keeps our ``{"error": {code, message}}`` in ``data``)."""

    authentication_classes = [PaiSignatureAuthentication, BearerTokenAuthentication]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AlwaysJson
    # Each makes work (face detection for a check): limited as POST /generate is.
    throttle_classes = [ScopedRateThrottle, OffenderThrottle]
    throttle_scope = "generate"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        error = (response.data or {}).get("error") if isinstance(response.data, dict) else None
        if error:
            response.data = pai_body({"error": error}, code="error", message=error["message"])
        return response

    def app_id(self) -> str:
        return getattr(self.request, "pai_appid", "")


class CheckApi(PaiApi):
    @extend_schema(operation_id="aigc_images_check", request=None,
                   responses={200: None, **error_responses(400, 401)})
    def post(self, request):
        images = request.data.get("images") if isinstance(request.data, dict) else None
        checks = services.photos_check(user=request.user, images=images)
        results = [{**check.as_dict(), "url": url} for check, url in zip(checks, images)]
        return Response(pai_body({"check_results": results, "cost_time": checks.cost_time,
                                  "images": images}))


class TrainApi(PaiApi):
    @extend_schema(operation_id="aigc_images_train", request=None,
                   responses={200: None, **error_responses(400, 401)})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        number, identity = services.identity_train(
            user=request.user, images=data.get("images"), name=str(data.get("model_name") or ""),
            app_id=self.app_id())
        return Response(pai_body({"job_id": number, "model_id": str(identity.id)}))


class CreateApi(PaiApi):
    @extend_schema(operation_id="aigc_images_create", request=None,
                   description="Single (`model_id`) or multi-person (`model_ids`, the template's "
                               "faces left to right). Waits for the job up to "
                               "PORTRAIT_CREATE_WAIT seconds; `\"async\": true` answers its "
                               "job id at once.",
                   responses={200: None, **error_responses(400, 401, 404, 409)})
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        model_ids = data.get("model_ids")
        if model_ids is None and data.get("model_id") is not None:
            model_ids = [data["model_id"]]
        job = services.portrait_create(user=request.user, template=data.get("template_image"),
                                       model_ids=model_ids, configure=data.get("configure"),
                                       app_id=self.app_id())
        queued = data.get("async") is True
        if not queued:
            job = services.job_wait(job, settings.PORTRAIT_CREATE_WAIT)
        if job.state == JobState.FAILED and not queued:
            raise ServiceError(job.error_message, code=job.error_code or "failed", status=400)
        if queued or job.state != JobState.SUCCEEDED:
            return Response(pai_body({"job_id": job.public.id, "id": str(job.id),
                                      "state": pai_state(job)},
                                     message="job queued"))
        image, result = services.portrait_image(job)
        return Response(pai_body({
            "image": image,
            "cost_time": (job.finished_at - job.created_at).total_seconds(),
            "model_id": ",".join(result.metadata.get("model_ids", [])),
            "similarity": result.metadata.get("similarity"),
            "engine": result.engine,
            "path": result.metadata.get("path"),
            "result_id": str(result.id),
            "download_url": request.build_absolute_uri(reverse("download", args=[result.id])),
        }))


class AsyncJobApi(PaiApi):
    throttle_classes = []  # polled, like GET /jobs/{id}
    @extend_schema(operation_id="async_job_get", request=None,
                   responses={200: None, **error_responses(401, 404)})
    def post(self, request, job_id: int):
        public = (PublicJob.objects.select_related("job")
                  .filter(id=job_id, job__owner=request.user).first())
        if public is None:
            raise NotFound(_("No such job of yours."), code="job_not_found")
        return Response(pai_body({"job": pai_job(public)}))


class CredentialOutput(serializers.Serializer):
    appid = serializers.CharField()
    token = serializers.CharField(required=False, help_text="only when created")
    created_at = serializers.DateTimeField()


class CredentialListApi(APIView):
    @extend_schema(operation_id="portrait_credentials_list",
                   responses={200: CredentialOutput(many=True), **error_responses(401)})
    def get(self, request):
        rows = ApiCredential.objects.filter(owner=request.user, revoked_at__isnull=True)
        return Response([{"appid": c.appid, "created_at": c.created_at} for c in rows])

    @extend_schema(request=None, responses={201: CredentialOutput, **error_responses(401, 409)},
                   description="A new appid and token for PAI's SDK; the token is shown this "
                               "once and stored encrypted.")
    def post(self, request):
        credential, token = services.credential_create(user=request.user)
        return Response({"appid": credential.appid, "token": token,
                         "created_at": credential.created_at}, status=201)


class CredentialDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 404)})
    def delete(self, request, appid: str):
        services.credential_revoke(user=request.user, appid=appid)
        return Response(status=204)


class IdentityOutput(serializers.Serializer):
    model_id = serializers.UUIDField()
    name = serializers.CharField()
    state = serializers.CharField(help_text="the training job's state")
    job_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class IdentityListApi(APIView):
    @extend_schema(operation_id="portrait_models_list",
                   responses={200: IdentityOutput(many=True), **error_responses(401)})
    def get(self, request):
        return Response([{"model_id": str(i.id), "name": i.name, "state": i.job.state,
                          "job_id": str(i.job_id), "created_at": i.created_at,
                          "expires_at": i.expires_at}
                         for i in identity_list(user=request.user)])


class IdentityDetailApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 404, 503)})
    def delete(self, request, model_id):
        services.identity_delete(user=request.user, model_id=model_id)
        return Response(status=204)
