"""API error messages in Chinese (the default) and English (by Accept-Language): the message
follows the language, the code never does; every message marked for translation has a Chinese
translation in locale/, and the packages that speak to users raise no untranslatable text."""
from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from tests.conftest import REPO

pytestmark = pytest.mark.django_db

CATALOG = REPO / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LANGUAGES = {"en": "en-US,en;q=0.9", "zh": "zh-Hans", "none": None}


def asked(send, language: str | None):
    extra = {"HTTP_ACCEPT_LANGUAGE": language} if language else {}
    response = send(**extra)
    return response.status_code, response.json()["error"]


def three_ways(send) -> dict:
    return {name: asked(send, header) for name, header in LANGUAGES.items()}


def assert_translated(answers: dict, status: int, code: str, english: str) -> None:
    assert {answer[0] for answer in answers.values()} == {status}, answers
    assert {answer[1]["code"] for answer in answers.values()} == {code}, answers
    en, zh, none = (answers[k][1]["message"] for k in ("en", "zh", "none"))
    assert english in en and not CHINESE.search(en), en
    assert CHINESE.search(zh) and zh != en, zh
    assert none == zh  # no Accept-Language: Chinese, the mini-program's language


def test_a_missing_job_in_three_languages(login):
    api = login()
    answers = three_ways(lambda **h: api.get(f"/jobs/{uuid.uuid4()}", **h))
    assert_translated(answers, 404, "job_not_found", "No such job.")
    assert answers["zh"][1]["message"] == "没有这个任务。"


def test_an_empty_upload_in_three_languages(login):
    api = login()
    answers = three_ways(lambda **h: api.upload(b"", **h))
    assert_translated(answers, 400, "empty_file", "The file is empty")


def test_a_message_with_values_keeps_them_in_each_language(login):
    api = login()
    answers = three_ways(lambda **h: api.client.post(
        "/generate", {"upload_id": str(uuid.uuid4()), "mode": "nosuchmode"}, format="json", **h))
    assert_translated(answers, 400, "unknown_mode", "Unknown mode 'nosuchmode'")
    assert "'nosuchmode'" in answers["zh"][1]["message"]


def test_an_unknown_field_names_it_in_each_language(login):
    api = login()
    answers = three_ways(lambda **h: api.client.post("/auth/dev", {"openid": "x", "uploadId": 1},
                                                      format="json", **h))
    assert_translated(answers, 400, "unknown_field", "Unknown field 'uploadId'")
    assert "'uploadId'" in answers["zh"][1]["message"]


def test_no_token_and_a_bad_token(login):
    assert_translated(three_ways(lambda **h: APIClient().get("/jobs", **h)), 401,
                      "not_authenticated", "credentials")  # DRF's own message, its translation
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_translated(three_ways(lambda **h: bad.get("/jobs", **h)), 401, "invalid_token",
                      "Your session has expired")


def test_a_moderator_s_refusal_and_an_unknown_address(login):
    from moderation.models import ModerationCase

    staff = login(staff=True)
    case = ModerationCase.objects.create(subject_type="text", text="x")
    answers = three_ways(lambda **h: staff.client.post(f"/moderation/cases/{case.id}/reject", {},
                                                        format="json", **h))
    assert_translated(answers, 400, "reason_required", "Say why the content is rejected")
    assert_translated(three_ways(lambda **h: staff.client.get("/no/such/address", **h)), 404,
                      "not_found", "No such address.")


def test_a_blocked_upload_says_so_in_the_asked_language(login, astronaut_jpeg, settings):
    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": ("block", 0.5)}
    api = login()
    answers = three_ways(lambda **h: api.client.post(
        "/upload", {"image": SimpleUploadedFile("p.jpg", astronaut_jpeg)}, format="multipart", **h))
    assert_translated(answers, 422, "content_blocked", "Please use a different photo.")


def test_a_request_refused_before_django_reads_the_same_header(settings):
    """An oversized body is refused by the ASGI handler itself (backend/http.py), before any
    middleware: it picks the language from the same header."""
    import asyncio
    import json

    from backend.http import PooledASGIHandler

    handler = PooledASGIHandler(threads=1, max_body=2**20)

    def refused(header: bytes | None) -> dict:
        sent = []

        async def receive():
            return {"type": "http.request", "body": b"\0" * (2**20 + 1)}

        async def send(message):
            sent.append(message)

        headers = [(b"accept-language", header)] if header else []
        asyncio.run(handler({"type": "http", "method": "POST", "path": "/upload",
                             "headers": headers}, receive, send))
        assert sent[0]["status"] == 413
        return json.loads(sent[-1]["body"])["error"]

    en, zh, none = refused(b"en-US,en;q=0.8"), refused(b"zh-CN"), refused(None)
    assert en == {"code": "too_large", "message": "The request is larger than 1 MB."}
    assert zh == none == {"code": "too_large", "message": "请求超过了 1 MB。"}


def test_a_talking_job_refused_at_creation_answers_in_the_asked_language(login, astronaut_jpeg):
    from tests.backend.test_talking_api import faceless_png

    api = login()
    photo = api.upload(astronaut_jpeg).json()["id"]
    faceless = api.upload(faceless_png(), "plain.png").json()["id"]

    def talk(inputs: dict, text: str):
        return lambda **h: api.client.post("/generate", {"mode": "talking", "inputs": inputs,
                                                         "text": text}, format="json", **h)

    no_face = three_ways(talk({"photo": faceless}, "hello"))
    assert_translated(no_face, 400, "no_face", "No face found")
    assert "face_box" in no_face["zh"][1]["message"]  # the parameter's name is not translated
    assert no_face["zh"][1]["message"].startswith("没有找到人脸")
    assert_translated(three_ways(talk({"photo": photo}, "")), 400, "text_required",
                      "Give a line to say (text) or a recording (inputs.voice).")


def test_the_live_character_s_refusals_in_each_language(login):
    api = login()
    answers = three_ways(lambda **h: api.client.post("/api/talkinghead/set_emotion",
                                                      {"emotion_name": "happy"}, format="json",
                                                      **h))
    assert_translated(answers, 404, "no_character", "No character is loaded")
    answers = three_ways(lambda **h: api.client.post(
        "/api/talkinghead/load_emotion_templates", {"smug": {}}, format="json", **h))
    assert_translated(answers, 400, "unknown_emotion", "Unknown emotion 'smug': use one of")
    assert "'smug'" in answers["zh"][1]["message"] and "neutral" in answers["zh"][1]["message"]


def test_the_live_feed_refuses_in_the_asked_language_outside_django():
    """The feed is an ASGI app of its own (backend/talking/feed.py): no LocaleMiddleware, the
    same header read the same way."""
    import asyncio
    import json

    from backend.talking.feed import result_feed

    def refused(header: bytes | None) -> dict:
        sent = []

        async def send(message):
            sent.append(message)

        headers = [(b"accept-language", header)] if header else []
        asyncio.run(result_feed({"type": "http", "method": "POST", "headers": headers},
                                None, send))
        assert sent[0]["status"] == 405
        return json.loads(sent[-1]["body"])["error"]

    assert refused(b"en") == {"code": "method_not_allowed", "message": "Use GET."}
    assert refused(b"zh-CN") == refused(None) == {"code": "method_not_allowed",
                                                  "message": "请使用 GET。"}


def test_pai_s_words_stay_as_pai_sends_them_and_ours_are_translated(login):
    """PAI's SDK and its clients compare PAI's messages: those never change with the language
    (backend/portraits/selectors.py: pai_message); our own, in the same envelope, do."""
    api = login()

    def pai(**h):
        response = api.client.post("/api/v1/aigc_images/create", {"model_id": "x"},
                                   format="json", **h)
        return response.status_code, response.json()["data"]["error"]

    answers = {name: pai(**({"HTTP_ACCEPT_LANGUAGE": header} if header else {}))
               for name, header in LANGUAGES.items()}
    assert {status for status, _ in answers.values()} == {404}
    assert {error["code"] for _, error in answers.values()} == {"model_not_found"}
    assert {error["message"] for _, error in answers.values()} == {
        "Prompts get error. Please check the model_id. (no model x of yours)"}
    assert_translated(three_ways(lambda **h: api.client.delete("/portraits/credentials/nope", **h)),
                      404, "credential_not_found", "No such credential of yours.")


@pytest.mark.parametrize("header, chinese", [("zh-CN,zh;q=0.9", True), ("zh-TW", True),
                                             ("fr-FR,fr;q=0.9", True), ("en-GB", False),
                                             ("de, en;q=0.5", False)])
def test_which_accept_language_means_which_language(login, header, chinese):
    api = login()
    status, error = asked(lambda **h: api.get(f"/jobs/{uuid.uuid4()}", **h), header)
    assert bool(CHINESE.search(error["message"])) is chinese, (header, error)


# -- the catalog ----------------------------------------------------------------------------------

def _unquote(lines: list[str]) -> str:
    return "".join(ast.literal_eval(line[line.index('"'):]) for line in lines)


def catalog_entries(path: Path = CATALOG) -> list[dict]:
    """The .po file's entries: msgid, msgstr and flags (a small reader: no plurals are used)."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        flags = {flag.strip() for line in lines if line.startswith("#,") for flag in line[2:].split(",")}
        assert not any(line.startswith("msgid_plural") for line in lines), "plurals: extend the reader"
        start = next((i for i, line in enumerate(lines) if line.startswith("msgid ")), None)
        if start is None:
            continue
        split = next(i for i, line in enumerate(lines) if line.startswith("msgstr "))
        entries.append({"msgid": _unquote(lines[start:split]), "msgstr": _unquote(lines[split:]),
                        "flags": flags, "obsolete": lines[start].startswith("#~")})
    return entries


PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def test_every_message_has_a_chinese_translation_and_none_is_fuzzy():
    entries = [e for e in catalog_entries() if e["msgid"]]
    assert len(entries) > 150
    header = next(e for e in catalog_entries() if not e["msgid"])
    assert "fuzzy" not in header["flags"] and "Language: zh_Hans" in header["msgstr"]
    untranslated = [e["msgid"] for e in entries if not e["msgstr"].strip()]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == [] and fuzzy == []
    for entry in entries:
        assert sorted(PLACEHOLDER.findall(entry["msgid"])) == sorted(PLACEHOLDER.findall(entry["msgstr"])), entry
        assert CHINESE.search(entry["msgstr"]), entry  # translated, not copied


def test_the_compiled_catalog_is_current():
    """scripts/setup compiles locale/ (manage.py compilemessages); a .po edited since makes
    this fail rather than serve English to Chinese users."""
    with translation.override("zh-hans"):
        stale = [e["msgid"] for e in catalog_entries()
                 if e["msgid"] and translation.gettext(e["msgid"]) != e["msgstr"]]
    assert stale == [], f"run `manage.py compilemessages`: {stale[:5]}"


# -- the code -------------------------------------------------------------------------------------

GETTEXT = {"_", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}
# Where messages for users are produced on the request's path. Left in English, and so not
# scanned: job execution and housekeeping (what a job stores is English: backend/jobs/execution.py,
# decoding.py, the modes' run functions raise InferenceError, which is not scanned). PAI's own
# words in backend/portraits stay as PAI sends them, through pai_message (a call, not text).
TRANSLATED = ["core", "moderation", "backend/accounts", "backend/uploads", "backend/stickers",
              "backend/console", "backend/jobs/api.py", "backend/jobs/creation.py",
              "backend/jobs/inputs.py", "backend/jobs/selectors.py", "backend/jobs/deletion.py",
              "backend/jobs/confirmation.py", "backend/jobs/modes", "backend/talking",
              "backend/portraits", "backend/urls.py", "backend/share.py", "backend/http.py",
              "backend/asgi.py"]
ERRORS = {"BadRequest", "NotFound", "Forbidden", "Gone", "PayloadTooLarge", "UnsupportedMedia",
          "Throttled", "Unavailable", "Unauthorized", "ServiceError", "WordInvalid",
          "AuthenticationFailed", "CaseAlreadyDecided", "_failed", "ValidationError"}


def _python_files() -> list[Path]:
    files = []
    for name in TRANSLATED:
        path = REPO / name
        files += [path] if path.is_file() else [p for p in path.rglob("*.py") if "migrations" not in p.parts]
    return files


def _call_name(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def test_no_error_is_raised_with_text_that_cannot_be_translated():
    bare = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and _call_name(node) in ERRORS and node.args:
                first = node.args[0]
                if isinstance(first, ast.JoinedStr) or (isinstance(first, ast.Constant)
                                                        and isinstance(first.value, str)):
                    bare.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert bare == []


def _marked_in_code() -> set[str]:
    marked = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and _call_name(node) in GETTEXT and node.args
                    and isinstance(node.args[0], ast.Constant)):
                marked.add(node.args[0].value)
    return marked


def _marked_in_templates() -> set[str]:
    marked = set()
    for path in (REPO / "templates" / "console").glob("*.html"):
        text = path.read_text()
        marked |= {m[1] for m in re.findall(r"""{% translate (["'])(.*?)\1""", text)}
        for body in re.findall(r"{% blocktranslate[^%]*%}(.*?){% endblocktranslate %}", text, re.S):
            marked.add(re.sub(r"{{ (\w+) }}", r"%(\1)s", body))
    return marked


def test_every_marked_string_is_in_the_catalog():
    """New text without a line in the .po would reach Chinese users in English: run
    scripts/messages and translate it."""
    catalog = {e["msgid"] for e in catalog_entries()}
    code, templates = _marked_in_code(), _marked_in_templates()
    assert len(code) > 100 and len(templates) > 50
    assert sorted((code | templates) - catalog) == []
