"""The API as documented: a clean OpenAPI schema (distinct request bodies, token auth, every
error response), Swagger UI and the admin's static files served by the app itself."""
from __future__ import annotations

import asyncio
import re

import httpx
import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker) -> dict:
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    with django_db_blocker.unblock():
        GENERATOR_STATS.reset()
        generated = SchemaGenerator().get_schema(request=None, public=True)
        validate_schema(generated)  # raises on an invalid OpenAPI document
    return {"schema": generated, "warnings": dict(GENERATOR_STATS._warn_cache),
            "errors": dict(GENERATOR_STATS._error_cache)}


def test_schema_generation_has_no_warnings_or_errors(schema):
    assert schema["warnings"] == {} and schema["errors"] == {}


def _body_ref(operation: dict) -> str:
    return operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]


def test_every_request_body_has_its_own_component(schema):
    paths = schema["schema"]["paths"]
    refs = {path: _body_ref(paths[path]["post"]) for path in (
        "/generate", "/auth/wechat", "/auth/dev", "/results/{result_id}/rating")}
    assert refs == {"/generate": "#/components/schemas/GenerateInput",
                    "/auth/wechat": "#/components/schemas/WechatLoginInput",
                    "/auth/dev": "#/components/schemas/DevLoginInput",
                    "/results/{result_id}/rating": "#/components/schemas/RatingInput"}
    components = schema["schema"]["components"]["schemas"]
    assert set(components["WechatLoginInput"]["properties"]) == {"code"}
    assert set(components["GenerateInput"]["properties"]) == {"upload_id", "inputs", "mode",
                                                              "params", "text"}
    assert components["GenerateInput"]["properties"]["text"]["maxLength"] == 100


def test_the_job_states_are_documented_held_among_them(schema):
    components = schema["schema"]["components"]["schemas"]
    state = components["JobOutput"]["properties"]["state"]
    enum = components[state["$ref"].rsplit("/", 1)[-1]]["enum"] if "$ref" in state else state["enum"]
    assert set(enum) == {"queued", "held", "running", "awaiting_confirmation", "succeeded",
                         "failed", "blocked", "expired", "cancelled"}


def test_token_auth_and_error_responses_are_documented(schema):
    document = schema["schema"]
    scheme = document["components"]["securitySchemes"]["TokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    jobs = document["paths"]["/jobs/{job_id}"]["get"]
    assert {"TokenAuth": []} in jobs["security"]
    error = {"$ref": "#/components/schemas/ErrorResponse"}
    download = document["paths"]["/download/{result_id}"]["get"]["responses"]
    assert {s for s, r in download.items() if r.get("content", {}).get(
        "application/json", {}).get("schema") == error} == {"401", "403", "404", "410"}
    generate = document["paths"]["/generate"]["post"]["responses"]
    assert {"400", "401", "404", "409", "410", "422", "429"} <= set(generate)
    assert document["components"]["schemas"]["ErrorResponse"]["properties"]["error"]["$ref"] \
        == "#/components/schemas/ErrorDetail"


def _asgi_get(path: str) -> httpx.Response:
    """A GET through the very ASGI application uvicorn serves (its handler and middleware)."""
    from backend.asgi import application

    async def get():
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await client.get(path)

    return asyncio.run(get())


def test_swagger_ui_comes_from_our_own_static_files(transactional_db):
    page = _asgi_get("/api/docs/")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    bundle = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert bundle in assets and all(url.startswith("/static/") for url in assets), assets
    assert _asgi_get(bundle).status_code == 200


def test_the_admin_is_styled(transactional_db):
    login_page = _asgi_get("/admin/login/")
    assert login_page.status_code == 200 and "/static/admin/css/base.css" in login_page.text
    css = _asgi_get("/static/admin/css/base.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
