"""Moderation throughput: text MB/s against a 10,000-word list, NudeNet ms per image.

    .venv/bin/python bench/moderation.py [--mb 8] [--words 10000] [--images 50]

Pure: no database. The word list is the shipped seed lists padded with generated Chinese and
English words to ``--words``; the text is generated Chinese/English prose with a hit roughly
every 2 KB. Text speed is measured on one large text and on many 200-character messages (the
real traffic: captions, descriptions). Images: the fixture photos beside the repo when present,
else scikit-image's astronaut, each at its own size.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from moderation import imagecheck  # noqa: E402
from moderation.seeds import seed_entries  # noqa: E402
from moderation.textfilter import Entry, TextFilter, default_whole_word, normalisation_table  # noqa: E402

COMMON_HANZI = [chr(cp) for cp in range(0x4E00, 0x4E00 + 3500)]
LATIN = "abcdefghijklmnopqrstuvwxyz"


def word_list(size: int, rng: random.Random) -> list[Entry]:
    entries = seed_entries()
    categories = ["politics", "porn", "abuse", "violence", "gambling", "ads", "drugs"]
    seen = {e.word for e in entries}
    while len(entries) < size:
        if rng.random() < 0.7:
            word = "".join(rng.choices(COMMON_HANZI, k=rng.randint(2, 4)))
        else:
            word = "".join(rng.choices(LATIN, k=rng.randint(4, 9)))
        if word not in seen:
            seen.add(word)
            entries.append(Entry(word, rng.choice(categories), default_whole_word(word)))
    return entries


def corpus(megabytes: float, entries: list[Entry], rng: random.Random) -> str:
    english = ["the", "photo", "avatar", "sticker", "happy", "birthday", "friend", "today",
               "weather", "cute", "cat", "dog", "anime", "style", "please", "make", "me", "smile"]
    punctuation = ["，", "。", "！", " ", ", ", ". ", "?", "😀", "\n"]
    parts, size, target = [], 0, int(megabytes * 1024 * 1024)
    while size < target:
        roll = rng.random()
        if roll < 0.55:
            piece = "".join(rng.choices(COMMON_HANZI, k=rng.randint(2, 12)))
        elif roll < 0.9:
            piece = " ".join(rng.choices(english, k=rng.randint(1, 6)))
        elif roll < 0.9985:
            piece = rng.choice(punctuation)
        else:
            piece = rng.choice(entries).word
        parts.append(piece)
        size += len(piece.encode())
    return "".join(parts)


def bench_text(megabytes: float, words: int) -> None:
    rng = random.Random(5)
    started = time.perf_counter()
    normalisation_table()
    table_s = time.perf_counter() - started
    entries = word_list(words, rng)
    started = time.perf_counter()
    text_filter = TextFilter(entries)
    build_s = time.perf_counter() - started
    text = corpus(megabytes, entries, rng)
    size_mb = len(text.encode()) / 1024 / 1024
    text_filter.scan(text[:10000])
    runs, cpu_runs = [], []
    for _ in range(3):
        started, cpu = time.perf_counter(), time.process_time()
        hits = text_filter.scan(text)
        runs.append(time.perf_counter() - started)
        cpu_runs.append(time.process_time() - cpu)
    best, best_cpu = min(runs), min(cpu_runs)
    messages = [text[i:i + 200] for i in range(0, len(text), 200)]
    started, cpu = time.perf_counter(), time.process_time()
    for message in messages:
        text_filter.scan(message)
    short_s, short_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"text: {len(entries)} words ({text_filter.size} distinct normalised), "
          f"table {table_s:.2f} s once per process, automaton {build_s * 1000:.0f} ms")
    # Wall clock, and per CPU-second of this process (what it costs when others share the CPUs).
    print(f"text: one {size_mb:.1f} MB text: {size_mb / best:.1f} MB/s wall, "
          f"{size_mb / best_cpu:.1f} MB/s per CPU-second (best of 3, {len(hits)} hits)")
    print(f"text: {len(messages)} messages of 200 chars: {size_mb / short_s:.1f} MB/s wall, "
          f"{size_mb / short_cpu:.1f} MB/s per CPU-second, {short_s / len(messages) * 1e6:.1f} µs per message")


def bench_images(count: int, threads: int) -> None:
    from PIL import Image

    faces = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "faces"
    images = [Image.open(p).convert("RGB") for p in sorted(faces.glob("*.jpg"))] if faces.exists() else []
    if not images:
        from skimage import data

        images = [Image.fromarray(data.astronaut())]
    imagecheck.detect(images[0], threads=threads)  # load the model
    times, cpu = [], time.process_time()
    for i in range(count):
        image = images[i % len(images)]
        started = time.perf_counter()
        imagecheck.judge(imagecheck.detect(image, threads=threads), imagecheck.DEFAULT_RULES)
        times.append((time.perf_counter() - started) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / count
    times.sort()
    sizes = ", ".join(f"{im.width}x{im.height}" for im in images)
    print(f"images: NudeNet 320n on {len(images)} photos ({sizes}), {threads} threads, {count} runs: "
          f"mean {statistics.mean(times):.1f} ms, p50 {times[len(times) // 2]:.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms wall; {cpu_ms:.1f} ms CPU per image")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=8.0)
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1, help="ONNX intra-op threads (MODERATION_NUDENET_THREADS)")
    args = parser.parse_args()
    bench_text(args.mb, args.words)
    bench_images(args.images, args.threads)


if __name__ == "__main__":
    main()
