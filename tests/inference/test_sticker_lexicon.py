"""Text → expression: the words people type into the mini-program pick the face."""
from __future__ import annotations

import pytest

from inference.sticker import parse_expression
from inference.sticker.lexicon import EXPRESSIONS


@pytest.mark.parametrize("text, name", [
    ("开心", "happy"), ("高兴", "happy"), ("嘻嘻", "happy"), ("so happy", "happy"),
    ("大笑", "laugh"), ("哈哈哈哈", "laugh"), ("lol", "laugh"), ("😂", "laugh"),
    ("惊讶", "surprise"), ("震惊", "surprise"), ("OMG", "surprise"), ("我的天", "surprise"),
    ("生气", "angry"), ("气死我了", "angry"), ("火大", "angry"), ("😡", "angry"),
    ("哭", "cry"), ("呜呜呜", "cry"), ("委屈", "cry"), ("crying", "cry"),
    ("害羞", "shy"), ("脸红", "shy"), ("不好意思", "shy"),
    ("无语", "speechless"), ("呵呵", "speechless"), ("尴尬", "speechless"), ("🙄", "speechless"),
    ("666", "awesome"), ("yyds", "awesome"), ("太强了", "awesome"), ("👍", "awesome"),
])
def test_words_and_their_synonyms_pick_the_expression(text, name):
    assert parse_expression(text).name == name


def test_each_basic_expression_has_its_touch():
    assert "tears" in parse_expression("哭").params.overlays
    assert "blush" in parse_expression("害羞").params.overlays
    assert "sweat" in parse_expression("无语").params.overlays
    assert "anger" in parse_expression("生气").params.overlays


def test_expression_parameters_point_the_right_way():
    happy, surprise, cry, angry = (parse_expression(t).params for t in ("开心", "惊讶", "哭", "生气"))
    assert happy.mouth_curve > 0 and happy.eye_open < 1
    assert surprise.mouth_open > 0.5 and surprise.eye_open > 1 and surprise.brow_raise > 0
    assert cry.mouth_curve < 0 and cry.brow_angle > 0
    assert angry.brow_angle < 0 and angry.mouth_curve < 0


def test_negations_and_compounds_beat_the_words_inside_them():
    assert parse_expression("不开心").name == "sad"
    assert parse_expression("不高兴").name == "sad"
    laugh_cry = parse_expression("笑哭")
    assert laugh_cry.name == "laugh" and "tears" in laugh_cry.params.overlays


def test_mixed_text_takes_the_strongest_expression_and_every_touch():
    mixed = parse_expression("今天好开心啊哈哈哈，笑死我了")
    assert mixed.name == "laugh"
    assert set(mixed.matched) >= {"开心", "笑死我了"}
    both = parse_expression("生气又无语")
    assert both.name == "angry"
    assert {"anger", "sweat"} <= set(both.params.overlays)


def test_traditional_characters_full_width_and_case_are_normalized():
    assert parse_expression("開心").name == "happy"
    assert parse_expression("ＨＡＰＰＹ").name == "happy"
    assert parse_expression("６６６").name == "awesome"
    assert parse_expression("開心").normalized_text == parse_expression("开心").normalized_text


def test_english_words_match_whole_words_only():
    assert parse_expression("saddle").name == "neutral"
    assert parse_expression("I'm sad").name == "sad"


def test_unknown_text_is_a_neutral_face_captioned_with_the_text():
    expression = parse_expression("  周五下班啦  ")
    assert expression.name == "neutral"
    assert expression.params == EXPRESSIONS["neutral"]
    assert expression.caption == "周五下班啦"
    assert expression.matched == ()


def test_the_caption_is_what_was_typed_or_the_expressions_words():
    assert parse_expression("气死我了!").caption == "气死我了!"
    assert parse_expression("").caption == ""
    assert parse_expression("").name == "neutral"


def test_metadata_is_plain_json_data():
    import json

    data = parse_expression("哭").as_metadata()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["name"] == "cry" and data["params"]["overlays"] == ["tears"]
