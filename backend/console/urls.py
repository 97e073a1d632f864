from django.urls import path
from django.views.i18n import set_language

from backend.console import views

urlpatterns = [
    path("", views.queue, name="console-queue"),
    path("decided", views.decided, name="console-decided"),
    path("words", views.words, name="console-words"),
    path("words/<int:word_id>/remove", views.word_remove, name="console-word-remove"),
    path("login", views.ConsoleLogin.as_view(), name="console-login"),
    path("logout", views.ConsoleLogout.as_view(), name="console-logout"),
    path("language", set_language, name="console-language"),
]
