"""GET /: the web client, one page in the visitor's language. Everything it shows comes from the
public API in the browser (token in localStorage); the page itself only knows whether dev login
is on and the words its script needs."""
from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_safe

from backend.web.words import script_words

LANGUAGE_CODES = {code for code, _name in settings.LANGUAGES}


def page_language(request) -> tuple[str, str | None]:
    """The page's language and, when the visitor just chose one with ``?lang=``, that choice (to
    remember in the language cookie). Else the cookie, then ``Accept-Language``, then zh-Hans."""
    chosen = (request.GET.get("lang") or "").lower()
    if chosen in LANGUAGE_CODES:
        return chosen, chosen
    return translation.get_language_from_request(request), None


@require_GET
def client(request):
    language, chosen = page_language(request)
    with translation.override(language):
        response = render(request, "web/client.html", {
            "dev_login": settings.DEV_LOGIN,
            "words": script_words(),
            "other_language": "en" if language.startswith("zh") else "zh-hans",
        })
    response["Content-Language"] = language
    patch_vary_headers(response, ["Accept-Language", "Cookie"])
    if chosen:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, chosen, max_age=365 * 24 * 3600,
                            samesite="Lax")
    return response


@require_safe
def favicon(request):
    return redirect(static("web/icon.svg"), permanent=True)
