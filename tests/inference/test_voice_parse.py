"""A description in Chinese or English → slots, prompt and question: what the user said is what
gets drawn, and nothing said is lost."""
from __future__ import annotations

import pytest

from inference.voice import describe, parse_description
from inference.voice.question import question_en, question_zh


def test_the_issues_example_in_chinese():
    slots = parse_description("一个戴眼镜的黑发男孩在樱花树下看书")
    assert (slots.subject, slots.hair_colour, slots.action, slots.scene) == (
        "boy", "black", "reading", "cherry blossoms")
    assert [item.kind for item in slots.accessories] == ["glasses"]
    assert slots.language == "zh" and slots.unknown == []


def test_the_issues_example_in_english():
    slots = parse_description("a girl with blue hair on the beach at sunset")
    assert (slots.subject, slots.hair_colour, slots.scene, slots.time) == (
        "girl", "blue", "beach", "sunset")
    assert slots.language == "en" and slots.unknown == []


@pytest.mark.parametrize("text", [
    "黑发男孩", "黑色头发的男孩", "头发是黑色的男孩", "男孩，黑发", "一个黑头发的少年", "留着黑色短发的男生",
])
def test_chinese_hair_colour_in_many_phrasings(text):
    slots = parse_description(text)
    assert slots.hair_colour == "black" and slots.subject == "boy"


@pytest.mark.parametrize("text, hair, eyes", [
    ("金色长发、蓝色眼睛的女孩", "blonde", "blue"),
    ("蓝眼睛金发的女孩", "blonde", "blue"),
    ("黑发红眼的少年", "black", "red"),
    ("她的眼睛是紫色的，头发是银色的", "silver", "purple"),
    ("a girl with pink hair and green eyes", "pink", "green"),
    ("金发碧眼的少女", "blonde", "blue"),
    ("a brown-haired, blue-eyed boy", "brown", "blue"),
    ("her eyes are red and her hair is white", "white", "red"),
])
def test_two_colours_in_one_sentence_go_to_the_right_things(text, hair, eyes):
    slots = parse_description(text)
    assert (slots.hair_colour, slots.eye_colour) == (hair, eyes)


def test_a_garments_colour_is_not_taken_for_the_hair():
    slots = parse_description("穿着白色连衣裙的粉发女孩")
    assert slots.hair_colour == "pink"
    assert [(item.kind, item.colour) for item in slots.clothes] == [("dress", "white")]


@pytest.mark.parametrize("text", [
    "不戴眼镜的女孩", "没有戴眼镜的女孩", "女孩，没戴眼镜", "a girl without glasses",
    "a girl not wearing glasses", "a girl with no glasses",
])
def test_negation_keeps_the_glasses_off(text):
    slots = parse_description(text)
    assert "glasses" in slots.without
    assert all(item.kind != "glasses" for item in slots.accessories)
    prompt, negative = describe(text).prompt, describe(text).negative_prompt
    assert "glasses" not in prompt and "glasses" in negative


@pytest.mark.parametrize("text", [
    "我想要一张穿白裙子的黑长直女孩在海边看日落的图", "帮我画一个戴着一副眼镜、穿着一件红色卫衣的女孩",
    "Could you draw a cute cat wearing a red scarf in the snow please",
    "an old woman with glasses drinking tea at sunset",
])
def test_everyday_phrasing_leaves_no_word_unexplained(text):
    assert parse_description(text).unknown == []


def test_negation_of_one_accessory_leaves_the_others():
    slots = parse_description("戴着猫耳和耳机但是不戴眼镜的女孩")
    assert [item.kind for item in slots.accessories] == ["cat ears", "headphones"]
    assert slots.without == ["glasses"]


@pytest.mark.parametrize("text, slot, value", [
    ("双马尾的女孩", "hair_style", "twintails"), ("扎着马尾的女孩", "hair_style", "ponytail"),
    ("短发女孩", "hair_style", "short"), ("长长的黑发", "hair_style", "long"),
    ("a boy with spiky hair", "hair_style", "spiky"), ("宫崎骏风格的森林", "style", "ghibli"),
    ("新海诚风格的天空", "style", "shinkai"), ("paprika style city", "style", "paprika"),
    ("夜晚的城市", "scene", "city night"), ("在雪地里奔跑", "action", "running"),
    ("太空中的猫", "subject", "cat"), ("一只小狗在海边睡觉", "action", "sleeping"),
    ("在教室里挥手", "scene", "classroom"), ("a kid eating in a flower field", "action", "eating"),
    ("一位老爷爷", "subject", "old man"), ("傍晚的海边", "time", "sunset"),
])
def test_each_slot_is_heard(text, slot, value):
    assert getattr(parse_description(text), slot) == value


def test_traditional_characters_are_read_as_simplified():
    slots = parse_description("一個戴眼鏡的黑髮男孩在櫻花樹下看書")
    assert (slots.hair_colour, slots.scene, slots.action) == ("black", "cherry blossoms",
                                                              "reading")


def test_unknown_words_are_kept_in_the_prompt_and_reported():
    description = describe("一个骑着扫帚的女孩 with a dragon")
    assert "dragon" in description.slots.unknown
    assert any("扫帚" in word for word in description.slots.unknown)
    for word in description.slots.unknown:
        assert word in description.prompt


def test_the_prompt_is_english_and_carries_every_slot():
    prompt = describe("金色双马尾、红眼睛、穿水手服戴猫耳的女孩在教室里吃东西，新海诚风格").prompt
    for tag in ("1girl", "blonde hair", "twintails", "red eyes", "sailor uniform", "cat ears",
                "eating", "classroom", "makoto shinkai"):
        assert tag in prompt


def test_the_question_is_asked_in_the_users_language():
    assert question_zh(parse_description("一个戴眼镜的黑发男孩在樱花树下看书")) == \
        "您想生成一位戴眼镜的黑发男孩，在樱花树下看书吗？"
    english = question_en(parse_description("a boy with black hair and glasses reading under "
                                            "the cherry blossoms"))
    assert english == ("Would you like a picture of a boy with black hair and glasses, reading "
                       "a book under the cherry blossoms?")
    assert describe("a cat").question.startswith("Would you like")
    assert describe("一只猫").question.startswith("您想生成一只")
    assert describe("短发男孩在看书").question == "您想生成一位短发男孩，正在看书吗？"
    assert "with a red scarf" in describe("a cat with a red scarf").question


def test_nothing_heard_still_gives_a_picture_to_confirm():
    slots = parse_description("嗯……")
    assert slots.subject == "girl" and slots.assumed == ["subject"]


@pytest.mark.parametrize("text, facial_hair, without", [
    ("一个留胡子的男人在海边", "beard", []),
    ("留着小胡子的大叔", "moustache", []),
    ("络腮胡的老爷爷", "beard", []),
    ("一个不留胡子的老爷爷", "none", ["beard"]),
    ("没留胡子的大叔", "none", ["beard"]),
    ("a man with a beard and glasses", "beard", []),
    ("an old man with a moustache reading", "moustache", []),
    ("a man without a beard", "none", ["beard"]),
    ("留长发的女孩", None, []),
])
def test_facial_hair_is_heard_and_asked_about(text, facial_hair, without):
    description = describe(text)
    slots = description.slots
    assert (slots.facial_hair, slots.without, slots.unknown) == (facial_hair, without, [])
    if facial_hair in ("beard", "moustache"):
        assert facial_hair in description.prompt
        assert ("胡子" if slots.language == "zh" else facial_hair) in description.question
    if without:
        assert "beard" in description.negative_prompt
        assert ("不留胡子" if slots.language == "zh" else "no beard") in description.question
