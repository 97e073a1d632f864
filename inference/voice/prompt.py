"""The English Stable Diffusion prompt and negative prompt for a set of slots."""
from __future__ import annotations

from inference.voice.parse import ANIMALS, Slots

SUBJECT_TAGS = {
    "girl": "1girl", "boy": "1boy", "woman": "1girl, mature female", "man": "1boy, mature male",
    "old man": "1boy, old man, wrinkles", "old woman": "1girl, old woman, wrinkles",
    "child": "1child, child", "cat": "a cute cat, no humans", "dog": "a cute dog, no humans",
}
SCENE_TAGS = {
    "beach": "beach, ocean, waves", "cherry blossoms": "cherry blossoms, falling petals",
    "city night": "city, night city lights, lit windows", "classroom": "classroom, window",
    "forest": "forest, trees, dappled sunlight", "snow": "snow, snowing, winter",
    "space": "outer space, stars, planets", "flower field": "flower field, meadow",
}
STYLE_TAGS = {
    "ghibli": "studio ghibli style, warm soft colours, painterly",
    "shinkai": "makoto shinkai style, vivid sky, dramatic clouds, lens flare",
    "paprika": "paprika (satoshi kon) style, saturated surreal colours",
}
NEGATIVE = ("lowres, bad anatomy, bad hands, extra fingers, missing fingers, deformed, blurry, "
            "text, watermark, signature, jpeg artifacts, worst quality")


def sd_prompt(slots: Slots) -> tuple[str, str]:
    """(prompt, negative prompt); unknown words go in as they were said."""
    tags = ["masterpiece, best quality, anime style, illustration", SUBJECT_TAGS[slots.subject]]
    animal = slots.subject in ANIMALS
    if slots.hair_colour:
        tags.append(f"{slots.hair_colour} fur" if animal else f"{slots.hair_colour} hair")
    if slots.hair_style and not animal:
        tags.append(f"{slots.hair_style} hair" if slots.hair_style in ("long", "short", "spiky")
                    else slots.hair_style)
    if slots.eye_colour:
        tags.append(f"{slots.eye_colour} eyes")
    for item in slots.clothes + slots.accessories:
        tags.append(f"{item.colour} {item.kind}" if item.colour else item.kind)
    if slots.facial_hair in ("beard", "moustache"):
        tags.append(slots.facial_hair)
    if slots.action:
        tags.append(slots.action)
    if slots.scene:
        tags.append(SCENE_TAGS[slots.scene])
    if slots.time:
        tags.append(slots.time if slots.time != "day" else "daytime, blue sky")
    if slots.style:
        tags.append(STYLE_TAGS[slots.style])
    tags += slots.unknown
    negative = ", ".join([NEGATIVE, *slots.without])
    return ", ".join(tags), negative
