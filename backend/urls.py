"""URL roots: the JSON API, the admin, the OpenAPI schema and docs, the web client."""
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backend import health, share
from backend.accounts.api import (BrowserCodeApi, BrowserCodeRedeemApi, DevLoginApi, MeApi,
                                  WechatLoginApi)
from core.errors import error_body
from backend.jobs.api import (AnimeStyleListApi, DownloadApi, GenerateApi, JobConfirmApi,
                              JobDetailApi, JobListApi, ResultListApi)
from backend.portraits.api import (AsyncJobApi, CheckApi, CreateApi, CredentialDetailApi,
                                   CredentialListApi, IdentityDetailApi, IdentityListApi, TrainApi)
from backend.stickers.api import RatingApi, RatingSummaryApi, TemplateListApi
from backend.talking.api import ExtrasKeyApi

urlpatterns = [
    path("auth/wechat", WechatLoginApi.as_view(), name="auth-wechat"),
    path("auth/dev", DevLoginApi.as_view(), name="auth-dev"),
    path("auth/browser-code", BrowserCodeApi.as_view(), name="auth-browser-code"),
    path("auth/browser-code/redeem", BrowserCodeRedeemApi.as_view(),
         name="auth-browser-code-redeem"),
    path("me", MeApi.as_view(), name="me"),
    path("", include("backend.uploads.urls")),
    path("generate", GenerateApi.as_view(), name="generate"),
    path("jobs", JobListApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_id>/confirm", JobConfirmApi.as_view(), name="job-confirm"),
    path("results", ResultListApi.as_view(), name="result-list"),
    path("download/<uuid:result_id>", DownloadApi.as_view(), name="download"),
    path("anime/styles", AnimeStyleListApi.as_view(), name="anime-styles"),
    path("templates", TemplateListApi.as_view(), name="template-list"),
    path("results/<uuid:result_id>/rating", RatingApi.as_view(), name="result-rating"),
    path("stickers/ratings", RatingSummaryApi.as_view(), name="rating-summary"),
    path("portraits/credentials", CredentialListApi.as_view(), name="portrait-credentials"),
    path("portraits/credentials/<str:appid>", CredentialDetailApi.as_view(),
         name="portrait-credential"),
    path("portraits/models", IdentityListApi.as_view(), name="portrait-models"),
    path("portraits/models/<str:model_id>", IdentityDetailApi.as_view(), name="portrait-model"),
    # PAI's AI写真 protocol, at PAI's paths, for PAI's SDK.
    path("api/v1/aigc_images/check", CheckApi.as_view(), name="pai-check"),
    path("api/v1/aigc_images/train", TrainApi.as_view(), name="pai-train"),
    path("api/v1/aigc_images/create", CreateApi.as_view(), name="pai-create"),
    path("api/v1/async_jobs/<int:job_id>", AsyncJobApi.as_view(), name="pai-async-job"),
    path("files/<str:token>", share.storage_share, name="storage-share"),
    path("moderation/", include("moderation.urls")),
    path("api/", include("backend.talking.urls")),
    path("talking/extras-key", ExtrasKeyApi.as_view(), name="talking-extras-key"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[]), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[]),
         name="docs"),
    path("admin/", admin.site.urls),
    path("console/", include("backend.console.urls")),
    # The web client at "/" exactly (its screens are hash routes): last, so it shadows nothing.
    path("", include("backend.web.urls")),
]


def _json_error(code: str, message: str, status: int):
    from django.http import JsonResponse

    def view(request, exception=None):
        return JsonResponse(error_body(code, str(message)), status=status)

    return view


handler400 = _json_error("bad_request", _("The request could not be read."), 400)
handler403 = _json_error("forbidden", _("You are not allowed to do this."), 403)
handler404 = _json_error("not_found", _("No such address."), 404)
handler500 = _json_error("internal_error", _("Something went wrong on our side."), 500)
