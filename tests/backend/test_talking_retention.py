"""The live talking head's stored pictures under the 72-hour rule (#14): retention deletes a
character's picture RETENTION_HOURS after it was loaded and forgets the character; replacing or
unloading a character deletes its old picture at once; DELETE /me deletes it all."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from backend.jobs.housekeeping import purge_expired
from backend.talking.character import character_get
from backend.talking.models import CharacterPicture, ExtrasKey
from core.storage import get_storage
from tests.backend.test_talking_api import _no_earlier_characters  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def extras_client(api) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.login['token']}")
    return client


def load(client: APIClient, picture: bytes):
    response = client.post("/api/talkinghead/load",
                           {"file": SimpleUploadedFile("c.jpg", picture)}, format="multipart")
    assert response.status_code == 200, response.content
    return response


def test_a_characters_picture_is_deleted_retention_hours_after_it_was_loaded(
        login, astronaut_jpeg, settings):
    api = login()
    load(extras_client(api), astronaut_jpeg)
    picture = CharacterPicture.objects.get(owner_id=api.user_id)
    assert character_get(user_id=api.user_id)["image_key"] == picture.storage_key
    expected = picture.created_at + timedelta(hours=settings.RETENTION_HOURS)
    assert abs((picture.expires_at - expected).total_seconds()) < 5
    storage = get_storage()

    early = purge_expired(now=picture.expires_at - timedelta(minutes=1))
    assert early.character_pictures == 0 and storage.exists(picture.storage_key)
    assert character_get(user_id=api.user_id) is not None

    late = purge_expired(now=picture.expires_at + timedelta(minutes=1))
    assert (late.character_pictures, late.failures) == (1, [])
    assert not storage.exists(picture.storage_key)
    assert not CharacterPicture.objects.filter(pk=picture.pk).exists()
    assert character_get(user_id=api.user_id) is None  # its feeds end; start_talking is 404
    assert extras_client(api).get("/api/talkinghead/start_talking").status_code == 404


def test_a_picture_retention_could_not_delete_is_tried_again(login, astronaut_jpeg,
                                                             monkeypatch):
    api = login()
    load(extras_client(api), astronaut_jpeg)
    picture = CharacterPicture.objects.get(owner_id=api.user_id)
    storage = get_storage()
    real_delete = type(storage).delete

    def failing(self, key):
        raise OSError("storage is down")

    monkeypatch.setattr(type(storage), "delete", failing)
    report = purge_expired(now=picture.expires_at + timedelta(minutes=1))
    assert report.character_pictures == 0 and len(report.failures) == 1
    assert CharacterPicture.objects.filter(pk=picture.pk).exists()
    monkeypatch.setattr(type(storage), "delete", real_delete)
    assert purge_expired(now=picture.expires_at + timedelta(minutes=1)).character_pictures == 1
    assert not storage.exists(picture.storage_key)


def test_a_replaced_or_unloaded_character_leaves_no_picture(login, astronaut_jpeg):
    api = login()
    client = extras_client(api)
    load(client, astronaut_jpeg)
    first = CharacterPicture.objects.get(owner_id=api.user_id).storage_key
    load(client, astronaut_jpeg)
    second = CharacterPicture.objects.get(owner_id=api.user_id).storage_key
    storage = get_storage()
    assert second != first and not storage.exists(first) and storage.exists(second)
    assert client.get("/api/talkinghead/unload").json() == {"unloaded": True}
    assert not storage.exists(second)
    assert not CharacterPicture.objects.filter(owner_id=api.user_id).exists()


def test_deleting_the_account_deletes_the_character_and_its_key(login, astronaut_jpeg):
    api = login()
    client = extras_client(api)
    load(client, astronaut_jpeg)
    assert api.post("/talking/extras-key").status_code == 201
    key = CharacterPicture.objects.get(owner_id=api.user_id).storage_key

    assert api.client.delete("/me").status_code == 204
    assert not get_storage().exists(key)
    assert character_get(user_id=api.user_id) is None
    assert not CharacterPicture.objects.filter(owner_id=api.user_id).exists()
    assert not ExtrasKey.objects.filter(owner_id=api.user_id).exists()
