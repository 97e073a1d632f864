"""The uploads' routes, included at the root."""
from django.urls import path

from backend.uploads.api import UploadApi, UploadDetailApi, UploadListApi

urlpatterns = [
    path("upload", UploadApi.as_view(), name="upload"),
    path("uploads", UploadListApi.as_view(), name="upload-list"),
    path("uploads/<uuid:upload_id>", UploadDetailApi.as_view(), name="upload-detail"),
]
