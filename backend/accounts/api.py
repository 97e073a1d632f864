"""POST /auth/wechat, POST /auth/dev and DELETE /me."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.accounts import services
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
