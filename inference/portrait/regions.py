"""The 68 landmarks' regions (iBUG 300-W order), named once for the portrait pipeline."""
from __future__ import annotations

JAW = slice(0, 17)
BROWS = slice(17, 27)
RIGHT_BROW = slice(17, 22)
LEFT_BROW = slice(22, 27)
NOSE = slice(27, 36)
NOSTRILS = slice(31, 36)
RIGHT_EYE = slice(36, 42)  # the subject's right: the viewer's left
LEFT_EYE = slice(42, 48)
EYES = (RIGHT_EYE, LEFT_EYE)
OUTER_LIPS = slice(48, 60)
INNER_LIPS = slice(60, 68)
MOUTH = slice(48, 68)
# Points that stay put when the face changes expression or shape: where two faces are aligned.
STABLE = [17, 21, 22, 26, 27, 28, 29, 30, 31, 35, 36, 39, 42, 45]
