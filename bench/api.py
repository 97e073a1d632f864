"""Load test of the HTTP API: N concurrent mini-program users each doing
upload -> generate -> wait (poll GET /jobs/{id}, or the websocket) -> download, then a
GET /jobs/{id} throughput phase and a /generate burst. Prints p50/p99 per endpoint, requests/s,
errors and end-to-end job time, as Markdown.

Against a running server:   python bench/api.py --url http://127.0.0.1:8000 --users 50
Or let it start the real stack from the environment (DATABASE_URL, REDIS_URL, S3_*), with
uvicorn and a Celery worker:  python bench/api.py --spawn --users 50
The server needs DEV_LOGIN=1 (users log in through /auth/dev) and, for the default mode,
MX_TEST_MODES=1 (``--spawn`` sets both, and lifts the per-user throttles)."""
from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
TERMINAL = {"succeeded", "failed", "blocked", "expired"}


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.errors: dict[str, int] = defaultdict(int)
        self.e2e: list[float] = []
        self.job_states: dict[str, int] = defaultdict(int)

    async def call(self, name: str, send, expect: tuple[int, ...]):
        start = time.perf_counter()
        try:
            response = await send()
        except httpx.HTTPError as exc:
            self.errors[name] += 1
            self.status[name][type(exc).__name__] += 1
            return None
        self.latency[name].append(time.perf_counter() - start)
        self.status[name][response.status_code] += 1
        if response.status_code not in expect:
            self.errors[name] += 1
            return None
        return response


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def photo() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


async def login(http: httpx.AsyncClient) -> dict:
    body = (await http.post("/auth/dev", json={"openid": f"bench-{uuid.uuid4().hex[:16]}"})).json()
    return {"Authorization": f"Token {body['token']}"}


async def wait_polling(rec: Recorder, http, headers, job_id: str, interval: float,
                       timeout: float) -> dict | None:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        response = await rec.call("GET /jobs/{id}", lambda: http.get(f"/jobs/{job_id}",
                                                                       headers=headers), (200,))
        if response is None:
            return None
        body = response.json()
        if body["state"] in TERMINAL:
            return body
        await asyncio.sleep(interval)
    rec.errors["job timeout"] += 1
    return None


async def wait_websocket(rec: Recorder, ws_url: str, headers, job_id: str, http,
                         timeout: float) -> dict | None:
    import websockets

    try:
        async with asyncio.timeout(timeout), websockets.connect(
                f"{ws_url}/ws/jobs/{job_id}/", additional_headers=headers, open_timeout=30) as ws:
            async for message in ws:
                if json.loads(message)["state"] in TERMINAL:
                    break
    except Exception:  # noqa: BLE001 - a timeout too
        rec.errors["websocket"] += 1
    response = await rec.call("GET /jobs/{id}", lambda: http.get(f"/jobs/{job_id}",
                                                                   headers=headers), (200,))
    return None if response is None else response.json()


async def user_flow(rec: Recorder, http, args, image: bytes) -> None:
    headers = await login(http)
    for _ in range(args.rounds):
        started = time.perf_counter()
        up = await rec.call("POST /upload", lambda: http.post(
            "/upload", headers=headers, files={"image": ("photo.jpg", image, "image/jpeg")}),
            (201,))
        if up is None:
            continue
        gen = await rec.call("POST /generate", lambda: http.post(
            "/generate", headers=headers, json={"upload_id": up.json()["id"], "mode": args.mode,
                                                "params": json.loads(args.params)}), (202,))
        if gen is None:
            continue
        job_id = gen.json()["job_id"]
        if args.wait == "websocket":
            job = await wait_websocket(rec, args.ws_url, headers, job_id, http, args.job_timeout)
        else:
            job = await wait_polling(rec, http, headers, job_id, args.poll_interval,
                                     args.job_timeout)
        if job is None:
            continue
        rec.job_states[job["state"]] += 1
        for result in job.get("results", []):
            await rec.call("GET /download/{id}", lambda: http.get(result["download_url"],
                                                                   headers=headers), (200, 302))
        rec.e2e.append(time.perf_counter() - started)


async def poll_phase(rec: Recorder, http, args, image: bytes) -> float:
    """``--users`` clients each GET their own job as fast as they can for ``--poll-seconds``."""
    headers = await login(http)
    up = (await http.post("/upload", headers=headers,
                          files={"image": ("photo.jpg", image, "image/jpeg")})).json()
    job = await http.post("/generate", headers=headers, json={
        "upload_id": up["id"], "mode": args.mode, "params": json.loads(args.params)})
    job_id = job.json()["job_id"]
    stop = time.perf_counter() + args.poll_seconds
    count = 0

    async def client():
        nonlocal count
        while time.perf_counter() < stop:
            await rec.call("GET /jobs/{id} (throughput)",
                           lambda: http.get(f"/jobs/{job_id}", headers=headers), (200,))
            count += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(args.users)))
    return count / (time.perf_counter() - started)


async def generate_burst(rec: Recorder, http, args, image: bytes) -> float:
    """``--users`` clients each POST /generate ``--burst`` times back to back."""
    users = []
    for _ in range(args.users):
        headers = await login(http)
        up = (await http.post("/upload", headers=headers,
                              files={"image": ("photo.jpg", image, "image/jpeg")})).json()
        users.append((headers, up["id"]))

    async def client(headers, upload_id):
        for _ in range(args.burst):
            await rec.call("POST /generate (burst)", lambda: http.post(
                "/generate", headers=headers, json={"upload_id": upload_id, "mode": args.mode,
                                                    "params": json.loads(args.burst_params)}),
                (202,))

    started = time.perf_counter()
    await asyncio.gather(*(client(h, u) for h, u in users))
    return args.users * args.burst / (time.perf_counter() - started)


def report(rec: Recorder, args, elapsed: float, poll_rps: float, burst_rps: float) -> str:
    lines = [f"users={args.users} rounds={args.rounds} mode={args.mode} params={args.params} "
             f"wait={args.wait} flow time={elapsed:.1f}s",
             "", "| endpoint | requests | p50 ms | p99 ms | max ms | errors | statuses |",
             "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, values in rec.latency.items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(rec.status[name].items(), key=str))
        lines.append(f"| {name} | {len(values)} | {percentile(values, .5) * 1000:.0f} | "
                     f"{percentile(values, .99) * 1000:.0f} | {max(values) * 1000:.0f} | "
                     f"{rec.errors[name]} | {statuses} |")
    five_xx = sum(n for s in rec.status.values() for code, n in s.items()
                  if isinstance(code, int) and code >= 500)
    lines += ["", f"- flow requests/s: {sum(map(len, rec.latency.values())) / elapsed:.0f} "
              "(all endpoints, during the user flow and phases)",
              f"- GET /jobs/{{id}} throughput with {args.users} clients: {poll_rps:.0f} requests/s",
              f"- POST /generate burst with {args.users} clients: {burst_rps:.0f} requests/s",
              f"- end-to-end job (upload to download) p50/p99: {percentile(rec.e2e, .5):.2f} s / "
              f"{percentile(rec.e2e, .99):.2f} s over {len(rec.e2e)} jobs; final states "
              f"{dict(rec.job_states)}",
              f"- 5xx: {five_xx}; other errors: {dict(rec.errors)}"]
    return "\n".join(lines)


async def main(args) -> None:
    image = photo()
    # Idle connections are dropped before the server's keep-alive timeout (5 s) could close them.
    limits = httpx.Limits(max_connections=args.users * 2, max_keepalive_connections=args.users * 2,
                          keepalive_expiry=3)
    async with httpx.AsyncClient(base_url=args.url, timeout=120, limits=limits) as http:
        rec = Recorder()
        started = time.perf_counter()
        await asyncio.gather(*(user_flow(rec, http, args, image) for _ in range(args.users)))
        elapsed = time.perf_counter() - started
        poll_rps = await poll_phase(rec, http, args, image) if args.poll_seconds else 0.0
        burst_rps = await generate_burst(rec, http, args, image) if args.burst else 0.0
    print(report(rec, args, elapsed, poll_rps, burst_rps))


def spawn(args) -> list[subprocess.Popen]:
    """The production processes on this machine: uvicorn and a Celery worker."""
    env = {**os.environ, "DEV_LOGIN": "1", "MX_TEST_MODES": "1", "LOG_LEVEL": "WARNING",
           "THROTTLE_UPLOAD": "100000/min", "THROTTLE_GENERATE": "100000/min",
           "THROTTLE_AUTH": "100000/min"}
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=REPO,
                   env=env, check=True)
    log = open(args.log, "ab")
    port = args.url.rsplit(":", 1)[1]
    procs = [
        subprocess.Popen([sys.executable, "-m", "uvicorn", "backend.asgi:application", "--host",
                          "127.0.0.1", "--port", port, "--workers", str(args.web_workers),
                          "--lifespan", "off", "--no-access-log"], cwd=REPO, env=env,
                         stdout=log, stderr=log, start_new_session=True),
        subprocess.Popen([sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q",
                          "cpu,gpu", "--concurrency", str(args.worker_concurrency),
                          "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                         cwd=REPO, env=env, stdout=log, stderr=log, start_new_session=True),
    ]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{args.url}/healthz", timeout=2).status_code == 200:
                time.sleep(3)  # the worker's start-up
                return procs
        except httpx.HTTPError:
            time.sleep(0.5)
    stop(procs)
    raise SystemExit(f"server did not start; see {args.log}")


def stop(procs) -> None:
    import signal

    for proc in procs:  # the parents only: a warm shutdown lets running jobs finish
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=1, help="upload->download cycles per user")
    parser.add_argument("--mode", default="test_slow")
    parser.add_argument("--params", default='{"steps": 10, "delay": 0.1}')
    parser.add_argument("--wait", choices=["poll", "websocket"], default="poll")
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--job-timeout", type=float, default=180.0)
    parser.add_argument("--poll-seconds", type=float, default=15.0)
    parser.add_argument("--burst", type=int, default=5,
                        help="/generate calls per user in the burst")
    parser.add_argument("--burst-params", default='{"steps": 1, "delay": 0}')
    return stack_arguments(parser, worker_concurrency=2)


def stack_arguments(parser: argparse.ArgumentParser, *, worker_concurrency: int,
                    worker_help: str | None = None) -> argparse.Namespace:
    """The options every load benchmark shares (the stack it may start), then the parse."""
    parser.add_argument("--spawn", action="store_true", help="start uvicorn and a Celery worker")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--worker-concurrency", type=int, default=worker_concurrency,
                        help=worker_help)
    parser.add_argument("--log", default="var/bench-stack.log")
    args = parser.parse_args()
    args.ws_url = args.url.replace("http", "ws", 1)
    return args


def run_against_stack(options: argparse.Namespace, make_main) -> None:
    """Run ``make_main(processes)`` with the stack started (``--spawn``) and always stopped."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # still stop the spawned stack
    processes = spawn(options) if options.spawn else []
    try:
        asyncio.run(make_main(processes))
    finally:
        stop(processes)


if __name__ == "__main__":
    arguments = parse()
    run_against_stack(arguments, lambda processes: main(arguments))
