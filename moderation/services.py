"""Moderation services: the one entry point the rest of the backend calls, and the decisions.

Contract (the backend codes against this):
    moderate_text(*, text, user, subject) -> Verdict
    moderate_image(*, image, user, subject_type, subject_id, preview_key) -> Verdict
    moderate_audio(*, user, subject_id, preview_key) -> Verdict
    case_approve / case_reject (admins), wechat_push_receive (WeChat's asynchronous verdicts)

Providers chain: the local filters first (word lists, NudeNet); WeChat content security when
``MODERATION_WECHAT`` is on and the local filters did not already block. The worst answer wins:
any "review" holds the content. A provider that fails (WeChat down, refusing) holds the content
for a person unless ``MODERATION_FAIL_OPEN`` is on (then it counts as a pass).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest, NotFound, ServiceError
from moderation import imagecheck
from moderation.models import (Action, CaseEvent, CaseState, ModerationCase, SensitiveWord,
                               WordCategory)
from moderation.seeds import read_seed_lists
from moderation.selectors import combination_filter_current, text_filter_current
from moderation.textfilter import normalise
from moderation.signals import case_decided, case_opened
from moderation.wechat import LABELS as WECHAT_LABELS
from moderation.wechat import MEDIA_AUDIO, MEDIA_IMAGE, ContentSecurity, WeChatError

log = logging.getLogger(__name__)
audit = logging.getLogger("moderation.audit")

PASS, REVIEW, BLOCK = "pass", "review", "block"
_SEVERITY = {PASS: 0, REVIEW: 1, BLOCK: 2}
MESSAGES = {
    BLOCK: ("content_blocked", _("This goes against our content rules and was not accepted.")),
    REVIEW: ("under_review",
             _("This is waiting for a moderator's review; you will be notified when it is "
               "decided. Nothing to do until then.")),
}
# What a blocked user can do next, by what was blocked (a text is not fixed by another photo).
NEXT_STEP = {"text": _("Please use other words.")}
NEXT_STEP_IMAGE = _("Please use a different photo.")
WECHAT_ACTIONS = {"risky": BLOCK, "review": REVIEW, "pass": PASS}
WECHAT_TEXT_LIMIT = 2500


@dataclass(frozen=True)
class Verdict:
    decision: str  # "pass" | "review" | "block"
    code: str = ""  # "content_blocked" | "under_review" when not passing
    message: str = ""  # for the user: what happened and what to do (read in their language)
    labels: list = field(default_factory=list)
    case_id: int | None = None

    @property
    def passed(self) -> bool:
        return self.decision == PASS


def _worse(a: str, b: str) -> str:
    return a if _SEVERITY[a] >= _SEVERITY[b] else b


def _openid(user) -> str:
    """The user's openid, which WeChat's checks require (staff made by createsuperuser lack one)."""
    account = getattr(user, "wechat", None) if user is not None else None
    openid = getattr(account, "openid", "") or ""
    if not openid:
        raise WeChatError(40003, "user has no WeChat openid")
    return openid


def _provider_failed(decision: str, labels: list, exc: Exception) -> str:
    """WeChat did not answer usefully: hold the content (fail closed) or let it pass (open)."""
    fail_open = settings.MODERATION_FAIL_OPEN
    action = PASS if fail_open else REVIEW
    log.warning("wechat content security failed (%s); failing %s", exc,
                "open" if fail_open else "closed")
    labels.append({"provider": "wechat", "label": "unavailable", "action": action,
                   "error": str(exc)[:200]})
    return _worse(decision, action)


# -- text ----------------------------------------------------------------------------------------

def moderate_text(*, text: str, user, subject: str) -> Verdict:
    """Screen text the user wrote (sticker captions, descriptions, transcripts)."""
    text = text or ""
    decision, labels = wordlists_judge(text=text)
    if decision != BLOCK and text.strip() and settings.MODERATION_WECHAT:
        try:
            openid = _openid(user)
            security = ContentSecurity()
            # msgSecCheck takes at most 2,500 characters: long transcripts go in pieces.
            for start in range(0, len(text), WECHAT_TEXT_LIMIT):
                result = security.msg_sec_check(
                    content=text[start:start + WECHAT_TEXT_LIMIT], openid=openid,
                    scene=settings.MODERATION_WECHAT_SCENE)
                action = WECHAT_ACTIONS[result["suggest"]]
                if action != PASS:
                    labels.append({"provider": "wechat", "label": WECHAT_LABELS.get(result["label"], "other"),
                                   "code": result["label"], "suggest": result["suggest"],
                                   "action": action, "trace_id": result["trace_id"], "offset": start})
                    decision = _worse(decision, action)
                if decision == BLOCK:
                    break
        except WeChatError as exc:
            decision = _provider_failed(decision, labels, exc)
    return _conclude(decision=decision, labels=labels, user=user, subject_type="text",
                     subject_id="", subject=subject, text=text)


def wordlists_judge(*, text: str, fresh: bool = False) -> tuple[str, list]:
    """The word lists' verdict on a text and their hits, as labels. Opens no case: the
    moderators' console tests sentences with it (``fresh``: with the lists as they are now)."""
    text_filter, actions = text_filter_current(fresh=fresh)
    labels, decision = [], PASS
    for hit in text_filter.scan(text or ""):
        action = actions.get(hit.category, BLOCK)
        labels.append({"provider": "wordfilter", "label": hit.category, "action": action,
                       **hit.as_dict()})
        decision = _worse(decision, action)
    # Words harmless alone, refused together (a leader's name with an insult or a call for
    # removal): the combination rules' own action, "block" for the shipped ones.
    combinations = combination_filter_current()
    for hit in combinations.scan(text or ""):
        action = combinations.rules[hit.category].action
        action = action if action in _SEVERITY else BLOCK
        labels.append({"provider": "combination", "label": hit.category, "action": action,
                       **hit.as_dict()})
        decision = _worse(decision, action)
    return decision, labels


# -- images --------------------------------------------------------------------------------------

def nudenet_rules() -> dict[str, tuple[str, float]]:
    rules = dict(imagecheck.DEFAULT_RULES)
    rules.update(imagecheck.parse_rules(settings.MODERATION_NUDENET_RULES))
    return rules


def _public_url(key: str) -> str:
    from core.storage import get_storage

    if not key:
        raise WeChatError(-2, "no stored object to show WeChat")
    url = get_storage().share_url(key, settings.MODERATION_WECHAT_MEDIA_URL_TTL)
    if url.startswith("/"):
        base = settings.MODERATION_PUBLIC_BASE_URL
        if not base:
            raise WeChatError(-2, "MODERATION_PUBLIC_BASE_URL is not set: "
                                  "WeChat cannot fetch the file")
        url = base.rstrip("/") + url
    return url


def moderate_image(*, image, user, subject_type: str, subject_id, preview_key: str = "") -> Verdict:
    """Screen an upload before processing or a result before download."""
    labels, decision, trace_id = [], PASS, ""
    if settings.MODERATION_NUDENET:
        detections = imagecheck.detect(image, threads=settings.MODERATION_NUDENET_THREADS)
        decision, labels = imagecheck.judge(detections, nudenet_rules())
    if decision != BLOCK and settings.MODERATION_WECHAT and settings.MODERATION_WECHAT_IMAGES:
        decision, trace_id = _wechat_media_check(decision, labels, user=user,
                                                 preview_key=preview_key, media_type=MEDIA_IMAGE)
    return _conclude(decision=decision, labels=labels, user=user, subject_type=subject_type,
                     subject_id=str(subject_id or ""), subject=subject_type,
                     preview_key=preview_key, trace_id=trace_id)


def moderate_audio(*, user, subject_id, preview_key: str) -> Verdict:
    """Screen an uploaded recording: WeChat hears it when configured; there is no local check
    (what is said is screened as text once a mode transcribes it)."""
    labels, decision, trace_id = [], PASS, ""
    if settings.MODERATION_WECHAT and settings.MODERATION_WECHAT_AUDIO:
        decision, trace_id = _wechat_media_check(decision, labels, user=user,
                                                 preview_key=preview_key, media_type=MEDIA_AUDIO)
    return _conclude(decision=decision, labels=labels, user=user, subject_type="upload",
                     subject_id=str(subject_id), subject="audio", preview_key=preview_key,
                     trace_id=trace_id)


def _wechat_media_check(decision: str, labels: list, *, user, preview_key: str,
                        media_type: int) -> tuple[str, str]:
    """Submit the stored object to mediaCheckAsync; the content is held until WeChat's push
    arrives (a pass then releases it, if nothing else holds it)."""
    try:
        trace_id = ContentSecurity().media_check_async(
            media_url=_public_url(preview_key), openid=_openid(user),
            scene=settings.MODERATION_WECHAT_SCENE, media_type=media_type)
    except WeChatError as exc:
        return _provider_failed(decision, labels, exc), ""
    labels.append({"provider": "wechat", "label": "pending", "action": REVIEW,
                   "trace_id": trace_id})
    return _worse(decision, REVIEW), trace_id


# -- cases ---------------------------------------------------------------------------------------

def _conclude(*, decision: str, labels: list, user, subject_type: str, subject_id: str,
              subject: str, text: str = "", preview_key: str = "", trace_id: str = "") -> Verdict:
    if decision == PASS:
        return Verdict(PASS, labels=labels)
    providers = sorted({label["provider"] for label in labels if label["action"] != PASS})
    now = timezone.now()
    blocked = decision == BLOCK
    with transaction.atomic():
        case = ModerationCase.objects.create(
            subject_type=subject_type, subject_id=subject_id, subject=subject,
            user=user if getattr(user, "pk", None) else None, text=text[:10_000],
            preview_key=preview_key, providers=",".join(providers), labels=labels,
            verdict=decision, state=CaseState.REJECTED if blocked else CaseState.PENDING,
            awaiting_trace_id=trace_id, decided_at=now if blocked else None,
            reason="blocked automatically by " + ", ".join(providers) if blocked else "")
        CaseEvent.objects.create(case=case, action="opened", provider=",".join(providers),
                                 reason=case.reason, data={"verdict": decision, "labels": labels})
    audit.info("case %s opened: %s %s %s by user %s -> %s (%s)", case.id, subject_type,
               subject_id, subject, case.user_id, decision, case.providers)
    if not blocked:
        transaction.on_commit(lambda: case_opened.send(sender=ModerationCase, case=case))
    code, message = MESSAGES[decision]
    if blocked:
        message = format_lazy("{} {}", message, NEXT_STEP.get(subject_type, NEXT_STEP_IMAGE))
    return Verdict(decision, code=code, message=message, labels=labels, case_id=case.id)


class CaseAlreadyDecided(ServiceError):
    status = 409
    code = "already_decided"
    default_message = _("This case was already decided; reload the queue.")


def _decide(*, case_id: int, state: str, actor=None, provider: str = "", reason: str = "") -> ModerationCase:
    """Record the decision, audit it and tell the backend (inside one transaction: if releasing
    or deleting the content fails, the decision is rolled back and can be taken again)."""
    with transaction.atomic():
        case = ModerationCase.objects.select_for_update().get(id=case_id)
        if case.state != CaseState.PENDING:
            raise CaseAlreadyDecided()
        case.state, case.decided_by, case.decided_at = state, actor, timezone.now()
        case.reason = reason
        case.awaiting_trace_id = "" if actor is not None else case.awaiting_trace_id
        case.save()
        CaseEvent.objects.create(case=case, action=state, actor=actor, provider=provider, reason=reason)
        case_decided.send(sender=ModerationCase, case=case)
    audit.info("case %s %s by %s: %s", case.id, state,
               f"user {actor.pk}" if actor is not None else provider, reason)
    return case


def case_approve(*, case_id: int, moderator, reason: str = "") -> ModerationCase:
    """Release held content: the backend continues the job / lets the result be downloaded."""
    return _decide(case_id=case_id, state=CaseState.APPROVED, actor=moderator, reason=reason.strip())


def case_reject(*, case_id: int, moderator, reason: str) -> ModerationCase:
    """Refuse held content: the backend deletes it at once."""
    reason = (reason or "").strip()
    if not reason:
        raise BadRequest(_("Say why the content is rejected (reason)."), code="reason_required")
    return _decide(case_id=case_id, state=CaseState.REJECTED, actor=moderator, reason=reason)


def _as_int(value) -> int:
    """A push field as a number; anything unreadable counts as -1 (WeChat could not check)."""
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


def wechat_push_receive(*, event: dict) -> ModerationCase | None:
    """Apply a ``wxa_media_check`` push: risky rejects, pass approves unless another provider
    holds the case, review leaves it for a person. Other events are ignored."""
    if event.get("Event") != "wxa_media_check" or not isinstance(event.get("trace_id"), str):
        return None
    result = event.get("result") if isinstance(event.get("result"), dict) else {}
    suggest = result.get("suggest")
    if _as_int(event.get("errcode")) != 0 or suggest not in WECHAT_ACTIONS:
        # WeChat could not check it (e.g. failed to fetch the image): same rule as it being down.
        action = PASS if settings.MODERATION_FAIL_OPEN else REVIEW
        label = {"provider": "wechat", "label": "unavailable", "action": action,
                 "error": f"errcode {event.get('errcode')}: {event.get('errmsg', '')}"}
    else:
        action = WECHAT_ACTIONS[suggest]
        code = _as_int(result.get("label"))
        label = {"provider": "wechat", "label": WECHAT_LABELS.get(code, "other"), "code": code,
                 "suggest": suggest, "action": action}
    case = ModerationCase.objects.filter(awaiting_trace_id=event["trace_id"]).first()
    if case is None:
        # Unknown or already settled; WeChat gets "success" all the same, or it retries.
        log.warning("wxa_media_check push for unknown trace_id %s", event["trace_id"])
        return None
    return _wechat_settle(case_id=case.id, trace_id=event["trace_id"], label=label,
                          data={"result": result, "action": action, "errcode": event.get("errcode", 0)})


def _wechat_settle(*, case_id: int, trace_id: str, label: dict, data: dict) -> ModerationCase:
    """WeChat's answer for a held image: record it, then reject (block), approve (pass, when
    no other provider holds the case) or leave the case to a person."""
    action = label["action"]
    with transaction.atomic():
        case = ModerationCase.objects.select_for_update().get(id=case_id)
        if case.awaiting_trace_id != trace_id:
            return case  # settled meanwhile (a repeated push, or the wait expired)
        case.labels = [l for l in case.labels if l.get("provider") != "wechat"] + [dict(label, trace_id=trace_id)]
        case.awaiting_trace_id = ""
        case.save(update_fields=["labels", "awaiting_trace_id"])
        CaseEvent.objects.create(case=case, action="provider_verdict", provider="wechat", data=data)
        others_hold = any(l.get("action") != PASS for l in case.labels if l.get("provider") != "wechat")
        if case.state != CaseState.PENDING:
            return case
        if action == BLOCK:
            return _decide(case_id=case.id, state=CaseState.REJECTED, provider="wechat",
                           reason=f"WeChat content security: risky ({label['label']})")
        if action == PASS and not others_hold:
            return _decide(case_id=case.id, state=CaseState.APPROVED, provider="wechat",
                           reason=f"WeChat content security: {label.get('suggest', label['label'])}")
    return case


def cases_expire_wechat_waits(*, older_than_seconds: float | None = None) -> int:
    """Held images whose WeChat push never came: after ``MODERATION_WECHAT_PUSH_TIMEOUT`` the
    fail-open/closed rule decides, as if WeChat were down (closed: a person reviews them)."""
    if older_than_seconds is None:
        older_than_seconds = settings.MODERATION_WECHAT_PUSH_TIMEOUT
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    action = PASS if settings.MODERATION_FAIL_OPEN else REVIEW
    waiting = ModerationCase.objects.exclude(awaiting_trace_id="").filter(created_at__lt=cutoff)
    count = 0
    for case_id, trace_id in waiting.values_list("id", "awaiting_trace_id"):
        _wechat_settle(case_id=case_id, trace_id=trace_id,
                       label={"provider": "wechat", "label": "no_answer", "action": action},
                       data={"timeout_seconds": older_than_seconds})
        count += 1
    return count


# -- word lists ----------------------------------------------------------------------------------

def wordlists_seed(*, replace: bool = False) -> dict:
    """Load the seed lists shipped in moderation/wordlists into the database.

    Adds what is missing and leaves admins' edits alone (a category's action, words they
    deactivated). ``replace`` resets the seeded categories to the files exactly.
    """
    created_words = 0
    with transaction.atomic():
        for seed in read_seed_lists():
            action = seed.action if seed.action in Action.values else Action.BLOCK
            category, made = WordCategory.objects.get_or_create(
                name=seed.category, defaults={"action": action, "description": seed.description})
            if replace and not made:
                category.action, category.description = action, seed.description
                category.save()
                category.words.all().delete()
            existing = set(category.words.values_list("word", flat=True))
            new = [SensitiveWord(category=category, word=word, whole_word=whole)
                   for word, whole in dict(seed.words).items() if word not in existing]
            SensitiveWord.objects.bulk_create(new)
            created_words += len(new)
    return {"categories": WordCategory.objects.count(), "words_added": created_words}


class WordInvalid(BadRequest):
    code = "word_invalid"


def wordlist_word_add(*, category: str, word: str, whole_word: bool | None = None,
                      moderator) -> SensitiveWord:
    """List a word in a category (an inactive duplicate is switched back on). Every process
    picks it up within ``MODERATION_WORDLIST_RELOAD_SECONDS``."""
    word = (word or "").strip()
    if not word or len(word) > SensitiveWord._meta.get_field("word").max_length:
        raise WordInvalid(_("Enter a word or phrase of 1 to 100 characters."))
    if not normalise(word):
        raise WordInvalid(_("This entry has no letter or digit left once normalised, so it "
                            "could never match; enter the word itself."))
    found = WordCategory.objects.filter(name=category).first()
    if found is None:
        raise WordInvalid(_("No such word category; pick one from the list."),
                          code="unknown_category")
    with transaction.atomic():
        entry, made = SensitiveWord.objects.get_or_create(
            category=found, word=word, defaults={"whole_word": whole_word})
        if not made:
            if entry.is_active:
                raise WordInvalid(_("This word is already listed in this category."),
                                  code="word_exists")
            entry.is_active, entry.whole_word = True, whole_word
            entry.save()
    audit.info("word %r added to %s by user %s", word, category, getattr(moderator, "pk", None))
    return entry


def wordlist_word_remove(*, word_id: int, moderator) -> SensitiveWord:
    """Take a word off its list (deleted: the seed files re-add only on ``seed_wordlists``)."""
    entry = SensitiveWord.objects.select_related("category").filter(id=word_id).first()
    if entry is None:
        raise NotFound(_("This word is no longer listed."), code="word_not_found")
    entry.delete()
    audit.info("word %r removed from %s by user %s", entry.word, entry.category.name,
               getattr(moderator, "pk", None))
    return entry
