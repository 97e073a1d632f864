"""The web client's one page, at ``/`` exactly: its screens are hash routes (``/#/sticker``),
so no path of the API is shadowed."""
from django.urls import path

from backend.web import views

urlpatterns = [
    path("", views.client, name="web-client"),
]
