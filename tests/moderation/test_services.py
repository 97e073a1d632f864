"""moderate_text / moderate_image, the cases they open, word-list reloads and the offender throttle."""
import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from PIL import Image
from skimage import data

from core.errors import Throttled
from moderation.models import CaseEvent, CaseState, ModerationCase, SensitiveWord, WordCategory
from moderation.services import moderate_image, moderate_text
from moderation.throttles import OffenderThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return get_user_model().objects.create_user(username="u-moderation")


@pytest.fixture(autouse=True)
def _reload_every_call(settings):
    settings.MODERATION_WORDLIST_RELOAD_SECONDS = 0


@pytest.fixture
def astronaut():
    return Image.fromarray(data.astronaut())  # NudeNet sees FACE_FEMALE at ~0.8 here


def test_clean_text_passes_without_a_case(user):
    verdict = moderate_text(text="今天天气真好 and a nice day", user=user, subject="sticker_text")
    assert verdict.passed and verdict.case_id is None
    assert not ModerationCase.objects.exists()


def test_blocked_text_opens_a_rejected_case_with_the_hits(user):
    verdict = moderate_text(text="来玩賭\u200b博", user=user, subject="sticker_text")
    assert (verdict.decision, verdict.code) == ("block", "content_blocked")
    with translation.override("en"):  # the message is read in the reader's language
        english = str(verdict.message)
    assert "use other words" in english and "photo" not in english
    with translation.override("zh-hans"):
        assert str(verdict.message).endswith("请换一种说法。")
    case = ModerationCase.objects.get(id=verdict.case_id)
    assert (case.subject_type, case.subject, case.state, case.user) == ("text", "sticker_text", "rejected", user)
    assert case.labels[0] == {"provider": "wordfilter", "label": "gambling", "action": "block",
                               "category": "gambling", "word": "赌博", "start": 2, "end": 5,
                               "text": "賭\u200b博"}
    assert case.decided_at and case.decided_by is None
    assert CaseEvent.objects.filter(case=case, action="opened").exists()


def test_review_category_holds_the_text_for_a_moderator(user):
    verdict = moderate_text(text="关于法-轮-功的讨论", user=user, subject="description")
    assert (verdict.decision, verdict.code) == ("review", "under_review")
    assert ModerationCase.objects.get(id=verdict.case_id).state == CaseState.PENDING


def test_word_list_edits_apply_without_a_restart(user):
    assert moderate_text(text="buy zorblax now", user=user, subject="description").passed
    category = WordCategory.objects.get(name="ads")
    word = SensitiveWord.objects.create(category=category, word="zorblax", whole_word=True)
    assert moderate_text(text="buy ZORBLAX now", user=user, subject="description").decision == "review"
    category.action = "block"
    category.save()
    assert moderate_text(text="buy z0rblax now", user=user, subject="description").decision == "block"
    word.is_active = False
    word.save()
    assert moderate_text(text="buy zorblax now", user=user, subject="description").passed
    word.delete()
    assert moderate_text(text="buy zorblax now", user=user, subject="description").passed


def test_seed_lists_are_loaded_after_migrate():
    assert set(WordCategory.objects.values_list("name", flat=True)) >= {
        "politics", "porn", "abuse", "violence", "gambling", "ads", "drugs", "allow"}
    assert SensitiveWord.objects.filter(word="赌博").exists()


def test_image_passes_with_the_default_rules(user, astronaut):
    verdict = moderate_image(image=astronaut, user=user, subject_type="upload", subject_id="u1")
    assert verdict.passed and verdict.case_id is None


def test_image_rules_block_or_hold_on_configured_labels(user, astronaut, settings):
    settings.MODERATION_NUDENET_RULES = "FACE_FEMALE=block:0.5"
    blocked = moderate_image(image=astronaut, user=user, subject_type="upload", subject_id="u1",
                             preview_key="k/u1.jpg")
    assert (blocked.decision, blocked.code) == ("block", "content_blocked")
    assert blocked.labels[0]["label"] == "FACE_FEMALE" and blocked.labels[0]["score"] >= 0.5

    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": ("review", 0.5)}
    held = moderate_image(image=astronaut, user=user, subject_type="result", subject_id="r1",
                          preview_key="k/r1.png")
    case = ModerationCase.objects.get(id=held.case_id)
    assert (held.decision, case.state, case.subject_type, case.subject_id, case.preview_key,
            case.providers) == ("review", "pending", "result", "r1", "k/r1.png", "nudenet")

    settings.MODERATION_NUDENET_RULES = {"FACE_FEMALE": ("review", 0.99)}  # above the score
    assert moderate_image(image=astronaut, user=user, subject_type="result", subject_id="r2").passed


def test_repeat_offenders_are_throttled(user, settings):
    from rest_framework.test import APIRequestFactory

    settings.MODERATION_OFFENDER_STRIKES = 2
    settings.MODERATION_OFFENDER_RATE = "1/hour"
    request = APIRequestFactory().post("/upload")
    request.user = user
    throttle = OffenderThrottle()
    assert throttle.get_cache_key(request, None) is None  # no strikes: not this throttle's business
    moderate_text(text="傻逼", user=user, subject="sticker_text")
    moderate_text(text="傻逼", user=user, subject="sticker_text")
    from django.core.cache import cache

    cache.clear()
    assert OffenderThrottle().allow_request(request, None)
    with pytest.raises(Throttled) as chinese, translation.override("zh-hans"):
        OffenderThrottle().allow_request(request, None)
    assert str(chinese.value).startswith("处罚：最近 24 小时内，你的照片或文字有 2 次")
    with pytest.raises(Throttled) as refused, translation.override("en"):
        OffenderThrottle().allow_request(request, None)
    assert (refused.value.code, refused.value.status) == ("offender_penalty", 429)
    assert refused.value.message.startswith("Penalty: 2 of your photos or texts were blocked")
    assert "1 request(s) per hour" in refused.value.message and " UTC (in 60 min)" in str(
        refused.value)
    assert refused.value.retry_after == 3600


def test_words_added_without_a_choice_match_latin_as_whole_words(user):
    category = WordCategory.objects.get(name="abuse")
    SensitiveWord.objects.create(category=category, word="zorb")  # whole_word left automatic
    SensitiveWord.objects.create(category=category, word="蠢货")
    assert moderate_text(text="zorbing is a sport", user=user, subject="description").passed
    assert moderate_text(text="you zorb!", user=user, subject="description").decision == "block"
    assert moderate_text(text="你这个蠢货们", user=user, subject="description").decision == "block"
