"""Object storage against the real thing: the S3 server in the services stack, a folder embedded."""
from __future__ import annotations

import urllib.request

import pytest
from django.conf import settings

from core.storage import LocalStorage, get_storage


def test_put_get_delete_roundtrip():
    storage = get_storage()
    storage.put("u/1/test/roundtrip.bin", b"\x00payload", "application/octet-stream")
    assert storage.exists("u/1/test/roundtrip.bin")
    assert storage.get("u/1/test/roundtrip.bin") == b"\x00payload"
    storage.delete("u/1/test/roundtrip.bin")
    assert not storage.exists("u/1/test/roundtrip.bin")
    with pytest.raises(KeyError):
        storage.get("u/1/test/roundtrip.bin")


@pytest.mark.skipif(not settings.S3_ENDPOINT, reason="S3 only in the services stack")
@pytest.mark.services
def test_s3_presigned_url_serves_the_object_and_bucket_has_lifecycle():
    storage = get_storage()
    storage.put("u/1/test/shared.txt", b"hello", "text/plain")
    url = storage.share_url("u/1/test/shared.txt", 60, content_type="text/plain")
    assert "X-Amz-Signature" in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"hello"
    rules = storage.client.get_bucket_lifecycle(storage.bucket).rules
    assert [r.rule_id for r in rules] == ["retention-backstop"]
    assert rules[0].expiration.days >= 3
    storage.delete("u/1/test/shared.txt")


def test_local_keys_cannot_escape_the_root(tmp_path):
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(Exception):
        storage.put("../outside.txt", b"x", "text/plain")
    assert not (tmp_path / "outside.txt").exists()


def test_a_local_disk_that_refuses_writes_is_a_storage_error(tmp_path):
    """A full or read-only disk reaches the callers as StorageError (they answer 503), and
    leaves no half-written file behind."""
    import os

    from core.storage import StorageError

    root = tmp_path / "root"
    storage = LocalStorage(root)
    storage.put("u/1/a.txt", b"x", "text/plain")
    if os.geteuid() == 0:
        # root writes through permission bits: take the folder's place with a file instead.
        (root / "u" / "2").parent.mkdir(parents=True, exist_ok=True)
        (root / "u" / "2").write_bytes(b"not a folder")
        blocked = "u/2/b.txt"
    else:
        (root / "u" / "1").chmod(0o500)
        blocked = "u/1/b.txt"
    with pytest.raises(StorageError):
        storage.put(blocked, b"y", "text/plain")
    assert storage.get("u/1/a.txt") == b"x"
    assert not any(p.name.endswith(".part") for p in root.rglob("*"))


@pytest.mark.django_db
def test_local_share_link_is_signed_and_expires(tmp_path):
    from rest_framework.test import APIClient

    storage = LocalStorage(tmp_path)
    storage.put("u/1/a.png", b"png-bytes", "image/png")
    url = storage.share_url("u/1/a.png", 60, content_type="image/png")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    assert LocalStorage.read_share_token(token)["k"] == "u/1/a.png"
    assert LocalStorage.read_share_token(token[:-2] + "xx") is None
    assert LocalStorage.read_share_token(storage.share_url("u/1/a.png", -1).rsplit("/", 1)[-1]) is None
    if isinstance(get_storage(), LocalStorage):
        assert APIClient().get("/files/" + token[:-2] + "xx").status_code == 404
