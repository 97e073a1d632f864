"""SillyTavern-extras' routes, so SillyTavern can use us as its Extras server: modules,
talkinghead (load, unload, start/stop talking, emotion, templates, animator settings) and
classify. Authenticated by our token; SillyTavern sends its Extras API key as ``Bearer``. The
result feed is backend/talking/feed.py, outside Django."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.parsers import SafeJSONParser
from backend.talking.character import (character_animator, character_get, character_load,
                                       character_unload, character_update)
from backend.talking.classify import classify_text
from core.errors import BadRequest, error_responses
from inference.talking import known_emotions

MODULES = ["talkinghead", "classify"]


def _status(state: dict, **extra) -> dict:
    return {"emotion": state["emotion"], "talking": state["talking"],
            "animator": state["animator"], **extra}


StatusOutput = inline_serializer("TalkingheadStatus", fields={
    "emotion": serializers.CharField(), "talking": serializers.BooleanField(),
    "animator": serializers.DictField()})


class ModulesApi(APIView):
    @extend_schema(responses={200: inline_serializer("Modules", fields={
        "modules": serializers.ListField(child=serializers.CharField())}),
        **error_responses(401)})
    def get(self, request):
        return Response({"modules": MODULES})


class LoadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "upload"

    @extend_schema(request={"multipart/form-data": inline_serializer("TalkingheadLoad", fields={
        "file": serializers.FileField(help_text="a picture with one face; RGBA welcome")})},
        responses={200: StatusOutput, **error_responses(400, 401, 413, 415, 422)})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise BadRequest("Send the picture as the multipart field 'file'.",
                             code="file_required")
        state = character_load(user=request.user, data=upload.read())
        return Response(_status(state, face=state["face"]))


class UnloadApi(APIView):
    @extend_schema(responses={200: inline_serializer("TalkingheadUnloaded", fields={
        "unloaded": serializers.BooleanField()}), **error_responses(401)})
    def get(self, request):
        had = character_get(user_id=request.user.pk) is not None
        character_unload(user_id=request.user.pk)
        return Response({"unloaded": had})


class TalkingApi(APIView):
    talking = True

    @extend_schema(responses={200: StatusOutput, **error_responses(401, 404)})
    def get(self, request):
        return Response(_status(character_update(user_id=request.user.pk,
                                                 talking=self.talking)))


class EmotionApi(APIView):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=inline_serializer("TalkingheadEmotion", fields={
        "emotion_name": serializers.ChoiceField(choices=known_emotions())}),
        responses={200: StatusOutput, **error_responses(400, 401, 404)})
    def post(self, request):
        if "emotion_name" not in request.data:
            raise BadRequest("Send {\"emotion_name\": ...}.", code="emotion_required")
        return Response(_status(character_update(user_id=request.user.pk,
                                                 emotion=request.data["emotion_name"])))


class EmotionTemplatesApi(APIView):
    """THA3 morph values per emotion: checked (known emotions, numeric values) and accepted;
    a mesh warp has no THA3 morphs, so our own faces for those emotions stay."""

    parser_classes = [SafeJSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: inline_serializer(
        "TalkingheadTemplates", fields={"accepted": serializers.ListField(
            child=serializers.CharField())}), **error_responses(400, 401)})
    def post(self, request):
        names = known_emotions()
        for name, morphs in request.data.items():
            if name not in names:
                raise BadRequest(f"Unknown emotion {name!r}: use one of {', '.join(names)}.",
                                 code="unknown_emotion")
            if not isinstance(morphs, dict) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in morphs.values()):
                raise BadRequest(f"{name}: send an object of morph names to numbers.",
                                 code="invalid_templates")
        return Response({"accepted": sorted(request.data)})


class AnimatorSettingsApi(APIView):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: inline_serializer(
        "TalkingheadAnimator", fields={"applied": serializers.DictField(),
                                       "ignored": serializers.ListField(
                                           child=serializers.CharField())}),
        **error_responses(400, 401, 404)})
    def post(self, request):
        applied, ignored = character_animator(user_id=request.user.pk, changes=request.data)
        return Response({"applied": applied, "ignored": ignored})


class ClassifyApi(APIView):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=inline_serializer("ClassifyInput", fields={
        "text": serializers.CharField(max_length=2000)}),
        responses={200: inline_serializer("Classification", fields={
            "classification": serializers.ListField(child=serializers.DictField())}),
        **error_responses(400, 401)})
    def post(self, request):
        text = request.data.get("text")
        if not isinstance(text, str) or len(text) > 2000:
            raise BadRequest("Send {\"text\": \"...\"}, at most 2000 characters.",
                             code="text_required")
        return Response({"classification": classify_text(text)})
