"""The one error hierarchy of the service and its mapping to HTTP.

Every error a client sees is ``{"error": {"code": "...", "message": "..."}}`` with a 4xx/5xx
status. Services raise ``ServiceError`` subclasses; views never build error bodies themselves.
"""
from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.response import Response

from inference.errors import InferenceError

log = logging.getLogger(__name__)


class ServiceError(Exception):
    status = 400
    code = "bad_request"
    default_message = _("The request could not be processed.")

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message or self.default_message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    @property
    def message(self) -> str:
        """In the active language (the request's): messages are marked lazily, so one raised
        in a request is read in its language."""
        return str(self)


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401
    code = "not_authenticated"
    default_message = _("Log in first: send 'Authorization: Token <token>'.")


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"
    default_message = _("You are not allowed to do this.")


class NotFound(ServiceError):
    status = 404
    code = "not_found"
    default_message = _("Nothing here, or it is not yours.")


class Gone(ServiceError):
    status = 410
    code = "expired"
    default_message = _("This file has expired and was deleted.")


class PayloadTooLarge(ServiceError):
    status = 413
    code = "too_large"


class UnsupportedMedia(ServiceError):
    status = 415
    code = "unsupported_format"


class Throttled(ServiceError):
    status = 429
    code = "throttled"
    default_message = _("Too many requests; wait a moment and try again.")

    def __init__(self, message: str | None = None, *, code: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    status = 503
    code = "unavailable"
    default_message = _("A service we depend on is unavailable; try again shortly.")


def error_body(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="stable and machine-readable, e.g. `expired`")
    message = serializers.CharField(help_text="for the user: what happened and what to do")


class ErrorResponse(serializers.Serializer):
    """``error_body``'s shape, for the schema."""

    error = ErrorDetail()


_STATUS_MEANINGS = {
    400: "The request is invalid (`invalid_input`, `unknown_field`, `malformed_request`, or a "
         "more specific code).",
    401: "No token, or an unknown or expired one (`not_authenticated`, `invalid_token`).",
    403: "Not allowed (`forbidden`; `under_review` for held content).",
    404: "No such thing of yours.",
    409: "Conflicts with an earlier request.",
    410: "Past its deadline and deleted (`expired`, `upload_expired`).",
    413: "Too large (`too_large`, `too_many_pixels`, `audio_too_long`).",
    415: "Not an image or audio format we read (`unsupported_format`).",
    422: "Refused by moderation (`content_blocked`, `text_blocked`).",
    429: "Too many requests (`throttled`, `offender_penalty`); see `Retry-After`.",
    503: "A service we depend on is down or not configured.",
}


def error_responses(*statuses: int) -> dict:
    """Schema responses for these error statuses, all ``ErrorResponse``."""
    return {status: OpenApiResponse(ErrorResponse, description=_STATUS_MEANINGS[status])
            for status in statuses}


_DRF_CODES = {
    drf.NotAuthenticated: "not_authenticated",
    drf.AuthenticationFailed: "invalid_token",
    drf.PermissionDenied: "forbidden",
    drf.NotFound: "not_found",
    drf.MethodNotAllowed: "method_not_allowed",
    drf.NotAcceptable: "not_acceptable",
    drf.UnsupportedMediaType: "unsupported_media_type",
    drf.Throttled: "throttled",
    drf.ParseError: "malformed_request",
    drf.ValidationError: "invalid_input",
}


def _drf_message(exc: drf.APIException) -> str:
    detail = exc.detail
    if isinstance(exc, drf.ValidationError):
        return flatten_validation(detail)
    return str(detail)


def flatten_validation(detail, prefix: str = "") -> str:
    if isinstance(detail, dict):
        parts = [flatten_validation(v, f"{prefix}{k}.") for k, v in detail.items()]
        return "; ".join(parts)
    if isinstance(detail, list):
        return "; ".join(flatten_validation(v, prefix) for v in detail)
    field = prefix.rstrip(".")
    return f"{field}: {detail}" if field and field != "non_field_errors" else str(detail)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every error becomes ``{"error": {code, message}}``."""
    headers = {}
    if isinstance(exc, ServiceError):
        status, code, message = exc.status, exc.code, exc.message
        if getattr(exc, "retry_after", None):
            headers["Retry-After"] = str(exc.retry_after)
    elif isinstance(exc, InferenceError):
        status, code, message = 400, exc.code, exc.message
    elif isinstance(exc, Http404):
        status, code, message = 404, "not_found", str(NotFound.default_message)
    elif isinstance(exc, PermissionDenied):
        status, code, message = 403, "forbidden", str(Forbidden.default_message)
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        code = next((c for t, c in _DRF_CODES.items() if isinstance(exc, t)), exc.default_code)
        message = _drf_message(exc)
        if isinstance(exc, drf.Throttled) and exc.wait:
            headers["Retry-After"] = str(int(exc.wait))
        if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
            status = 401
            headers["WWW-Authenticate"] = "Token"
    else:
        log.exception("unhandled error", exc_info=exc)
        status, code, message = 500, "internal_error", str(_("Something went wrong on our side."))
    return Response(error_body(code, message), status=status, headers=headers)
