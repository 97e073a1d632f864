"""The embedded illustrator: draws the slots as a cute anime picture, no model needed.

``illustrate(slots, seed=...)`` gives a 768×768 RGB picture, the same for the same slots and
seed: a bust of the subject (or a chibi cat or dog) in front of the scene, with the hair, eyes,
clothes, accessories and a hint of the action asked for, graded to the style's palette. From a
photo ("anime me") it also draws the face shape, skin tone, facial hair and expression read there.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from inference.voice.illustrate import character, hair, props, scene
from inference.voice.illustrate.animal import animal
from inference.voice.illustrate.canvas import SIZE, Canvas, rgb
from inference.voice.parse import ANIMALS, Slots

ENGINE = "illustrator-v1"
DEFAULT_HAIR = {"girl": "brown", "boy": "black", "woman": "black", "man": "brown",
                "old man": "white", "old woman": "grey", "child": "brown", "cat": "orange",
                "dog": "brown"}
DEFAULT_STYLE = {"girl": "long", "boy": "short", "woman": "long", "man": "short",
                 "old man": "short", "old woman": "bob", "child": "bob"}
DEFAULT_EYES = {"black": "brown", "brown": "brown", "white": "blue", "silver": "blue",
                "grey": "blue", "blonde": "blue"}
# A default garment in the hair's own colour would melt into it: another is chosen.
SAME_FAMILY = {"blue": ("blue", "light blue"), "light blue": ("blue", "light blue"),
               "brown": ("brown", "orange"), "orange": ("orange", "brown", "red"),
               "white": ("white", "grey"), "silver": ("white", "grey"), "grey": ("white", "grey"),
               "green": ("green",), "pink": ("pink", "red"), "red": ("red", "pink", "orange"),
               "purple": ("purple", "pink"), "blonde": ("blonde", "orange")}
# ... from the style's palette, in order of preference: clear colours that shade well (white
# falling back to white read as a grey garment beside the hair).
GARMENT_PALETTE = {None: ("light blue", "pink", "green", "orange", "purple"),
                   "ghibli": ("green", "orange", "light blue", "red"),
                   "shinkai": ("light blue", "blue", "pink", "orange"),
                   "paprika": ("pink", "purple", "orange", "light blue")}
# How the light of the time of day falls on the figure (multiplied in).
FIGURE_LIGHT = {"morning": (1.02, 0.99, 0.95), "day": (1.0, 1.0, 1.0),
                "sunset": (1.04, 0.9, 0.84), "night": (0.78, 0.82, 0.98)}
HEAD_ON_TOP = ("hat", "straw hat", "beanie", "witch hat", "crown", "ribbon", "flower")


@dataclass
class Illustration:
    image: np.ndarray  # RGB uint8, 768×768
    engine: str
    seed: int
    drawn: dict[str, Any] = field(default_factory=dict)  # the slots with defaults filled in

    def as_metadata(self) -> dict[str, Any]:
        return {"engine": self.engine, "seed": self.seed, "drawn": dict(self.drawn)}


def _rng(parts: dict[str, Any], seed: int) -> np.random.Generator:
    key = json.dumps(parts, sort_keys=True) + f"/{seed}"
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big"))


def resolved(slots: Slots) -> dict[str, Any]:
    """What will be drawn: the slots, with a default wherever the user said nothing."""
    hair_colour = slots.hair_colour or DEFAULT_HAIR[slots.subject]
    eye_colour = slots.eye_colour or DEFAULT_EYES.get(hair_colour, hair_colour)
    if slots.subject in ANIMALS and not slots.eye_colour:
        eye_colour = "green" if slots.subject == "cat" else "brown"
    clothes = slots.clothes[0] if slots.clothes else None
    kind = clothes.kind if clothes else (
        "sailor uniform" if slots.scene == "classroom" and slots.subject in ("girl", "boy")
        else {"girl": "dress", "woman": "coat", "child": "hoodie", "boy": "hoodie",
              "man": "shirt"}.get(slots.subject, "sweater"))
    cloth_colour = (clothes.colour if clothes and clothes.colour else
                    {"dress": "light blue", "hoodie": "orange", "coat": "brown", "shirt": "white",
                     "sailor uniform": "white", "school uniform": "blue", "suit": "black",
                     "kimono": "pink", "sweater": "green", "t-shirt": "white",
                     "swimsuit": "blue"}[kind])
    if slots.scene == "snow" and clothes is None:  # nobody asked: dress them for the cold
        kind, cloth_colour = "coat", "red"
    if not (clothes and clothes.colour) and cloth_colour in SAME_FAMILY.get(hair_colour, ()):
        cloth_colour = next(colour for colour in GARMENT_PALETTE[slots.style]
                            if colour not in SAME_FAMILY.get(hair_colour, (hair_colour,)))
    return {"subject": slots.subject, "hair_colour": hair_colour,
            "hair_style": slots.hair_style or DEFAULT_STYLE.get(slots.subject, "short"),
            "eye_colour": eye_colour, "clothes": kind, "clothes_colour": cloth_colour,
            "accessories": [(item.kind, item.colour) for item in slots.accessories],
            "action": slots.action, "scene": slots.scene,
            "time": slots.time or ("night" if slots.scene == "space" else "day"),
            "style": slots.style, "face_shape": slots.face_shape or "oval",
            "skin_tone": slots.skin_tone or "fair",
            "facial_hair": slots.facial_hair or ("moustache" if slots.subject == "old man"
                                                 else "none"),
            "expression": slots.expression}


def illustrate(slots: Slots, *, seed: int = 0) -> Illustration:
    """The slots drawn as a 768×768 picture (deterministic for the same slots and seed)."""
    drawn = resolved(slots)
    # The background's randomness depends on the scene alone, so that changing the hair does
    # not move the clouds; the figure's on everything drawn.
    scene_rng = _rng({key: drawn[key] for key in ("scene", "time")}, seed)
    rng = _rng(drawn, seed)
    canvas = Canvas(SIZE)
    scene.background(canvas, drawn["scene"], drawn["time"], scene_rng)
    hair_colour = rgb(character.HAIR_COLOURS[drawn["hair_colour"]])
    eye_colour = rgb(character.EYE_COLOURS[drawn["eye_colour"]])
    action = drawn["action"]
    closed = action == "sleeping"
    worn = {kind: rgb(character.CLOTH_COLOURS[colour]) if colour else None
            for kind, colour in drawn["accessories"]}

    def colour_of(kind: str):
        default = props.DEFAULT_COLOURS[kind]
        return worn.get(kind) or (rgb(default) if default else hair_colour)

    def wear_on_face_and_head() -> None:
        for kind in ("glasses", "sunglasses"):
            if kind in worn:
                props.glasses(canvas, figure, colour_of(kind), dark=kind == "sunglasses")
        for kind in HEAD_ON_TOP:
            if kind in worn:
                props.headwear(canvas, figure, kind, colour_of(kind))

    # A touch of depth of field: the scene a little soft, the figure drawn sharp over it.
    canvas.image = cv2.GaussianBlur(canvas.image, (0, 0), 1.6)
    backdrop = canvas.image.copy()
    if drawn["subject"] in ANIMALS:
        figure = animal(canvas, drawn["subject"], hair_colour, eye_colour, closed=closed)
        # A pet wears what fits a round head: a scarf, glasses, a bow, a hat or crown.
        if "scarf" in worn:
            props.scarf(canvas, figure, colour_of("scarf"))
        wear_on_face_and_head()
    else:
        figure = character.Figure.for_subject(drawn["subject"]).shaped(drawn["face_shape"],
                                                                        drawn["skin_tone"])
        hair.back(canvas, figure, drawn["hair_style"], hair_colour, rng)
        character.body(canvas, figure, drawn["clothes"],
                       rgb(character.CLOTH_COLOURS[drawn["clothes_colour"]]))
        if "scarf" in worn:
            props.scarf(canvas, figure, colour_of("scarf"))
        face_cover = character.face(canvas, figure)
        if drawn["facial_hair"] == "beard":
            character.beard(canvas, figure, hair_colour, rng)
        character.blush(canvas, figure)
        character.eyes(canvas, figure, eye_colour, closed=closed, look_down=action == "reading")
        character.nose_mouth(canvas, figure, expression=drawn["expression"], open_mouth=action in (
            "eating", "singing", "waving", "running", "smiling"))
        if drawn["facial_hair"] in ("moustache", "beard"):
            character.moustache(canvas, figure, hair_colour)
        for kind in ("cat ears", "bunny ears"):
            if kind in worn:
                props.ears(canvas, figure, kind, colour_of(kind))
        hair.front(canvas, figure, drawn["hair_style"], hair_colour, face_cover, rng)
        character.brows(canvas, figure, hair_colour)
        if "headphones" in worn or action == "listening to music":
            props.headphones(canvas, figure, colour_of("headphones"))
        wear_on_face_and_head()
    props.action(canvas, figure, action, rgb(character.CLOTH_COLOURS[drawn["clothes_colour"]]),
                 rng)
    # The figure takes the colour of the light it stands in: warm at sunset, cool at night.
    drawn_over = np.abs(canvas.image - backdrop).max(axis=2, keepdims=True) > 1e-4
    light = np.array(FIGURE_LIGHT[drawn["time"]], np.float32)
    canvas.image = np.where(drawn_over, canvas.image * light, canvas.image)
    scene.particles(canvas, drawn["scene"], scene_rng)
    image = scene.vignette(scene.grade(canvas.image, drawn["style"]), drawn_over)
    canvas.image = image
    drawn["accessories"] = [kind for kind, _ in drawn["accessories"]]
    return Illustration(image=canvas.to_uint8(), engine=ENGINE, seed=seed, drawn=drawn)
