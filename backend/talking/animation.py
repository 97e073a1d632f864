"""What the live character does at each moment: blinks, sway, breathing and, while it talks,
a mouth that opens and closes at SillyTavern's ``talking_fps`` (the client sends no audio to
lip-sync). A mapping of the animator settings SillyTavern-extras accepts onto ours."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from django.utils.translation import gettext_lazy as _

from core.errors import BadRequest
from inference.talking.motion import BLINK_S, BREATH_UNITS, SWAY_DEGREES
from inference.talking.rig import Pose

# (low, high) for each setting we apply (high 0: TALKINGHEAD_MAX_FPS). animator.json's other
# keys (crops, THA3 morph names, postprocessing, upscaling, blink_probability) drive THA3, which
# a mesh warp does not have: they are accepted and reported as ignored.
RANGES = {"target_fps": (1, 0), "talking_fps": (1, 30), "blink_interval_min": (0.5, 60),
          "blink_interval_max": (0.5, 60), "sway_interval_min": (1, 120),
          "sway_interval_max": (1, 120), "sway_macro_strength": (0, 2),
          "breathing_cycle_duration": (1, 30)}


@dataclass(frozen=True)
class AnimatorSettings:
    """SillyTavern-extras' names and defaults; ``target_fps`` is the feed's frame rate (the
    feed's default is TALKINGHEAD_FPS). A user's settings hold only what they set."""

    target_fps: float = 25
    talking_fps: float = 12
    blink_interval_min: float = 2.0
    blink_interval_max: float = 5.0
    sway_interval_min: float = 5.0
    sway_interval_max: float = 10.0
    sway_macro_strength: float = 0.6
    breathing_cycle_duration: float = 4.0

    def as_dict(self) -> dict:
        return asdict(self)


def settings_applied(current: dict, changes: object, *, max_fps: int) -> tuple[dict, list[str]]:
    """``current`` (what was set before) with what ``changes`` (an animator.json object) maps
    onto, and the keys that were accepted but do not apply. A value of the wrong type or out of
    range is a 400."""
    if not isinstance(changes, dict):
        raise BadRequest(_("Send the animator settings as a JSON object."),
                         code="invalid_settings")
    merged, ignored = dict(current), []
    for key, value in changes.items():
        if key not in RANGES:
            ignored.append(key)
            continue
        low, high = RANGES[key]
        high = high or max_fps
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not low <= value <= high:
            raise BadRequest(_("%(key)s must be a number from %(low)s to %(high)s.")
                             % {"key": key, "low": low, "high": high},
                             code="invalid_settings")
        merged[key] = float(value)
    whole = {**AnimatorSettings().as_dict(), **merged}
    for lo, hi in (("blink_interval_min", "blink_interval_max"),
                   ("sway_interval_min", "sway_interval_max")):
        if whole[lo] > whole[hi]:
            raise BadRequest(_("%(low)s must not exceed %(high)s.") % {"low": lo, "high": hi},
                             code="invalid_settings")
    return merged, sorted(ignored)


def _noise(index: int, salt: float) -> float:
    """A repeatable value in [0, 1) for an integer step: the same character moves the same way
    in every web process, with no state shared between them."""
    value = math.sin(index * 12.9898 + salt * 78.233) * 43758.5453
    return value - math.floor(value)


class Animator:
    """Poses for one feed, in order of time."""

    def __init__(self, settings: AnimatorSettings, seed: int = 0) -> None:
        self.settings = settings
        self.rng = np.random.default_rng(seed)
        self.next_blink = self._blink_gap()
        self.blink_started = -1.0

    def _blink_gap(self) -> float:
        low, high = self.settings.blink_interval_min, self.settings.blink_interval_max
        return float(self.rng.uniform(low, high))

    def pose(self, t: float, talking: bool) -> Pose:
        s = self.settings
        if t >= self.next_blink:
            self.blink_started, self.next_blink = t, t + BLINK_S + self._blink_gap()
        since = t - self.blink_started
        blink = math.sin(math.pi * since / BLINK_S) if 0 <= since < BLINK_S else 0.0
        sway_period = (s.sway_interval_min + s.sway_interval_max) / 2
        tilt = SWAY_DEGREES * s.sway_macro_strength / 0.6 * math.sin(2 * math.pi * t / sway_period)
        lift = BREATH_UNITS * math.sin(2 * math.pi * t / s.breathing_cycle_duration)
        opening = roundness = 0.0
        if talking:
            step = t * s.talking_fps
            index, part = int(step), step - int(step)
            ease = (1 - math.cos(math.pi * part)) / 2  # no jump from one syllable to the next
            opening = (1 - ease) * _noise(index, 1) + ease * _noise(index + 1, 1)
            roundness = 0.5 * ((1 - ease) * _noise(index, 2) + ease * _noise(index + 1, 2))
        return Pose(opening=opening, roundness=roundness, blink=blink, tilt=tilt, lift=lift)
