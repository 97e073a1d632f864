"""Load test of websocket progress: S concurrent subscribers spread over J jobs running at once.
Reports connect time (handshake to the first, current-state message), event delivery lag
(receipt time minus the ``at`` stamp the publisher put on the event; same machine, same clock)
p50/p99, events delivered, and the web processes' memory (RSS) before, with all subscribers
connected, and at the end.

Against a running server (give its pid for the memory figures):
    python bench/ws.py --url http://127.0.0.1:8000 --server-pid 1234 --subscribers 1000
Or start the real stack (uvicorn + Celery worker) from the environment, as bench/api.py does:
    python bench/ws.py --spawn --subscribers 1000"""
from __future__ import annotations

import argparse
import asyncio
import json
import time

import httpx
import psutil
import websockets

from api import percentile, photo, run_against_stack, stack_arguments

TERMINAL = {"succeeded", "failed", "blocked", "expired"}


def rss_mb(pid: int | None) -> float:
    if not pid:
        return float("nan")
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)]) / 2**20


async def start_jobs(args, image: bytes) -> list[tuple[str, str]]:
    """J users, each with one queued ``test_slow`` job: (job id, token)."""
    jobs = []
    async with httpx.AsyncClient(base_url=args.url, timeout=60) as http:
        for _ in range(args.jobs):
            body = (await http.post("/auth/dev", json={"openid": f"ws-{time.time_ns()}"})).json()
            headers = {"Authorization": f"Token {body['token']}"}
            up = (await http.post("/upload", headers=headers,
                                  files={"image": ("p.jpg", image, "image/jpeg")})).json()
            job = (await http.post("/generate", headers=headers, json={
                "upload_id": up["id"], "mode": "test_slow",
                "params": {"steps": args.steps, "delay": args.delay}})).json()
            jobs.append((job["job_id"], body["token"]))
    return jobs


class Stats:
    def __init__(self) -> None:
        self.connect: list[float] = []
        self.lag: list[float] = []
        self.failures: dict[str, int] = {}
        self.finished = 0
        self.connected = asyncio.Event()
        self.open = 0


async def subscribe(stats: Stats, args, job_id: str, token: str, gate: asyncio.Semaphore) -> None:
    try:
        async with gate:
            started = time.perf_counter()
            ws = await websockets.connect(f"{args.ws_url}/ws/jobs/{job_id}/", open_timeout=120,
                                          additional_headers={"Authorization": f"Token {token}"},
                                          max_queue=None)
            await ws.recv()  # the current state
            stats.connect.append(time.perf_counter() - started)
        stats.open += 1
        if stats.open == args.subscribers:
            stats.connected.set()
        async with ws:
            async for message in ws:
                event = json.loads(message)
                stats.lag.append(time.time() - event["at"])
                if event["state"] in TERMINAL:
                    stats.finished += 1
                    break
    except Exception as exc:  # noqa: BLE001
        name = type(exc).__name__
        stats.failures[name] = stats.failures.get(name, 0) + 1


async def main(args, server_pid: int | None) -> None:
    image = photo()
    memory = {"idle": rss_mb(server_pid)}
    stats = Stats()
    gate = asyncio.Semaphore(args.connect_concurrency)
    jobs = await start_jobs(args, image)
    started = time.perf_counter()
    tasks = [asyncio.create_task(subscribe(stats, args, *jobs[i % len(jobs)], gate))
             for i in range(args.subscribers)]
    try:
        await asyncio.wait_for(stats.connected.wait(), args.timeout)
        memory["all connected"] = rss_mb(server_pid)
        connect_wall = time.perf_counter() - started
    except asyncio.TimeoutError:
        connect_wall = float("nan")
    await asyncio.wait(tasks, timeout=args.timeout)
    memory["end"] = rss_mb(server_pid)
    total = time.perf_counter() - started
    print(f"subscribers={args.subscribers} jobs={args.jobs} (steps={args.steps}, "
          f"delay={args.delay}s) connect concurrency={args.connect_concurrency}\n")
    print("| figure | p50 | p99 | max | n |\n| --- | ---: | ---: | ---: | ---: |")
    for name, values in (("connect (handshake + current state), ms", stats.connect),
                         ("event delivery lag, ms", stats.lag)):
        if values:
            print(f"| {name} | {percentile(values, .5) * 1000:.0f} | "
                  f"{percentile(values, .99) * 1000:.0f} | {max(values) * 1000:.0f} | "
                  f"{len(values)} |")
    print(f"\n- all {stats.open} subscribers connected after {connect_wall:.1f}s; "
          f"{stats.finished} saw their job's final event; run took {total:.1f}s")
    print(f"- events delivered: {len(stats.lag)} ({len(stats.lag) / total:.0f}/s)")
    print(f"- failures: {stats.failures or 'none'}")
    print("- web processes RSS (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in memory.items()))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--server-pid", type=int, help="the web server's pid, for RSS")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--connect-concurrency", type=int, default=200,
                        help="handshakes in flight at once")
    parser.add_argument("--timeout", type=float, default=300)
    return stack_arguments(parser, worker_concurrency=10,
                           worker_help="enough to run every job at once (test_slow mostly sleeps)")


if __name__ == "__main__":
    arguments = parse()
    run_against_stack(arguments, lambda processes: main(
        arguments, processes[0].pid if processes else arguments.server_pid))
