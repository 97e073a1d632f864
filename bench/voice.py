"""Time the voice path: ASR of a 5 s spoken description (faster-whisper int8, 2 threads),
parsing, and the embedded illustration, on descriptions in both languages; "anime me" (slots
read from a photo, then drawn); and how much of espeak-ng's Mandarin Whisper base understands
(character error rate). Prints Markdown.

    python bench/voice.py                   # 5 runs each
    python bench/voice.py --runs 10
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from inference.voice import describe, parse_description  # noqa: E402
from inference.voice.illustrate import illustrate  # noqa: E402
from inference.voice.transcribe import SAMPLE_RATE, load_whisper, read_audio, transcribe  # noqa

SPOKEN = "a girl with long blue hair and glasses reading a book on the beach at sunset"
TEXTS = [
    "一个戴眼镜的黑发男孩在樱花树下看书",
    "a girl with blue hair on the beach at sunset",
    "金色双马尾、红眼睛、穿水手服戴猫耳的女孩在教室里吃东西，新海诚风格",
    "一只黑猫在雪地里睡觉，宫崎骏风格",
    "a silver haired boy with spiky hair and headphones in the city at night",
    "a woman with long purple hair in a black dress and a witch hat in space, paprika",
]


def timed(function, runs: int) -> tuple[list[float], list[float]]:
    walls, cpus = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return walls, cpus


def row(label: str, walls: list[float], cpus: list[float]) -> str:
    return (f"| {label} | {statistics.median(walls):.4f} | {max(walls):.4f} | "
            f"{statistics.median(cpus):.4f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    wav = subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "--stdout", SPOKEN],
                         check=True, capture_output=True).stdout
    samples = read_audio(wav)
    # Pad or trim to exactly 5 s, the clip the target is set for.
    samples = np.pad(samples, (0, max(0, 5 * SAMPLE_RATE - len(samples))))[:5 * SAMPLE_RATE]
    load_whisper()
    transcribe(samples, language="en")
    print(f"Voice bench: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          f"{args.runs} runs each; Whisper base int8, 2 threads\n")
    print("| step | p50 wall (s) | max wall (s) | p50 CPU (s) |")
    print("| --- | --- | --- | --- |")
    print(row("ASR, 5.0 s English clip (language given)",
              *timed(lambda: transcribe(samples, language="en"), args.runs)))
    print(row("ASR, 5.0 s English clip (language detected)",
              *timed(lambda: transcribe(samples, language="auto"), args.runs)))
    os.environ["WHISPER_CONTEXT_SECONDS"] = "30"  # Whisper's own 30 s window, for comparison
    print(row("ASR, the same clip in a 30 s window (WHISPER_CONTEXT_SECONDS=30)",
              *timed(lambda: transcribe(samples, language="en"), args.runs)))
    del os.environ["WHISPER_CONTEXT_SECONDS"]
    parse_walls, parse_cpus = timed(lambda: [describe(t) for t in TEXTS], args.runs * 20)
    print(row(f"parse + prompt + question, per sentence (mean of {len(TEXTS)})",
              [w / len(TEXTS) for w in parse_walls], [c / len(TEXTS) for c in parse_cpus]))
    slots = [parse_description(text) for text in TEXTS]
    illustrate(slots[0])
    for text, slot in zip(TEXTS, slots):
        print(row(f"illustration: {text}", *timed(lambda: illustrate(slot), args.runs)))
    anime_me(args.runs)
    mandarin()
    return 0


def anime_me(runs: int) -> None:
    """Slots read from the astronaut's photo (512×512), then drawn."""
    from skimage import data

    from inference.voice.photo import read_slots

    photo = data.astronaut()
    reading = read_slots(photo)
    print(row("anime me: read the slots from a 512×512 photo (face, masks, traits)",
              *timed(lambda: read_slots(photo), runs)))
    print(row("anime me: draw them", *timed(lambda: illustrate(reading.slots), runs)))


MANDARIN = ["一个戴眼镜的黑发男孩在樱花树下看书", "蓝色头发的女孩在海边", "一只黑猫在雪地里睡觉",
            "戴耳机的红发男孩在城市夜晚", "金发女孩在森林里跑步"]


def _edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def mandarin() -> None:
    """espeak-ng's Mandarin (the only Chinese voice offline) through Whisper base, language zh:
    what comes back, its character error rate, and whether it is Simplified."""
    import opencc

    from inference.voice import speak

    to_simplified = opencc.OpenCC("t2s")

    print("\n| espeak-ng Mandarin said | Whisper base heard (zh) | CER | Simplified | ASR (s) |")
    print("| --- | --- | --- | --- | --- |")
    errors = total = 0
    for text in MANDARIN:
        heard = transcribe(speak(text, language="zh"), language="zh")
        edits = _edits(text, heard.text)
        errors, total = errors + edits, total + len(text)
        simplified = to_simplified.convert(heard.text) == heard.text
        print(f"| {text} | {heard.text} | {edits / len(text):.2f} | {simplified} | "
              f"{heard.timings['asr']:.2f} |")
    print(f"\nMandarin character error rate over {len(MANDARIN)} sentences: "
          f"{errors / total:.2f}")


if __name__ == "__main__":
    sys.exit(main())
