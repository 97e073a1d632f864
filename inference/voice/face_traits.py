"""What else a face shows, for "anime me" (issue #15): glasses, facial hair, face shape, skin tone
and expression, each read from the aligned 512-px face square and its 68 landmarks, each with
the number it was decided on so that a wrong reading can be traced.

The thresholds were set on the fixtures (two people, three framings, the astronaut) and on
evidence painted onto them (``tests/inference/photo_evidence.py``); the measured values and
where they fail are in bench/RESULTS.md ("Anime me: what is read from a photo"):

- glasses: a frame's bridge crosses the smooth skin between the eyes, and its lower rims run
  under the eyes: a horizontal edge in every column of both places. Thin metal frames that
  barely differ from the skin are missed.
- facial hair: the skin between the nose and the lip (moustache) or on the chin (beard) much
  darker than the cheeks. Fair stubble on fair skin is missed.
- skin tone: the cheeks' individual typology angle (ITA, from L* and b*), measured after the
  photo's own white is brought to a standard one: the teeth when the mouth is open, else the
  eye whites, each scaled to where it sits in a well-lit photo. The light's strength and colour
  scale the cheeks and the reference alike, so their ratio (in linear RGB) does not move with
  exposure or a colour cast; without it an underexposed Biden read darker (ITA -9) than Obama.
  Eye whites in the lids' shadow, as in a squint, read dark and make a face read lighter.
"""
from __future__ import annotations

import cv2
import numpy as np

from inference.faces import regions

# iBUG points these readings use beyond ``regions``' names (right, left: the person's own).
BROW_INNER = (21, 22)  # where the brows end over the nose
BROW_MIDDLE = (19, 24)
UPPER_LIP_TOP, LOWER_LIP_BOTTOM = 51, 57  # the outer lip line's middle, top and bottom
CHEEKBONES = (1, 15)  # the jaw line's points level with the cheekbones
JAW_CORNERS = (4, 12)
CHEEK_JAW = (2, 14)  # the jaw beside each cheek
NOSTRILS = (31, 35)  # the nostrils' outer points
# Glasses: the median over the bridge's columns of the strongest vertical change of grey (Sobel,
# 0..~1000) must pass BRIDGE_EDGE, and the rims' under the eyes RIM_EDGE. Bare faces: bridge
# 23..56, rims 36..135; dark frames: bridge >= 136, rims >= 158; brown frames on Biden's dim
# face (73) and thin gold ones (58..76) fall short.
BRIDGE_EDGE, RIM_EDGE = 110.0, 150.0
# Facial hair: how many L* units (0..100) darker than the cheeks. Bare: <= 15 (the shadow under
# a nose lit from above); painted moustaches and beards: >= 28.
HAIR_DARKER = 22.0
# Expression: the mouth corners' lift above the lips' middle, and the opening between the lips,
# as fractions of the mouth's width. Neutral: lift 0.00; smiles: 0.11..0.23.
SMILE_LIFT, OPEN_MOUTH = 0.06, 0.1
# Face shape: the face's height (brows to chin) over its width at the cheekbones, and the jaw's
# width over that. The fixtures: height/width 0.97..1.04, jaw 0.82..0.86.
LONG_FACE, SHORT_FACE, WIDE_JAW = 1.12, 0.9, 0.9
# Skin tones the illustrator draws, by the least ITA (degrees) that reads as each: Chardon's
# bands (very light > 55, light 41..55, intermediate 28..41, tan 10..28, brown -30..10), with
# the bottom of tan at 8 and the two lightest drawn alike.
SKIN_TONES = (("fair", 41.0), ("light", 28.0), ("tan", 8.0), ("brown", -20.0), ("deep", -90.0))
# The photo's white: the brightest share of the teeth (when the mouth is open past OPEN_MOUTH)
# or of both eye openings, and the sRGB level (0..255) each has in a well-lit photo. On the
# fixtures the teeth read 226..248, the eye whites 131..207 (in the lids' shadow).
WHITE_SHARE, TEETH_LEVEL, EYE_WHITE_LEVEL = 0.2, 235.0, 205.0
# The cheeks' squares for the skin tone, in eye widths: larger than for facial hair, so that
# the landmarks' jitter between two exposures of one photo moves the median less.
SKIN_RADIUS = 0.4
# The most a reference may lighten a photo (linear gain), so a shut eye cannot blow it out.
MAX_GAIN = 8.0


def _grey_edges(square: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(square, cv2.COLOR_RGB2GRAY).astype(np.float32)
    return np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3))


def _eye_width(points: np.ndarray) -> float:
    eye = points[regions.RIGHT_EYE]
    return float(np.linalg.norm(eye[3] - eye[0]))


def _band_edge(edges: np.ndarray, x0: float, x1: float, y0: float, y1: float) -> float:
    """The median over columns of each column's strongest edge: a line across the whole band
    scores high even when tilted, a wrinkle across part of it does not."""
    band = edges[int(y0):int(y1), int(x0):int(x1)]
    return float(np.median(band.max(axis=0))) if band.size else 0.0


def glasses_evidence(square: np.ndarray, points: np.ndarray) -> dict[str, float]:
    """{"bridge": ..., "rims": ...}: edge strength where a frame would cross the nose and run
    under the eyes."""
    edges = _grey_edges(square)
    width = _eye_width(points)
    right, left = points[regions.RIGHT_EYE], points[regions.LEFT_EYE]
    eye_y = (right[:, 1].mean() + left[:, 1].mean()) / 2
    brow = points[list(BROW_INNER), 1].max()
    bridge = _band_edge(edges, right[3, 0] + 0.2 * width, left[0, 0] - 0.2 * width,
                        brow + 0.1 * width, eye_y + 0.3 * width)
    rims = [_band_edge(edges, eye[:, 0].min(), eye[:, 0].max(), eye[:, 1].max() + 0.15 * width,
                       eye[:, 1].max() + 0.9 * width) for eye in (right, left)]
    return {"bridge": round(bridge, 1), "rims": round(float(np.mean(rims)), 1)}


def wears_glasses(evidence: dict[str, float]) -> bool:
    return evidence["bridge"] >= BRIDGE_EDGE and evidence["rims"] >= RIM_EDGE


def _patch(values: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    x, y, r = int(centre[0]), int(centre[1]), max(2, int(radius))
    return values[max(0, y - r):y + r, max(0, x - r):x + r].reshape(-1, values.shape[-1])


def _cheeks(values: np.ndarray, points: np.ndarray, radius: float = 0.2) -> list[np.ndarray]:
    """Samples of both cheeks, between the jaw and the nose, a little above the nostrils, in
    squares of ``radius`` eye widths."""
    width = _eye_width(points)
    return [_patch(values, points[jaw] * 0.45 + points[nostril] * 0.55 - (0, 0.1 * width),
                   radius * width) for jaw, nostril in zip(CHEEK_JAW, NOSTRILS)]


def lightness(lab_samples: np.ndarray) -> float:
    """Median L* (0..100) of OpenCV 8-bit Lab samples."""
    return float(np.median(lab_samples[:, 0])) * 100 / 255


def facial_hair(lab: np.ndarray, points: np.ndarray) -> tuple[str, dict[str, float]]:
    """("none" | "moustache" | "beard", how much darker than the cheeks each place is)."""
    width = _eye_width(points)
    cheek = float(np.mean([lightness(samples) for samples in _cheeks(lab, points)]))
    upper_lip = lightness(_patch(lab, (points[regions.NOSE_BOTTOM] + points[UPPER_LIP_TOP]) / 2,
                                 0.18 * width))
    chin = lightness(_patch(lab, (points[LOWER_LIP_BOTTOM] + points[regions.CHIN]) / 2,
                                 0.3 * width))
    darker = {"upper_lip": round(cheek - upper_lip, 1), "chin": round(cheek - chin, 1)}
    if darker["chin"] >= HAIR_DARKER:
        return "beard", darker
    return ("moustache" if darker["upper_lip"] >= HAIR_DARKER else "none"), darker


# A plain power stands for sRGB's curve: scaling a photo's values (as a darker exposure or a
# cast does to 8-bit values) then scales light by a constant too, which the ratio cancels.
GAMMA = 2.2


def _linear(srgb: np.ndarray) -> np.ndarray:
    return (np.asarray(srgb, np.float64) / 255) ** GAMMA


def _srgb(linear: np.ndarray) -> np.ndarray:
    return 255 * np.clip(linear, 0, 1) ** (1 / GAMMA)


def _brightest(square: np.ndarray, polygons: list[np.ndarray]) -> np.ndarray | None:
    """The median RGB of the brightest WHITE_SHARE of the pixels inside the polygons."""
    inside = np.zeros(square.shape[:2], np.uint8)
    for polygon in polygons:
        cv2.fillPoly(inside, [polygon.astype(np.int32)], 1)
    pixels = square[inside > 0].astype(np.float64)
    if len(pixels) < 20:
        return None
    grey = pixels.mean(axis=1)
    return np.median(pixels[grey >= np.quantile(grey, 1 - WHITE_SHARE)], axis=0)


def photo_white(square: np.ndarray, points: np.ndarray, mouth_open: bool) -> tuple[str, np.ndarray]:
    """("teeth" | "eyes", the sRGB the photo's light gives a standard white), read from the
    teeth when the mouth shows them, else from the eye whites."""
    if mouth_open:
        teeth = _brightest(square, [points[regions.INNER_LIPS]])
        if teeth is not None:
            return "teeth", teeth * 255 / TEETH_LEVEL
    eyes = _brightest(square, [points[regions.RIGHT_EYE], points[regions.LEFT_EYE]])
    return "eyes", (np.full(3, EYE_WHITE_LEVEL) if eyes is None else eyes) * 255 / EYE_WHITE_LEVEL


def skin_tone(square: np.ndarray, points: np.ndarray,
              mouth_open: bool) -> tuple[str, dict]:
    """(tone name, the numbers): the ITA of the cheeks' median colour after the photo's white
    (``photo_white``) is made neutral and standard, and the ITA as the photo shows it."""
    cheek = np.median(np.concatenate(_cheeks(square, points, SKIN_RADIUS)), axis=0)
    source, white = photo_white(square, points, mouth_open)
    gain = np.minimum(1 / np.maximum(_linear(white), 1e-4), MAX_GAIN)
    balanced = _linear(cheek) * gain
    balanced /= max(1.0, float(balanced.max()))  # too bright: darker, same colour
    ita = _ita(_srgb(balanced))
    measured = {"ita": round(ita, 1), "as_shot_ita": round(_ita(cheek), 1), "white": source,
                "white_rgb": [round(float(v), 1) for v in white],
                "cheek_rgb": [round(float(v), 1) for v in cheek]}
    return next(name for name, least in SKIN_TONES if ita >= least), measured


def _ita(rgb: np.ndarray) -> float:
    """The individual typology angle (degrees) of one sRGB colour (0..255)."""
    pixel = np.clip(np.round(rgb), 0, 255).astype(np.uint8).reshape(1, 1, 3)
    lab = cv2.cvtColor(pixel, cv2.COLOR_RGB2Lab).astype(np.float64)[0, 0]
    lightness, yellow = lab[0] * 100 / 255, lab[2] - 128
    return float(np.degrees(np.arctan2(lightness - 50, max(yellow, 1.0))))


def face_shape(points: np.ndarray) -> tuple[str, dict[str, float]]:
    """("round" | "oval" | "long" | "square", the ratios) from the jaw line and the brows."""
    cheekbones = float(np.linalg.norm(np.subtract(*points[list(CHEEKBONES)])))
    jaw = float(np.linalg.norm(np.subtract(*points[list(JAW_CORNERS)])))
    height = float(points[regions.CHIN, 1] - points[list(BROW_MIDDLE), 1].mean())
    ratios = {"height": round(height / cheekbones, 3), "jaw": round(jaw / cheekbones, 3)}
    return shape_name(ratios["height"], ratios["jaw"]), ratios


def shape_name(height: float, jaw: float) -> str:
    """The face shape for height/width and jaw/width ratios."""
    if height >= LONG_FACE:
        return "long"
    if jaw >= WIDE_JAW:
        return "square"
    return "round" if height <= SHORT_FACE else "oval"


def expression(points: np.ndarray) -> tuple[str, dict[str, float]]:
    """("neutral" | "smile" | "grin", lift and opening): a grin is a smile with parted lips."""
    right, left = points[regions.MOUTH_RIGHT], points[regions.MOUTH_LEFT]
    width = float(np.linalg.norm(left - right))
    middle = (points[UPPER_LIP_TOP, 1] + points[LOWER_LIP_BOTTOM, 1]) / 2
    lift = float(middle - (right[1] + left[1]) / 2) / width
    opening = float(np.linalg.norm(points[regions.LOWER_LIP_INNER]
                                   - points[regions.UPPER_LIP_INNER])) / width
    measured = {"lift": round(lift, 3), "opening": round(opening, 3)}
    if lift < SMILE_LIFT:
        return "neutral", measured
    return ("grin" if opening >= OPEN_MOUTH else "smile"), measured
