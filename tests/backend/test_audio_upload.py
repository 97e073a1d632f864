"""Recordings through POST /upload, end to end: every container the mini-program may send,
made here by the same ffmpeg, stored as 16 kHz mono WAV of the right length; disguised, cut
short, silent or over-long files refused with a code and nothing stored; GET /uploads and
DELETE /uploads/{id} on the user's own uploads only."""
from __future__ import annotations

import io
import socket
import subprocess
import tempfile
import wave
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.uploads.audio import ffmpeg_path, sniff_audio_format
from backend.uploads.models import Upload
from core.storage import get_storage, reset_storage
from tests.backend import hostile_images as hostile
from tests.backend.test_fetch import serve
from tests.moderation.test_wechat import wechat  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

TONE_HZ, SECONDS = 440, 2.5
# Container -> what ffmpeg is asked for (the sample rate each codec takes).
RECORDINGS = {
    "mp3": (44100, ["-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"]),
    "m4a": (44100, ["-c:a", "aac", "-b:a", "64k", "-f", "ipod"]),  # brand "M4A "
    "mp4": (44100, ["-c:a", "aac", "-b:a", "64k", "-f", "mp4"]),  # brand "isom"
    "aac": (44100, ["-c:a", "aac", "-b:a", "64k", "-f", "adts"]),
    "wav": (44100, ["-c:a", "pcm_s16le", "-f", "wav"]),
    "opus": (48000, ["-c:a", "libopus", "-f", "ogg"]),
    "vorbis": (44100, ["-c:a", "libvorbis", "-f", "ogg"]),
    "webm": (48000, ["-c:a", "libopus", "-f", "webm"]),
    "amr": (8000, ["-c:a", "libopencore_amrnb", "-b:a", "12.2k", "-f", "amr"]),
}


def recording(kind: str, seconds: float = SECONDS,
              source: str = f"sine=frequency={TONE_HZ}") -> bytes:
    """A tone (or any lavfi ``source``) of ``seconds`` in the container of ``kind``."""
    rate, codec = RECORDINGS[kind]
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"recording.{kind}"  # a file: MP4 goes back to write its index
        subprocess.run([ffmpeg_path(), "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                        f"{source}:sample_rate={rate}:duration={seconds}", "-ac", "1", *codec,
                        str(out)], check=True)
        return out.read_bytes()


def empty_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
    return buffer.getvalue()


@pytest.mark.parametrize("head, container", [
    (b"ID3\x04\0", "mp3"), (b"\xff\xfb\x90\x00", "mp3"), (b"\xff\xf3\x48\xc4", "mp3"),
    (b"\xff\xf1\x50\x80", "aac"), (b"\xff\xf9\x50\x80", "aac"),
    (b"\0\0\0\x1cftypM4A \0", "m4a"), (b"\0\0\0\x20ftypisom", "m4a"),
    (b"\0\0\0\x20ftypmp42", "m4a"), (b"\0\0\0\x20ftypheic", None),
    (b"RIFF\0\0\0\0WAVEfmt ", "wav"), (b"RIFF\0\0\0\0WEBPVP8 ", None),
    (b"OggS\0\x02", "ogg"), (b"\x1a\x45\xdf\xa3\x9f", "webm"),
    (b"#!AMR\n<", "amr"), (b"#!AMR-WB\n", "amr"), (b"#!AMR-XX\n", None),
    (b"#!SILK_V3", "silk"), (b"\x02#!SILK_V3", "silk"),
    (b"\xff\xd8\xff\xe0", None), (b"\xff\xe0\0\0", None), (b"", None), (b"<svg", None),
])
def test_the_container_is_sniffed_from_the_magic_bytes(head, container):
    assert sniff_audio_format(head) == container


def send(api, data: bytes, name: str = "voice.mp3", content_type: str = "audio/mpeg",
         field: str = "file", **extra):
    return api.client.post("/upload", {field: SimpleUploadedFile(name, data, content_type)},
                           format="multipart", **extra)


def stored_keys(user_id) -> list[str]:
    """Every object stored under the user's prefix, listed from the store itself."""
    storage, prefix = get_storage(), f"u/{user_id}/"
    if storage.kind == "s3":
        return [item.object_name for item in
                storage.client.list_objects(storage.bucket, prefix=prefix, recursive=True)]
    root = Path(django_settings.MEDIA_ROOT)
    return [str(path.relative_to(root)) for path in (root / prefix).rglob("*") if path.is_file()]


@pytest.fixture
def login(login):
    """``login()`` that notes what the store already holds under the new user's prefix: user
    ids start again with each test database, and the services stack's bucket outlives it."""
    def make(*args, **kwargs):
        api = login(*args, **kwargs)
        api.keys_before = set(stored_keys(api.user_id))
        return api

    return make


def new_keys(api) -> set[str]:
    return set(stored_keys(api.user_id)) - api.keys_before


def assert_nothing_stored(api) -> None:
    assert not Upload.objects.filter(owner_id=api.user_id).exists()
    assert new_keys(api) == set()


@pytest.mark.parametrize("kind, source_format", [
    ("mp3", "mp3"), ("m4a", "m4a"), ("mp4", "m4a"), ("aac", "aac"), ("wav", "wav"),
    ("opus", "ogg"), ("vorbis", "ogg"), ("webm", "webm"), ("amr", "amr"),
])
def test_each_container_is_stored_as_16khz_mono_wav(login, kind, source_format):
    api = login()
    response = send(api, recording(kind), name="voice.bin", content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["source_format"], body["format"]) == ("audio", source_format, "wav")
    assert body["duration"] == pytest.approx(SECONDS, abs=0.1)
    assert body["width"] is None and body["height"] is None
    upload = Upload.objects.get(id=body["id"])
    assert upload.storage_key.startswith(f"u/{api.user_id}/uploads/")
    assert (upload.content_type, upload.width, upload.height) == ("audio/wav", 0, 0)
    stored = get_storage().get(upload.storage_key)
    assert body["size_bytes"] == len(stored)
    with wave.open(io.BytesIO(stored)) as clean:
        assert (clean.getnchannels(), clean.getframerate(), clean.getsampwidth()) == (1, 16000, 2)
        samples = np.frombuffer(clean.readframes(clean.getnframes()), "<i2")
    assert len(samples) / 16000 == pytest.approx(body["duration"], abs=0.001)
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    assert np.argmax(spectrum) * 16000 / len(samples) == pytest.approx(TONE_HZ, abs=5)


def cut(data: bytes, fraction: float = 0.5) -> bytes:
    return data[:int(len(data) * fraction) + 1]


@pytest.mark.parametrize("make, content_type, status, code", [
    (lambda: b"ID3 just some text, sent as audio/mpeg", "audio/mpeg", 400, "corrupt_audio"),
    (lambda: b"just some text, sent as audio/mpeg", "audio/mpeg", 415, "unsupported_format"),
    (lambda: b"RIFF\0\0\0\0WAVE" + bytes(range(256)) * 40, "audio/wav", 400, "corrupt_audio"),
    (lambda: recording("wav")[:60] + bytes(range(256)) * 40, "audio/wav", 400, "corrupt_audio"),
    (lambda: cut(recording("mp3")), "audio/mpeg", 400, "corrupt_audio"),
    (lambda: cut(recording("opus")), "audio/ogg", 400, "corrupt_audio"),
    (lambda: cut(recording("vorbis"), 0.8), "audio/ogg", 400, "corrupt_audio"),
    (lambda: cut(recording("webm")), "audio/webm", 400, "corrupt_audio"),
    (lambda: cut(recording("m4a")), "audio/mp4", 400, "corrupt_audio"),
    (lambda: cut(recording("amr")), "audio/amr", 400, "corrupt_audio"),
    (lambda: b"\xff\xfb\x90\x00" + bytes(range(256)) * 40, "audio/mpeg", 400, "corrupt_audio"),
    (lambda: b"\x02#!SILK_V3" + bytes(range(256)) * 4, "audio/silk", 415, "unsupported_format"),
    (lambda: recording("wav", source="anullsrc=channel_layout=mono"), "audio/wav", 400,
     "audio_empty"),
    (empty_wav, "audio/wav", 400, "audio_empty"),
])
def test_disguised_or_broken_recordings_are_refused_and_nothing_is_stored(
        login, make, content_type, status, code):
    api = login()
    response = send(api, make(), content_type=content_type)
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code
    assert_nothing_stored(api)


def test_silk_is_refused_saying_what_to_record_instead(login):
    response = send(login(), b"\x02#!SILK_V3" + bytes(100), name="voice.silk")
    assert response.status_code == 415
    assert "SILK" in response.json()["error"]["message"]


def test_a_jpeg_named_mp3_is_taken_for_what_its_bytes_are(login):
    response = send(login(), hostile.encode(hostile.photo((64, 48)), "JPEG"), name="voice.mp3")
    assert response.status_code == 201, response.content
    assert (response.json()["kind"], response.json()["width"]) == ("image", 64)


def test_a_recording_over_the_limit_is_refused_naming_it(login, settings):
    settings.AUDIO_MAX_SECONDS = 2
    api = login()
    response = send(api, recording("mp3", seconds=5), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413, response.content
    error = response.json()["error"]
    assert error["code"] == "audio_too_long" and "2 seconds" in error["message"]
    assert_nothing_stored(api)
    assert send(api, recording("mp3", seconds=1.9)).status_code == 201


def test_a_recording_over_the_byte_limit_is_refused_before_decoding(login, settings):
    settings.AUDIO_MAX_BYTES = 10_000
    api = login()
    response = send(api, recording("wav"))
    assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
    assert_nothing_stored(api)


def test_one_file_field_at_a_time(login):
    photo = hostile.encode(hostile.photo((8, 8)), "PNG")
    response = login().client.post("/upload", {
        "file": SimpleUploadedFile("a.png", photo), "image": SimpleUploadedFile("b.png", photo)},
        format="multipart")
    assert response.status_code == 400 and response.json()["error"]["code"] == "too_many_files"


def test_the_list_holds_my_unexpired_uploads_newest_first(login):
    me, other = login(), login()
    photo = send(me, hostile.encode(hostile.photo((40, 30)), "PNG"), field="image").json()
    voice = send(me, recording("amr")).json()
    expired = send(me, recording("wav")).json()
    Upload.objects.filter(id=expired["id"]).update(expires_at=timezone.now() - timedelta(1))
    send(other, recording("mp3"))

    page = me.get("/uploads").json()
    assert page["count"] == 2
    assert [item["id"] for item in page["results"]] == [voice["id"], photo["id"]]
    listed_voice, listed_photo = page["results"]
    assert listed_voice["kind"] == "audio"
    assert listed_voice["duration"] == pytest.approx(2.5, abs=0.1)
    assert listed_voice["size_bytes"] == voice["size_bytes"] and listed_voice["width"] is None
    assert (listed_photo["kind"], listed_photo["width"], listed_photo["height"]) == ("image", 40,
                                                                                     30)
    assert listed_photo["duration"] is None
    assert {item["moderation"] for item in page["results"]} == {"clear"}
    assert all(item["expires_at"] for item in page["results"])
    assert me.get("/uploads?limit=1").json()["results"][0]["id"] == voice["id"]


def test_delete_removes_the_object_and_the_row_and_only_mine(login):
    me, other = login(), login()
    mine = send(me, recording("m4a")).json()
    key = Upload.objects.get(id=mine["id"]).storage_key

    assert other.client.delete(f"/uploads/{mine['id']}").status_code == 404
    assert new_keys(me) == {key}

    assert me.client.delete(f"/uploads/{mine['id']}").status_code == 204
    assert_nothing_stored(me)
    assert me.get("/uploads").json()["count"] == 0
    assert me.client.delete(f"/uploads/{mine['id']}").status_code == 404


def test_delete_while_storage_is_down_keeps_the_row_for_a_retry(login, settings):
    me = login()
    upload = send(me, recording("wav")).json()
    real = {name: getattr(settings, name) for name in ("S3_ENDPOINT", "S3_ACCESS_KEY",
                                                       "S3_SECRET_KEY")}
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.S3_ENDPOINT = f"http://127.0.0.1:{closed_port}"
    settings.S3_ACCESS_KEY, settings.S3_SECRET_KEY = "nobody", "nobody-secret"
    reset_storage()

    response = me.client.delete(f"/uploads/{upload['id']}")
    assert response.status_code == 503 and response.json()["error"]["code"] == "storage_unavailable"
    assert Upload.objects.filter(id=upload["id"]).exists()

    for name, value in real.items():
        setattr(settings, name, value)
    reset_storage()
    assert me.client.delete(f"/uploads/{upload['id']}").status_code == 204
    assert_nothing_stored(me)


def test_with_wechat_a_recording_is_held_until_its_push_says_pass(login, wechat):
    api = login()
    response = send(api, recording("mp3"))
    assert response.status_code == 201, response.content
    assert response.json()["moderation"] == "under_review"
    call = wechat.calls("media_check_async")[-1]["body"]
    assert call["media_type"] == 1 and call["media_url"].startswith("http")
    [push] = wechat.deliver_pushes()
    assert push["status"] == 200
    assert api.get("/uploads").json()["results"][0]["moderation"] == "clear"


def test_with_wechat_a_risky_recording_is_deleted(login, wechat):
    wechat.media_verdict = ("risky", 20003)
    api = login()
    assert send(api, recording("mp3")).status_code == 201
    wechat.deliver_pushes()
    assert_nothing_stored(api)


@pytest.mark.django_db(transaction=True)
def test_deleting_an_upload_leaves_its_finished_job_and_results(login, astronaut_jpeg,
                                                                 jobs_worker):
    api = login()
    upload_id = api.upload(astronaut_jpeg).json()["id"]
    job = api.wait(api.generate(upload_id, "anime", {"mode": "full"}).json()["job_id"])
    assert job["state"] == "succeeded", job

    key = Upload.objects.get(id=upload_id).storage_key
    results = new_keys(api) - {key}
    assert key in new_keys(api) and results

    assert api.client.delete(f"/uploads/{upload_id}").status_code == 204
    assert new_keys(api) == results
    after = api.get(f"/jobs/{job['id']}").json()
    assert (after["state"], after["upload_id"]) == ("succeeded", None)
    assert api.get(f"/download/{job['results'][0]['id']}").status_code in {200, 302}


@pytest.mark.parametrize("head", [b"", b"ID3\x04\0\0\0\0\0\0"])
def test_a_playlist_never_makes_ffmpeg_fetch_anything(login, head):
    server = serve()
    try:
        playlist = (f"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
                    f"http://127.0.0.1:{server.server_address[1]}/image.png\n#EXT-X-ENDLIST\n")
        api = login()
        response = send(api, head + playlist.encode(), name="voice.m3u8")
        assert response.status_code in {400, 415}, response.content
        assert server.requests == []
        assert_nothing_stored(api)
    finally:
        server.shutdown()
        server.server_close()
