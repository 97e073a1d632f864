"""Combination rules: a national leader's name joined to an insult or a call for removal is
blocked wherever text is screened (the bot, the mini-program's /generate), however it is
written, while the name or the word alone passes."""
from __future__ import annotations

import pytest

from moderation.combinations import CombinationFilter, parse_rule, read_rules
from moderation.services import moderate_text

FIRES = ["习近平下台", "打倒习近平", "習 近 平 下 臺", "习-近-平-去-死", "xi jinping must step down",
         "Xi Jinping is a dictator", "让总书记滚", "毛泽东是暴君"]
PASSES = ["习近平主持会议", "总书记视察工作", "下台鞠躬", "我家的狗很可爱", "steps down the stairs",
          "主席台上的领导"]


@pytest.fixture(scope="module")
def rules():
    return CombinationFilter(read_rules())


@pytest.mark.parametrize("text", FIRES)
def test_a_name_with_an_attack_fires(rules, text):
    [hit] = rules.scan(text)
    assert hit.category == "politics_attack" and "+" in hit.word
    assert text[hit.start:hit.end] == hit.text


@pytest.mark.parametrize("text", PASSES)
def test_the_name_or_the_word_alone_passes(rules, text):
    assert rules.scan(text) == []


def test_the_window_keeps_far_apart_words_apart():
    rule = parse_rule("t", "# window: 4\n[names]\n甲乙\n[attacks]\n下台\n")
    near, far = CombinationFilter([rule]), "甲乙" + "的" * 5 + "下台"
    assert near.scan("甲乙快下台") and not near.scan(far)
    with pytest.raises(ValueError):
        parse_rule("t", "[names]\n甲乙\n")


@pytest.mark.django_db
def test_moderation_blocks_it_with_a_case():
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="mp-politics")
    verdict = moderate_text(text="打倒 习近平", user=user, subject="description")
    assert verdict.decision == "block" and verdict.case_id
    assert any(label["provider"] == "combination" for label in verdict.labels)
    assert moderate_text(text="习近平主持会议", user=user, subject="description").passed


@pytest.mark.django_db
def test_the_mini_program_refuses_it_as_a_sticker_caption(login, astronaut_jpeg):
    api = login()
    upload = api.upload(astronaut_jpeg).json()
    response = api.generate(upload["id"], mode="sticker", text="习近平下台")
    assert response.status_code == 422 and response.json()["error"]["code"] == "text_blocked"
