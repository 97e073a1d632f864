"""The regions of dlib's iBUG 68-point landmarks, named once: index a (68, 2) array with them.

"Right" and "left" are the person's own, as iBUG numbers them: the right eye is on the image's
left in a photo facing the camera.
"""
from __future__ import annotations

JAW = slice(0, 17)  # from the right ear along the chin to the left ear
RIGHT_BROW = slice(17, 22)
LEFT_BROW = slice(22, 27)
BROWS = slice(17, 27)
NOSE_BRIDGE = slice(27, 31)
NOSE_TIP = slice(31, 36)  # the nostrils' lower edge, right to left
NOSE = slice(27, 36)
NOSE_LOWER = slice(30, 36)  # the tip and the nostrils
RIGHT_EYE = slice(36, 42)
LEFT_EYE = slice(42, 48)
EYES = slice(36, 48)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)
MOUTH = slice(48, 68)
OUTLINE = slice(0, 27)  # jaw and brows: the points whose hull is the face
INNER_FACE = slice(17, 68)  # brows, nose, eyes and mouth

CHIN = 8
NOSE_TOP = 27  # between the eyes
NOSE_POINT = 30  # the tip of the nose
NOSE_BOTTOM = 33  # under the tip, between the nostrils
MOUTH_RIGHT, MOUTH_LEFT = 48, 54  # the corners
UPPER_LIP_INNER = 62  # middle of the upper lip's inner edge
LOWER_LIP_INNER = 66  # middle of the lower lip's inner edge
# Points that stay put when a face changes expression or shape: where two faces are aligned.
STABLE = [17, 21, 22, 26, 27, 28, 29, 30, 31, 35, 36, 39, 42, 45]


def indices(region: slice) -> range:
    """The landmark numbers in ``region``, to loop over one point at a time."""
    return range(region.start, region.stop)
