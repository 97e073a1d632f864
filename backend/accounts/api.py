"""POST /auth/wechat and POST /auth/dev."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.accounts import services


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


class WechatLoginApi(_LoginView):
    class Input(serializers.Serializer):
        code = serializers.CharField(max_length=128)

    @extend_schema(request=Input, responses=LoginOutput)
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.login_wechat(code=data.validated_data["code"])
        return Response(LoginOutput(login).data)


class DevLoginApi(_LoginView):
    class Input(serializers.Serializer):
        openid = serializers.RegexField(r"^[A-Za-z0-9_\-]{1,64}$")

    @extend_schema(request=Input, responses=LoginOutput)
    def post(self, request):
        data = self.Input(data=request.data)
        data.is_valid(raise_exception=True)
        login = services.login_dev(openid=data.validated_data["openid"])
        return Response(LoginOutput(login).data)
