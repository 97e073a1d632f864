"""The web client's page at / (backend/web): its language (zh-Hans by default, English by
Accept-Language or the switch), sign-in by dev login or the mini-program, and that it shadows
no API route; plus the two API answers it needs: GET /anime/styles and GET /download/{id}?link=1."""
from __future__ import annotations

import os
import urllib.request

import pytest

os.environ["MX_TEST_MODES"] = "1"  # a Celery worker started by the services stack knows the mode
import backend.jobs.modes.testing  # noqa: E402,F401 - registers test_slow here

pytestmark = pytest.mark.django_db


def page(client, **headers):
    response = client.get("/", **headers)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    return response, response.content.decode()


def test_the_page_is_in_chinese_without_a_preference(client):
    response, html = page(client)
    assert '<html lang="zh-Hans">' in html and "<title>萌像 · 把你的照片变萌</title>" in html
    assert "今天做点什么？" in html and response["Content-Language"] == "zh-hans"
    # The script's words come translated too, with the expiry in Chinese word order.
    assert '"expires_in_hm": "%(h)s \\u5c0f\\u65f6 %(m)s \\u5206\\u540e\\u8fc7\\u671f"' in html


def test_accept_language_english_gets_english_and_chinese_gets_chinese(client):
    _, html = page(client, HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="en">' in html and "What shall we make?" in html
    assert '"expires_in_hm": "expires in %(h)s h %(m)s min"' in html
    _, html = page(client, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    assert "今天做点什么？" in html


def test_the_switch_wins_over_accept_language_and_is_remembered(client, settings):
    response = client.get("/?lang=zh-hans", HTTP_ACCEPT_LANGUAGE="en")
    assert "今天做点什么？" in response.content.decode()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    _, html = page(client, HTTP_ACCEPT_LANGUAGE="en")  # the cookie now speaks for the visitor
    assert "今天做点什么？" in html
    response = client.get("/?lang=klingon", HTTP_ACCEPT_LANGUAGE="en")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies  # an unknown choice is ignored


def test_dev_login_on_offers_the_form_and_off_explains_the_mini_program(client, settings):
    _, html = page(client)
    assert 'id="signin-form"' in html and 'data-dev-login="1"' in html
    settings.DEV_LOGIN = False
    _, html = page(client)
    assert 'id="signin-form"' not in html and 'data-dev-login="0"' in html
    assert "请通过小程序登录" in html and "小程序" in html
    # ...and takes a one-time code from it instead (POST /auth/browser-code/redeem).
    assert 'id="code-form"' in html and "用验证码登录" in html


def test_the_code_form_only_where_dev_login_is_off(client):
    _, html = page(client)
    assert 'id="code-form"' not in html


def test_favicon_ico_is_the_pages_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("web/icon.svg")


def test_the_page_shadows_no_api_route_and_its_files_are_served(client):
    assert client.get("/jobs").status_code == 401  # still the API
    missing = client.get("/no-such-screen")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert client.post("/").status_code == 405
    script = client.get("/static/web/client.js")
    assert script.status_code == 200 and "javascript" in script["Content-Type"]



def test_the_client_loads_nothing_from_another_origin():
    """No CDN: every script, style and picture the page uses is one of ours."""
    from pathlib import Path

    from django.conf import settings

    files = list((Path(settings.BASE_DIR) / "backend" / "web" / "static" / "web").iterdir())
    files.append(Path(settings.BASE_DIR) / "templates" / "web" / "client.html")
    assert any(f.suffix == ".js" for f in files)
    for path in files:
        text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, path


def test_the_anime_styles_are_listed_with_the_default_marked(login, settings):
    settings.ANIME_DEFAULT_STYLE = "auto"
    api = login()
    styles = api.get("/anime/styles").json()["results"]
    names = [s["name"] for s in styles]
    assert names[0] == "procedural" and "illustrated" in names
    assert [s["name"] for s in styles if s["default"]] in (["procedural"], ["face_paint_512_v2"],
                                                           ["face_paint_512_v1"],
                                                           ["celeba_distill"], ["paprika"])
    assert all(s["engine"] for s in styles)
    api.client.credentials()
    assert api.get("/anime/styles").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_download_link_serves_the_result_to_a_tag_without_the_token(login, astronaut_jpeg,
                                                                      jobs_worker, settings):
    alice, bob = login(), login()
    upload = alice.upload(astronaut_jpeg).json()["id"]
    job = alice.wait(alice.generate(upload, "test_slow", {"steps": 2, "delay": 0.0})
                     .json()["job_id"])
    assert job["state"] == "succeeded", job
    result = job["results"][0]
    answer = alice.get(f"/download/{result['id']}?link=1")
    assert answer.status_code == 200, answer.content
    link = answer.json()
    assert link["expires_in"] == settings.DOWNLOAD_URL_TTL
    url = link["url"]
    assert url.startswith("http://")
    if settings.S3_ENDPOINT:  # a presigned URL: fetched as a browser's <img> would, no token
        with urllib.request.urlopen(url, timeout=10) as remote:
            data, content_type = remote.read(), remote.headers["Content-Type"]
    else:  # the signed /files/ link, served by this app without the token
        from django.test import Client

        response = Client().get(url.removeprefix("http://testserver"))
        data, content_type = b"".join(response.streaming_content), response["Content-Type"]
    assert content_type == "image/png" and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert bob.get(f"/download/{result['id']}?link=1").status_code == 404
