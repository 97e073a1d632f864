"""From the sound to the mouth: how far it opens in each video frame (the loudness envelope at
10 ms hops, smoothed, shut through silences) and how round it is (the spectrum, or for a
spoken line espeak's own vowels)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.talking.speech import SAMPLE_RATE, Speech

HOP = SAMPLE_RATE // 100  # 10 ms
WINDOW = 2 * HOP
# Quieter than this share of the speech's loud level is a pause: the lips meet.
PAUSE_LEVEL = 0.08
# A pause keeps the mouth moving this many hops into it, so that it closes, not snaps shut.
PAUSE_EDGE = 3
# Opening follows loudness with this power: speech loudness spans a wide range and a straight
# line would leave quiet syllables with the lips nearly together.
OPENING_POWER = 0.7


@dataclass(frozen=True)
class MouthTrack:
    opening: np.ndarray  # per video frame: 0 closed .. 1 the widest this voice opens it
    roundness: np.ndarray  # per video frame: 0 spread (i, e) .. 1 rounded (o, u)


def loudness(samples: np.ndarray) -> np.ndarray:
    """RMS level of each 10 ms hop (a 20 ms window centred on it)."""
    count = max(1, int(np.ceil(len(samples) / HOP)))
    padded = np.pad(samples.astype(np.float32), (HOP // 2, count * HOP + WINDOW))
    windows = np.lib.stride_tricks.sliding_window_view(padded, WINDOW)[::HOP][:count]
    return np.sqrt(np.mean(windows ** 2, axis=1))


def _smooth(values: np.ndarray, sigma_hops: float) -> np.ndarray:
    radius = int(3 * sigma_hops)
    kernel = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_hops) ** 2)
    kernel /= kernel.sum()
    return np.convolve(np.pad(values, radius, mode="edge"), kernel, mode="valid")


def opening_envelope(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per hop: the mouth opening 0..1, and whether the hop is voiced."""
    rms = loudness(samples)
    loud = float(np.percentile(rms, 95)) or 1e-6
    voiced = rms >= PAUSE_LEVEL * loud
    level = np.clip(rms / loud, 0, 1) ** OPENING_POWER
    level[~voiced] = 0
    # Within PAUSE_EDGE hops of a sound the mouth may still be on its way; beyond, it is shut.
    near_sound = np.convolve(voiced, np.ones(2 * PAUSE_EDGE + 1), mode="same") > 0
    return _smooth(level, 2.0) * near_sound, voiced


def spectral_roundness(samples: np.ndarray, hops: int) -> np.ndarray:
    """Per hop, 0..1 from the spectral centroid between 200 and 4000 Hz: rounded vowels put
    their energy low (second formant ~800 Hz), spread ones high (~2300 Hz)."""
    size = 512
    padded = np.pad(samples.astype(np.float32), (size // 2, hops * HOP + size))
    windows = np.lib.stride_tricks.sliding_window_view(padded, size)[::HOP][:hops]
    spectrum = np.abs(np.fft.rfft(windows * np.hanning(size), axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1 / SAMPLE_RATE)
    band = (freqs >= 200) & (freqs <= 4000)
    power = spectrum[:, band]
    centroid = (power @ freqs[band]) / np.maximum(power.sum(axis=1), 1e-12)
    return np.clip((1700 - centroid) / 900, 0, 1)


def vowel_roundness_track(vowels: tuple[float, ...], opening: np.ndarray,
                          voiced: np.ndarray) -> np.ndarray | None:
    """Per hop, the roundness of espeak's vowels laid over the syllables heard: each loudness
    peak in order takes the vowel at the same share of the line. None without vowels."""
    peaks = [i for i in range(1, len(opening) - 1)
             if voiced[i] and opening[i] >= opening[i - 1] and opening[i] > opening[i + 1]]
    # Peaks closer than 80 ms belong to one syllable: keep the louder.
    kept: list[int] = []
    for peak in peaks:
        if kept and peak - kept[-1] < 8:
            if opening[peak] > opening[kept[-1]]:
                kept[-1] = peak
        else:
            kept.append(peak)
    if not vowels or not kept:
        return None
    values = [vowels[min(len(vowels) - 1, k * len(vowels) // len(kept))]
              for k in range(len(kept))]
    return np.interp(np.arange(len(opening)), kept, values)


def mouth_track(speech: Speech, fps: float, frame_count: int) -> MouthTrack:
    """The mouth in each of ``frame_count`` video frames at ``fps``."""
    opening, voiced = opening_envelope(speech.samples)
    roundness = vowel_roundness_track(speech.vowels, opening, voiced)
    if roundness is None:
        roundness = spectral_roundness(speech.samples, len(opening))
    roundness = _smooth(roundness * voiced, 3.0)
    return MouthTrack(per_frame(opening, fps, frame_count),
                      per_frame(roundness, fps, frame_count))


def per_frame(hops: np.ndarray, fps: float, frame_count: int) -> np.ndarray:
    """The mean of the hops that fall in each video frame (the last hop's value past the end)."""
    padded = np.concatenate([hops, hops[-1:]])
    starts = np.minimum((np.arange(frame_count) / fps * 100).astype(int), len(hops))
    ends = (np.arange(1, frame_count + 1) / fps * 100).astype(int)
    ends = np.minimum(np.maximum(ends, starts + 1), len(hops) + 1)
    total = np.concatenate([[0.0], np.cumsum(padded)])
    return np.clip((total[ends] - total[starts]) / (ends - starts), 0, 1).astype(np.float32)
