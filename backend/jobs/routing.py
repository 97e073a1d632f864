"""Websocket routes (the consumers live in backend.jobs.consumers)."""
websocket_urlpatterns: list = []
