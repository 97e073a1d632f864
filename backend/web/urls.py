"""The web client's one page, at ``/`` exactly: its screens are hash routes (``/#/sticker``),
so no path of the API is shadowed. Also ``/favicon.ico``, which browsers ask for on pages that
name no icon (the admin's)."""
from django.urls import path

from backend.web import views

urlpatterns = [
    path("", views.client, name="web-client"),
    path("favicon.ico", views.favicon, name="favicon"),
]
