"""SillyTavern-extras' routes, so SillyTavern can use us as its Extras server: modules,
talkinghead (load, unload, start/stop talking, emotion, templates, animator settings) and
classify. Authenticated by an Extras key (backend/talking/keys.py: as the bearer, or in the
``/st/<key>/`` prefix) or by our token; SillyTavern sends its Extras API key as ``Bearer``. The
result feed is backend/talking/feed.py, outside Django. ``/talking/extras-key`` issues and
revokes the key, with the token only."""
from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from backend.accounts.auth import BearerTokenAuthentication
from backend.parsers import SafeJSONParser
from backend.talking.character import (character_animator, character_get, character_load,
                                       character_unload, character_update)
from backend.talking.classify import classify_text
from backend.talking.keys import ExtrasKeyAuthentication, extras_key_issue, extras_key_revoke
from backend.talking.models import ExtrasKey
from core.errors import BadRequest, NotFound, error_responses
from inference.talking import known_emotions

MODULES = ["talkinghead", "classify"]


def _status(state: dict, **extra) -> dict:
    return {"emotion": state["emotion"], "talking": state["talking"],
            "animator": state["animator"], **extra}


StatusOutput = inline_serializer("TalkingheadStatus", fields={
    "emotion": serializers.CharField(), "talking": serializers.BooleanField(),
    "animator": serializers.DictField()})


class ExtrasApi(APIView):
    """A route of SillyTavern-extras': an Extras key or an API token."""

    authentication_classes = [ExtrasKeyAuthentication, BearerTokenAuthentication]


class ModulesApi(ExtrasApi):
    @extend_schema(responses={200: inline_serializer("Modules", fields={
        "modules": serializers.ListField(child=serializers.CharField())}),
        **error_responses(401)})
    def get(self, request):
        return Response({"modules": MODULES})


class LoadApi(ExtrasApi):
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "upload"

    @extend_schema(request={"multipart/form-data": inline_serializer("TalkingheadLoad", fields={
        "file": serializers.FileField(help_text="a picture with one face; RGBA welcome")})},
        responses={200: StatusOutput, **error_responses(400, 401, 413, 415, 422)})
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None:
            raise BadRequest(_("Send the picture as the multipart field 'file'."),
                             code="file_required")
        state = character_load(user=request.user, data=upload.read())
        return Response(_status(state, face=state["face"]))


class UnloadApi(ExtrasApi):
    @extend_schema(responses={200: inline_serializer("TalkingheadUnloaded", fields={
        "unloaded": serializers.BooleanField()}), **error_responses(401)})
    def get(self, request):
        had = character_get(user_id=request.user.pk) is not None
        character_unload(user_id=request.user.pk)
        return Response({"unloaded": had})


class TalkingApi(ExtrasApi):
    talking = True

    @extend_schema(responses={200: StatusOutput, **error_responses(401, 404)})
    def get(self, request):
        return Response(_status(character_update(user_id=request.user.pk,
                                                 talking=self.talking)))


class EmotionApi(ExtrasApi):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=inline_serializer("TalkingheadEmotion", fields={
        "emotion_name": serializers.ChoiceField(choices=known_emotions())}),
        responses={200: StatusOutput, **error_responses(400, 401, 404)})
    def post(self, request):
        if "emotion_name" not in request.data:
            raise BadRequest(_("Send {\"emotion_name\": ...}."), code="emotion_required")
        return Response(_status(character_update(user_id=request.user.pk,
                                                 emotion=request.data["emotion_name"])))


class EmotionTemplatesApi(ExtrasApi):
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
                raise BadRequest(_("Unknown emotion %(name)s: use one of %(names)s.")
                                 % {"name": repr(name), "names": ", ".join(names)},
                                 code="unknown_emotion")
            if not isinstance(morphs, dict) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool)
                    for v in morphs.values()):
                raise BadRequest(_("%(name)s: send an object of morph names to numbers.")
                                 % {"name": name},
                                 code="invalid_templates")
        return Response({"accepted": sorted(request.data)})


class AnimatorSettingsApi(ExtrasApi):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: inline_serializer(
        "TalkingheadAnimator", fields={"applied": serializers.DictField(),
                                       "ignored": serializers.ListField(
                                           child=serializers.CharField())}),
        **error_responses(400, 401, 404)})
    def post(self, request):
        applied, ignored = character_animator(user_id=request.user.pk, changes=request.data)
        return Response({"applied": applied, "ignored": ignored})


class ClassifyApi(ExtrasApi):
    parser_classes = [SafeJSONParser]

    @extend_schema(request=inline_serializer("ClassifyInput", fields={
        "text": serializers.CharField(max_length=2000)}),
        responses={200: inline_serializer("Classification", fields={
            "classification": serializers.ListField(child=serializers.DictField())}),
        **error_responses(400, 401)})
    def post(self, request):
        text = request.data.get("text")
        if not isinstance(text, str) or len(text) > 2000:
            raise BadRequest(_("Send {\"text\": \"...\"}, at most 2000 characters."),
                             code="text_required")
        return Response({"classification": classify_text(text)})


KeyOutput = inline_serializer("ExtrasKey", fields={
    "hint": serializers.CharField(help_text="the key's first characters"),
    "created_at": serializers.DateTimeField()})
IssuedKeyOutput = inline_serializer("ExtrasKeyIssued", fields={
    "key": serializers.CharField(help_text="shown once: SillyTavern's Extras API key"),
    "extras_url": serializers.CharField(help_text="SillyTavern's Extras URL; every Extras "
                                                  "route, the live feed included, works under it"),
    "hint": serializers.CharField(), "created_at": serializers.DateTimeField()})


class ExtrasKeyApi(APIView):
    """The user's Extras key, by their API token only (a key cannot renew or revoke itself)."""

    @extend_schema(request=None, responses={201: IssuedKeyOutput, **error_responses(401)},
                   description="Issues a new Extras key, revoking the previous one (its URL and "
                               "feeds stop). Give SillyTavern `extras_url` as its Extras URL and "
                               "`key` as its Extras API key.")
    def post(self, request):
        key, row = extras_key_issue(user=request.user)
        url = request.build_absolute_uri(f"/st/{key}")
        return Response({"key": key, "extras_url": url, "hint": row.hint,
                         "created_at": row.created_at}, status=201)

    @extend_schema(responses={200: KeyOutput, **error_responses(401, 404)})
    def get(self, request):
        row = ExtrasKey.objects.filter(owner=request.user).first()
        if row is None:
            raise NotFound(_("You have no Extras key; POST here to get one."),
                           code="no_extras_key")
        return Response({"hint": row.hint, "created_at": row.created_at})

    @extend_schema(responses={204: None, **error_responses(401, 404)},
                   description="Revokes the key: its URL and bearer are refused at once, and its "
                               "open feeds end within seconds.")
    def delete(self, request):
        if not extras_key_revoke(user=request.user):
            raise NotFound(_("You have no Extras key."), code="no_extras_key")
        return Response(status=204)
