"""The live talking head as SillyTavern's browser sees it: against a running server, log in
(DEV_LOGIN), get an Extras key, load a character through the Extras URL, start talking, and read
``result_feed`` through the Extras URL with no header (as the ``<img>`` does) for some seconds.
Reports frames per second and the gaps between frames (p50, p95, worst). Prints Markdown.

    scripts/serve &    # or any server with DEV_LOGIN=1
    python bench/talking_feed.py --url http://127.0.0.1:8000 --seconds 10 --feeds 1
"""
from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO.parent / "shared" / "fixtures" / "faces" / "obama.jpg"


def frame_times(url: str, seconds: float) -> list[float]:
    """When each whole frame arrived, over ``seconds`` of one feed."""
    times, buffer, end = [], b"", time.monotonic() + seconds
    with httpx.stream("GET", url, timeout=30) as feed:
        feed.raise_for_status()
        for chunk in feed.iter_bytes():
            buffer += chunk
            while (head := buffer.find(b"\r\n\r\n")) >= 0:
                length = int(buffer[:head].lower().split(b"content-length:")[1].split(b"\r\n")[0])
                if len(buffer) < head + 4 + length + 2:
                    break
                buffer = buffer[head + 4 + length + 2:]
                times.append(time.monotonic())
            if time.monotonic() >= end:
                return times
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--feeds", type=int, default=1, help="feeds at once (one user each)")
    args = parser.parse_args()
    extras_urls = []
    for index in range(args.feeds):
        login = httpx.post(f"{args.url}/auth/dev", json={"openid": f"bench-feed-{index}"}).json()
        extras = httpx.post(f"{args.url}/talking/extras-key", timeout=30,
                            headers={"Authorization": f"Token {login['token']}"}).json()
        url = extras["extras_url"]
        loaded = httpx.post(url + "/api/talkinghead/load", timeout=60,
                            files={"file": ("talkinghead.jpg", PHOTO.read_bytes(), "image/jpeg")})
        loaded.raise_for_status()
        httpx.get(url + "/api/talkinghead/start_talking").raise_for_status()
        extras_urls.append(url)
    results: list[list[float]] = [[] for _ in extras_urls]

    def watch(index: int) -> None:
        results[index] = frame_times(extras_urls[index] + "/api/talkinghead/result_feed",
                                     args.seconds)

    threads = [threading.Thread(target=watch, args=(i,)) for i in range(len(extras_urls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("| feed | frames | FPS | gap p50 (ms) | gap p95 (ms) | worst gap (ms) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for index, times in enumerate(results):
        gaps = sorted(1000 * (b - a) for a, b in zip(times, times[1:]))
        if not gaps:
            print(f"| {index + 1} | {len(times)} | - | - | - | - |")
            continue
        fps = (len(times) - 1) / (times[-1] - times[0])
        p95 = gaps[min(len(gaps) - 1, int(0.95 * len(gaps)))]
        print(f"| {index + 1} | {len(times)} | {fps:.1f} | {statistics.median(gaps):.0f} | "
              f"{p95:.0f} | {gaps[-1]:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
