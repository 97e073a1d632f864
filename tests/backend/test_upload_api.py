"""POST /upload end to end: hostile files refused with a code and nothing stored; odd but valid
files stored upright, 8-bit and clean; URL uploads only to allowed addresses."""
from __future__ import annotations

import io
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from core.storage import get_storage
from backend.uploads.models import Upload
from tests.backend import hostile_images as hostile
from tests.backend.test_fetch import serve

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("make, status, code", [
    (hostile.truncated_jpeg, 400, "corrupt_image"),
    (lambda: b"", 400, "empty_file"),
    (lambda: b"just some text, renamed .jpg", 415, "unsupported_format"),
    (lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', 415, "unsupported_format"),
    (hostile.png_pixel_bomb, 413, "too_many_pixels"),
    (hostile.gif_pixel_bomb, 413, "too_many_pixels"),
    (lambda: hostile.png_pixel_bomb(100_000, 1), 413, "too_many_pixels"),
    (hostile.tiff, 415, "unsupported_format"),
])
def test_hostile_files_are_refused_and_nothing_is_stored(login, make, status, code):
    api = login()
    response = api.upload(make(), "photo.jpg")
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert not Upload.objects.exists()


def stored_image(body: dict) -> Image.Image:
    upload = Upload.objects.get(id=body["id"])
    image = Image.open(io.BytesIO(get_storage().get(upload.storage_key)))
    image.load()
    return image


def test_exif_rotated_photo_is_stored_upright_without_metadata(login):
    source = Image.open(io.BytesIO(hostile.exif_rotated_jpeg()))
    response = login().upload(hostile.exif_rotated_jpeg())
    assert response.status_code == 201, response.content
    image = stored_image(response.json())
    # Orientation 6 turns the stored landscape pixels into a portrait picture.
    assert image.size == (source.height, source.width)
    assert image.getexif() == {} and "icc_profile" not in image.info


@pytest.mark.parametrize("make, source_format", [
    (hostile.cmyk_jpeg, "jpeg"),
    (lambda: hostile.png16_rgb([(65535, 0, 0)] * 4), "png"),
    (lambda: hostile.png16_gray([0, 32768, 65535, 65535]), "png"),
    (hostile.animated_gif, "gif"),
])
def test_odd_but_valid_files_are_stored_as_8bit_rgb(login, make, source_format):
    response = login().upload(make())
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source_format"] == source_format
    image = stored_image(body)
    assert image.mode in {"RGB", "RGBA"} and (image.width, image.height) == (body["width"], body["height"])


def test_the_file_field_takes_photos_too(login):
    photo = hostile.encode(hostile.photo((30, 20)), "PNG")
    response = login().client.post("/upload", {"file": SimpleUploadedFile("a.png", photo)},
                                   format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["width"], body["height"]) == ("image", 30, 20)
    assert body["duration"] is None
    stored = get_storage().get(Upload.objects.get(id=body["id"]).storage_key)
    assert body["size_bytes"] == len(stored)


def test_a_photo_at_the_pixel_limit_is_stored_at_the_working_size(login, settings):
    # 11999x3333: just under 40 megapixels, a 39 KB file that decodes to 120 MB.
    response = login().upload(hostile.encode(hostile.photo((11999, 3333)), "PNG"), "wide.png")
    assert response.status_code == 201, response.content
    body = response.json()
    side = settings.UPLOAD_WORKING_SIDE
    assert (body["width"], body["height"]) == (side, round(3333 * side / 11999))
    assert stored_image(body).size == (body["width"], body["height"])


@pytest.fixture
def image_server():
    server = serve()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_url_upload_from_an_allowed_server(login, settings, image_server):
    settings.UPLOAD_URL_ALLOW_NETWORKS = ["127.0.0.1/32"]
    response = login().post("/upload", {"url": f"{image_server}/image.png"})
    assert response.status_code == 201, response.content
    assert Upload.objects.get(id=response.json()["id"]).source_url.endswith("/image.png")


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/a.jpg", "http://10.0.0.1/a.jpg", "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/a.jpg", "file:///etc/passwd", "ftp://example.com/a.jpg",
])
def test_url_uploads_to_private_addresses_are_refused_before_connecting(login, monkeypatch, url):
    real_connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] not in {"127.0.0.1", "::1"}:
            raise AssertionError(f"a connection to {address} was opened")
        if isinstance(address, tuple) and address[1] == 80:
            raise AssertionError(f"a connection to {address} was opened")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    response = login().post("/upload", {"url": url})
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] in {"url_not_allowed", "url_scheme_not_allowed"}
    assert not Upload.objects.exists()


def test_redirect_to_a_metadata_address_is_refused(login, settings, monkeypatch, image_server):
    settings.UPLOAD_URL_ALLOW_NETWORKS = ["127.0.0.1/32"]
    real_connect = socket.socket.connect
    attempts = []

    def guarded(self, address):
        attempts.append(address)
        if isinstance(address, tuple) and address[0] == "169.254.169.254":
            raise AssertionError("the metadata address was contacted")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    url = f"{image_server}/redirect?to=http://169.254.169.254/latest/meta-data/"
    response = login().post("/upload", {"url": url})
    assert response.status_code == 400 and response.json()["error"]["code"] == "url_not_allowed"
    assert not any(a[0] == "169.254.169.254" for a in attempts if isinstance(a, tuple))
    assert not Upload.objects.exists()


def test_an_upload_says_how_many_faces_it_shows(login, astronaut_jpeg):
    """A client can say "no face" (or "pick one") before a job is queued."""
    import numpy as np
    from skimage import data

    api = login()
    one = api.upload(astronaut_jpeg).json()
    assert one["faces"] == 1 and Upload.objects.get(id=one["id"]).faces == 1
    two = np.concatenate([data.astronaut(), data.astronaut()[:, ::-1]], axis=1)
    buffer = io.BytesIO()
    Image.fromarray(two).save(buffer, "JPEG", quality=90)
    assert api.upload(buffer.getvalue()).json()["faces"] == 2
    sky = np.zeros((300, 400, 3), np.uint8)
    sky[:] = np.linspace(80, 220, 400, dtype=np.uint8)[None, :, None]
    buffer = io.BytesIO()
    Image.fromarray(sky).save(buffer, "PNG")
    assert api.upload(buffer.getvalue()).json()["faces"] == 0
    listed = {u["id"]: u["faces"] for u in api.get("/uploads").json()["results"]}
    assert listed[one["id"]] == 1
