"""The life between the words: blinks every 2-6 s at random (about 150 ms each), a slow sway
of the head and its rise and fall with the breath; with the mouth track, one Pose per frame."""
from __future__ import annotations

import numpy as np

from inference.talking.lipsync import MouthTrack
from inference.talking.rig import Pose

BLINK_S = 0.15
BLINK_EVERY_S = (2.0, 6.0)
# The first blink comes sooner, so that even a short clip shows one.
FIRST_BLINK_S = (0.6, 2.5)
SWAY_DEGREES = 1.2
BREATH_UNITS = 0.025


def blink_times(duration: float, fps: float, rng: np.random.Generator) -> list[float]:
    """When each blink is fully shut, on frame times so that one frame shows the eyes closed."""
    times, t = [], rng.uniform(*FIRST_BLINK_S)
    while t < duration - BLINK_S / 2:
        times.append(round(t * fps) / fps)
        t += rng.uniform(*BLINK_EVERY_S)
    return times


def poses(track: MouthTrack, fps: float, *, idle: bool = True, seed: int = 0) -> list[Pose]:
    """One Pose per frame of ``track``; ``idle`` False keeps all but the mouth still."""
    count = len(track.opening)
    t = np.arange(count) / fps
    if not idle:
        return [Pose(opening=float(o), roundness=float(r))
                for o, r in zip(track.opening, track.roundness)]
    rng = np.random.default_rng(seed)
    blink = np.zeros(count)
    for shut in blink_times(count / fps, fps, rng):
        blink = np.maximum(blink, np.clip(1 - np.abs(t - shut) / (BLINK_S / 2), 0, 1))
    phase = rng.uniform(0, 2 * np.pi, 3)
    # Two slow waves that do not repeat together, so the sway never looks like a metronome.
    tilt = SWAY_DEGREES * (0.7 * np.sin(2 * np.pi * t / 5.3 + phase[0])
                           + 0.3 * np.sin(2 * np.pi * t / 2.9 + phase[1]))
    lift = BREATH_UNITS * 0.5 * (1 - np.cos(2 * np.pi * t / 3.8 + phase[2]))
    return [Pose(float(o), float(r), float(b), float(a), float(up))
            for o, r, b, a, up in zip(track.opening, track.roundness, blink, tilt, lift)]
