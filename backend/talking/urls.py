"""SillyTavern-extras' paths, under /api/ as its client calls them."""
from django.urls import path

from backend.talking import api

urlpatterns = [
    path("modules", api.ModulesApi.as_view(), name="extras-modules"),
    path("classify", api.ClassifyApi.as_view(), name="extras-classify"),
    path("talkinghead/load", api.LoadApi.as_view(), name="talkinghead-load"),
    path("talkinghead/unload", api.UnloadApi.as_view(), name="talkinghead-unload"),
    path("talkinghead/start_talking", api.TalkingApi.as_view(talking=True),
         name="talkinghead-start"),
    path("talkinghead/stop_talking", api.TalkingApi.as_view(talking=False),
         name="talkinghead-stop"),
    path("talkinghead/set_emotion", api.EmotionApi.as_view(), name="talkinghead-emotion"),
    path("talkinghead/load_emotion_templates", api.EmotionTemplatesApi.as_view(),
         name="talkinghead-templates"),
    path("talkinghead/load_animator_settings", api.AnimatorSettingsApi.as_view(),
         name="talkinghead-animator"),
]
