"""Slots read from a photo ("anime me", issue #15), so that the illustrator that draws a spoken
description can draw the person in it: hair colour and length from the hair mask of the
painted anime style (``inference/anime/hair.py``), iris colour from its eye reader, and
glasses, facial hair, face shape, skin tone and expression (``face_traits``).

The hair colour is named from the mask's median in CIE Lab: a grey or white head has almost
no chroma, which a dark or brown one cannot be told from by lightness alone (grey hair in the
shade is as dark as brown hair in the sun).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from inference.anime import eyes, hair
from inference.errors import InferenceError
from inference.faces import regions
from inference.faces.align import align_face
from inference.faces.detect import detect_faces
from inference.voice import face_traits
from inference.voice.parse import Item, Slots

SQUARE = 512  # the aligned face square the masks are computed in
# Hair whose mask covers less of the square than this is too little to have a colour (bald).
MIN_HAIR_SHARE = 0.01
# Lab chroma (0..~130) under which hair is grey or white; lightness (L*, 0..100) bounds. On
# the fixtures grey hair (biden.jpg) has L* 78, dark hair (obama.jpg) 44, both chroma < 6.
GREY_CHROMA, BLACK_LIGHTNESS, GREY_LIGHTNESS, WHITE_LIGHTNESS = 9.0, 22.0, 60.0, 88.0
# An iris family drawn as this eye colour.
EYE_COLOURS = {"dark": "black", "brown": "brown", "blue": "blue", "green": "green"}


@dataclass
class PhotoReading:
    slots: Slots
    measured: dict = field(default_factory=dict)  # the numbers each slot was read from

    def as_metadata(self) -> dict:
        return {"slots": self.slots.as_dict(), "measured": dict(self.measured)}


def hair_colour_name(lightness: float, a: float, b: float) -> str:
    """The lexicon's name for a hair colour given in CIE Lab (L* 0..100, a* and b* signed)."""
    chroma = float(np.hypot(a, b))
    if lightness < BLACK_LIGHTNESS:
        return "black"
    if chroma < GREY_CHROMA and lightness >= GREY_LIGHTNESS:
        return "white" if lightness >= WHITE_LIGHTNESS else "grey"
    if chroma < GREY_CHROMA:
        return "black"  # a dark neutral: black hair in the light
    hue = float(np.degrees(np.arctan2(b, a))) % 360
    if hue < 45 and chroma > 30:
        return "red"
    if lightness > 55 and 60 <= hue <= 100:
        return "blonde"
    return "brown"


def _skin_outline(shape, points: np.ndarray) -> np.ndarray:
    """The face inside its landmark outline (float32 0..1): where hair_mask learns the skin."""
    outline = np.zeros(shape, np.float32)
    cv2.fillConvexPoly(outline, cv2.convexHull(points[regions.OUTLINE].astype(np.int32)), 1.0)
    return outline


def _read_traits(slots: Slots, measured: dict, square: np.ndarray, lab: np.ndarray,
                 points: np.ndarray) -> None:
    evidence = face_traits.glasses_evidence(square, points)
    if face_traits.wears_glasses(evidence):
        slots.accessories.append(Item("glasses"))
    slots.facial_hair, darker = face_traits.facial_hair(lab, points)
    slots.face_shape, ratios = face_traits.face_shape(points)
    slots.expression, mouth = face_traits.expression(points)
    slots.skin_tone, skin = face_traits.skin_tone(
        square, points, mouth_open=mouth["opening"] >= face_traits.OPEN_MOUTH)
    measured.update({"glasses": evidence, "darker_than_cheeks": darker, "skin_ita": skin["ita"],
                     "skin": skin, "face_ratios": ratios, "mouth": mouth})


def read_slots(rgb: np.ndarray, *, subject: str = "girl") -> PhotoReading:
    """The slots of the most prominent face in an RGB photo. Raises ``no_face`` without one."""
    faces = detect_faces(rgb)
    if not faces:
        raise InferenceError("no face found in the photo", code="no_face")
    aligned = align_face(rgb, faces[0], size=SQUARE)
    square, points = aligned.image, aligned.to_aligned(faces[0].landmarks)
    lab = cv2.cvtColor(square, cv2.COLOR_RGB2Lab).astype(np.float32)
    head = hair.head_mask(square, points)
    mask = hair.hair_mask(lab, head, _skin_outline(head.shape, points), points) > 0.5
    slots = Slots(subject=subject, language="en")
    measured: dict = {"hair_share": round(float(mask.mean()), 4)}
    if mask.mean() >= MIN_HAIR_SHARE:
        # OpenCV's 8-bit Lab: L scaled to 0..255, a and b offset by 128.
        median = np.median(lab[mask], axis=0)
        lightness, a, b = median[0] * 100 / 255, median[1] - 128, median[2] - 128
        slots.hair_colour = hair_colour_name(lightness, a, b)
        rows = np.nonzero(mask.any(axis=1))[0]
        # Hair reaching well below the chin is long; the aligned square ends near the neck.
        chin = float(points[regions.CHIN, 1])
        face_height = chin - float(points[regions.NOSE_TOP, 1])
        slots.hair_style = "long" if rows.max() > chin + 0.25 * face_height else "short"
        measured.update({"hair_lab": [round(float(v), 1) for v in (lightness, a, b)],
                         "hair_bottom": round(float(rows.max() - chin) / face_height, 2)})
    family = eyes.iris_family(square, points[regions.RIGHT_EYE], points[regions.LEFT_EYE])
    slots.eye_colour = EYE_COLOURS[family]
    measured["iris"] = family
    _read_traits(slots, measured, square, lab, points)
    return PhotoReading(slots=slots, measured=measured)
