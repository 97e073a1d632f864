"""POST /auth/wechat, POST /auth/dev, the browser sign-in code (POST /auth/browser-code and
POST /auth/browser-code/redeem) and DELETE /me."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.accounts import browser_code, services
from core.errors import error_responses
from core.inputs import StrictInput


class UserOutput(serializers.Serializer):
    id = serializers.IntegerField()
    openid = serializers.CharField(source="wechat.openid", default="")
    unionid = serializers.CharField(source="wechat.unionid", default="")
    is_staff = serializers.BooleanField()


class LoginOutput(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    user = UserOutput()


class _LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class WechatLoginInput(StrictInput):
    code = serializers.CharField(max_length=128, help_text="from wx.login()")


class DevLoginInput(StrictInput):
    openid = serializers.RegexField(r"^[A-Za-z0-9_\-]{1,64}$")


class MeApi(APIView):
    @extend_schema(responses={204: None, **error_responses(401, 503)},
                   description="Deletes the account now: uploads, jobs, results and their files, "
                               "ratings, the WeChat identity and every token (the next call is "
                               "401). Running jobs are cancelled. 503 `storage_unavailable`: "
                               "nothing lost, call again with the same token.")
    def delete(self, request):
        services.account_delete(user=request.user)
        return Response(status=204)


class WechatLoginApi(_LoginView):
    @extend_schema(request=WechatLoginInput,
                   responses={200: LoginOutput, **error_responses(400, 403, 429, 503)})
    def post(self, request):
        data = WechatLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.login_wechat(code=data.validated_data["code"])
        return Response(LoginOutput(login).data)


class DevLoginApi(_LoginView):
    @extend_schema(request=DevLoginInput,
                   responses={200: LoginOutput, **error_responses(400, 404, 429)})
    def post(self, request):
        data = DevLoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.login_dev(openid=data.validated_data["openid"])
        return Response(LoginOutput(login).data)


class BrowserCodeOutput(serializers.Serializer):
    code = serializers.CharField(help_text="6 characters, A-Z and 2-9 without look-alikes")
    expires_at = serializers.DateTimeField()
    expires_in = serializers.IntegerField(help_text="seconds")


class BrowserCodeRedeemInput(StrictInput):
    code = serializers.CharField(max_length=32, help_text="as the mini-program showed it; "
                                                         "case, spaces and a dash are ignored")


class BrowserCodeApi(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"

    @extend_schema(request=None, responses={201: BrowserCodeOutput, **error_responses(401, 429)},
                   description="A one-time code that signs a browser in as the caller (the web "
                               "client's sign-in form, where dev login is off): valid for "
                               "`BROWSER_CODE_TTL_SECONDS` (120), once; asking again replaces "
                               "the previous code.")
    def post(self, request):
        issued = browser_code.browser_code_issue(user=request.user)
        return Response(BrowserCodeOutput(issued).data, status=201)


class BrowserCodeRedeemApi(_LoginView):
    throttle_scope = "browser_code"

    @extend_schema(request=BrowserCodeRedeemInput,
                   responses={200: LoginOutput, **error_responses(400, 429)},
                   description="A token for the user who asked for the code; the code is used "
                               "up. 400 `browser_code_invalid`: wrong, used or expired (one "
                               "answer for all three). 429 `throttled` (per address, "
                               "`THROTTLE_BROWSER_CODE`) or `browser_codes_locked` (too many "
                               "wrong codes from everyone this minute).")
    def post(self, request):
        data = BrowserCodeRedeemInput(data=request.data)
        data.is_valid(raise_exception=True)
        login = browser_code.browser_code_redeem(code=data.validated_data["code"])
        return Response(LoginOutput(login).data)
