"""``{{ code|word }}``: the moderator's words for the codes cases carry (actions, audit events),
in the page's language; an unknown code is shown as it is."""
from django import template
from django.utils.translation import gettext_lazy as _

register = template.Library()

WORDS = {
    "block": _("block"), "review": _("review"), "allow": _("allow"), "pass": _("pass"),
    "opened": _("opened"), "provider_verdict": _("provider's verdict"),
    "approved": _("approved"), "rejected": _("rejected"),
}


@register.filter
def word(code: str) -> str:
    return WORDS.get(code, code)
