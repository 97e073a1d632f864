"""The console's pages. Staff only: anyone else is redirected to the console's sign-in page.
Decisions are not taken here: the page posts them to the moderation API
(``/moderation/cases/<id>/approve|reject``, session and CSRF), which calls the services."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import user_passes_test
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backend.console import selectors
from core.errors import ServiceError
from moderation import services
from moderation.models import Action, CaseState
from moderation.selectors import case_labels_known


def is_moderator(user) -> bool:
    return user.is_active and user.is_staff


staff_required = user_passes_test(is_moderator, login_url="console-login")

# The page's scripts take their words from here, so they speak the page's language.
SCRIPT_STRINGS = {
    "approved": gettext_lazy("Case #{id} approved."),
    "rejected": gettext_lazy("Case #{id} rejected."),
    "decidedElsewhere": gettext_lazy("Case #{id} was decided by someone else."),
    "arrived": gettext_lazy("New case #{id}."),
    "reasonRequired": gettext_lazy("Say why it is rejected."),
    "live": gettext_lazy("Live"),
    "offline": gettext_lazy("Reconnecting…"),
    "signedOut": gettext_lazy("Signed out: sign in again."),
    "failed": gettext_lazy("Could not send the decision; try again."),
}
REJECT_REASONS = [gettext_lazy("Nudity or sexual content"), gettext_lazy("Violence or gore"),
                  gettext_lazy("Abuse or harassment"), gettext_lazy("Politically sensitive"),
                  gettext_lazy("Advertising or spam")]


class ConsoleLogin(auth_views.LoginView):
    template_name = "console/login.html"

    def get_default_redirect_url(self):
        return reverse("console-queue")

    def get_context_data(self, **kwargs):
        user = self.request.user
        not_staff = user.is_authenticated and not is_moderator(user)
        return {**super().get_context_data(**kwargs), "not_staff": not_staff}


class ConsoleLogout(auth_views.LogoutView):
    next_page = "console-login"


def _offset(request) -> int:
    try:
        return max(0, int(request.GET.get("offset", 0)))
    except ValueError:
        return 0


def _common(request, section: str, filters=None) -> dict:
    return {"section": section, "filters": filters, "kinds": selectors.KINDS,
            "providers": selectors.PROVIDERS, "labels": case_labels_known(),
            "pending_count": selectors.console_pending_count(),
            "strike_limit": settings.MODERATION_OFFENDER_STRIKES,
            "script_strings": {key: str(value) for key, value in SCRIPT_STRINGS.items()}}


@require_GET
@staff_required
def queue(request):
    filters = selectors.CaseFilters.from_query(request.GET)
    offset = _offset(request)
    cases, more = selectors.console_queue(filters=filters, offset=offset)
    return render(request, "console/queue.html", {
        **_common(request, "queue", filters), "cases": cases, "more": more, "offset": offset,
        "next_offset": offset + selectors.PAGE, "reject_reasons": REJECT_REASONS})


@require_GET
@staff_required
def decided(request):
    filters = selectors.CaseFilters.from_query(request.GET)
    state = request.GET.get("state", "")
    state = state if state in (CaseState.APPROVED, CaseState.REJECTED) else ""
    offset = _offset(request)
    cases, more = selectors.console_decided(filters=filters, state=state, offset=offset)
    return render(request, "console/decided.html", {
        **_common(request, "decided", filters), "cases": cases, "more": more, "state": state,
        "offset": offset, "next_offset": offset + selectors.PAGE})


def _words_url(category: str, search: str = "") -> str:
    query = {"category": category, **({"q": search} if search else {})}
    return f"{reverse('console-words')}?{urlencode(query)}"


@require_http_methods(["GET", "POST"])
@staff_required
def words(request):
    """GET: the lists (one category at a time) and a sentence tester; POST: add a word."""
    if request.method == "POST":
        category = request.POST.get("category", "")
        whole = {"yes": True, "no": False}.get(request.POST.get("whole_word", ""))
        try:
            entry = services.wordlist_word_add(category=category, word=request.POST.get("word", ""),
                                               whole_word=whole, moderator=request.user)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("“%(word)s” is now listed in %(category)s.")
                             % {"word": entry.word, "category": category})
        return redirect(_words_url(category))
    search = request.GET.get("q", "").strip()[:100]
    lists = selectors.console_wordlists(category=request.GET.get("category", ""), search=search)
    test_text = request.GET.get("text", "")[:2000]
    test = None
    if "text" in request.GET:
        decision, labels = services.wordlists_judge(text=test_text, fresh=True)
        test = {"decision": decision, "labels": labels}
    return render(request, "console/words.html", {
        **_common(request, "words"), **lists, "search": search, "test_text": test_text,
        "test": test, "actions": dict(Action.choices)})


@require_POST
@staff_required
def word_remove(request, word_id: int):
    try:
        entry = services.wordlist_word_remove(word_id=word_id, moderator=request.user)
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect(reverse("console-words"))
    messages.success(request, _("“%(word)s” was removed from %(category)s.")
                     % {"word": entry.word, "category": entry.category.name})
    return redirect(_words_url(entry.category.name, request.POST.get("q", "")))
