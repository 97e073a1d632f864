"""``configure``: the options of a portrait, field for field as PAI's AI写真 SDK documents them
(type, range, default), checked once so that a bad value is refused with its range and default.

PAI lists the same table for single- and multi-person portraits; ``FIELDS`` is that table.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from inference.errors import InferenceError

PHOTO_ENHANCEMENT_METHODS = ("photo_fix", "super_resolution")
STYLE_NAMES = ("Realistic", "Anime")


@dataclass(frozen=True)
class FieldSpec:
    """One field of PAI's configure table."""

    name: str
    kind: type  # float, int, bool or str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def describe(self) -> str:
        if self.kind is bool:
            allowed = "true or false"
        elif self.choices:
            allowed = "one of " + ", ".join(self.choices)
        else:
            allowed = f"{self.kind.__name__} from {self.low} to {self.high}"
        return f"{allowed}, default {json.dumps(self.default)}"


@dataclass(frozen=True)
class PortraitConfigure:
    """Every field of PAI's configure with PAI's default (``FIELDS`` adds the ranges)."""

    lora_weights: float = 0.9
    first_diffusion_steps: int = 50
    first_denoising_strength: float = 0.45
    second_diffusion_steps: int = 30
    second_denoising_strength: float = 0.30
    more_like_me: float = 0.50
    crop_face_preprocess: bool = True
    apply_face_fusion_before: bool = True
    apply_face_fusion_after: bool = True
    color_shift_middle: bool = True
    color_shift_last: bool = True
    background_restore: bool = False
    skin_retouching_bool: bool = False
    photo_enhancement_bool: bool = True
    photo_enhancement_method: str = "photo_fix"
    makeup_transfer: bool = False
    makeup_transfer_ratio: float = 0.5
    face_shape_match: bool = False
    ipa_control: bool = False
    ipa_weight: float = 0.5
    style_name: str = "Realistic"
    lcm_accelerate: bool = False
    sharp_ratio: float = 0.15

    def as_dict(self) -> dict:
        return asdict(self)


# PAI's ranges (inclusive) and choices; the defaults are the dataclass's.
_RANGES = {
    "lora_weights": (0.5, 1.0),
    "first_diffusion_steps": (20, 50),
    "first_denoising_strength": (0.0, 1.0),
    "second_diffusion_steps": (20, 50),
    "second_denoising_strength": (0.0, 1.0),
    "more_like_me": (0.0, 1.0),
    "makeup_transfer_ratio": (0.0, 1.0),
    "ipa_weight": (0.0, 1.0),
    "sharp_ratio": (0.0, 1.0),
}
_CHOICES = {"photo_enhancement_method": PHOTO_ENHANCEMENT_METHODS, "style_name": STYLE_NAMES}
FIELDS = tuple(
    FieldSpec(f.name, type(f.default), f.default, *_RANGES.get(f.name, (None, None)),
              choices=_CHOICES.get(f.name, ()))
    for f in fields(PortraitConfigure)
)
SPECS = {spec.name: spec for spec in FIELDS}


def parse_configure(configure: Mapping[str, Any] | PortraitConfigure | None) -> PortraitConfigure:
    """``configure`` as PAI takes it (a dict, or None for every default), checked field by field.

    An unknown field, a value of the wrong type or out of range is an ``invalid_configure``
    error naming the field, what it accepts and its default."""
    if configure is None:
        return PortraitConfigure()
    if isinstance(configure, PortraitConfigure):
        configure = configure.as_dict()
    if not isinstance(configure, Mapping):
        raise InferenceError(
            f"configure must be an object of fields (or null), not {type(configure).__name__}.",
            code="invalid_configure",
        )
    unknown = sorted(set(configure) - set(SPECS))
    if unknown:
        raise InferenceError(
            f"Unknown configure field {unknown[0]!r}: the fields are {', '.join(SPECS)}.",
            code="invalid_configure",
        )
    checked = {name: _checked(SPECS[name], value) for name, value in configure.items()}
    return PortraitConfigure(**checked)


def _checked(spec: FieldSpec, value: Any) -> Any:
    def refuse(why: str) -> InferenceError:
        return InferenceError(
            f"configure.{spec.name} {why}: it takes {spec.describe()}.", code="invalid_configure"
        )

    if spec.kind is bool:
        if not isinstance(value, bool):
            raise refuse(f"is {value!r}")
        return value
    if spec.kind is str:
        if value not in spec.choices:
            raise refuse(f"is {value!r}")
        return value
    # bool is an int in Python: true must not pass as 1 step or 1.0 strength.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise refuse(f"is {value!r}, not a number")
    if not spec.low <= value <= spec.high:  # NaN too
        raise refuse(f"is {value!r}, out of range")
    if spec.kind is int and value != int(value):
        raise refuse(f"is {value!r}, not a whole number")
    return spec.kind(value)

