"""Reply latency of the Official Account's message server: N concurrent followers each send
"动漫化" and then a photo (signed, in safe mode), as WeChat posts them, to a real server on a
loopback port, against the local fake WeChat. Prints p50/p99 of both replies, how many photos
were answered with the picture itself (passive reply) or with "正在生成…" and a
customer-service message afterwards, and the time until each follower had their picture.

    python bench/bot.py --followers 50 [--photo ../shared/fixtures/faces/obama.jpg]

It starts the fake and the server itself (``manage.py serve`` in a temporary VAR_DIR: SQLite and
the in-process worker; with DATABASE_URL/REDIS_URL/S3_* set it uses those, and starts a Celery
worker beside it). Loopback only."""
from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.wechat import FakeWeChat  # noqa: E402

WORKING = "正在生成"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(fake: FakeWeChat, port: int, var: Path) -> subprocess.Popen:
    env = {**os.environ, "VAR_DIR": str(var), "MEDIA_ROOT": str(var / "media"),
           "WECHAT_API_BASE": fake.base_url, "WECHAT_MP_APPID": fake.mp_appid,
           "WECHAT_MP_SECRET": fake.mp_secret, "WECHAT_MP_TOKEN": fake.mp_token,
           "WECHAT_MP_ENCODING_AES_KEY": fake.mp_aes_key, "THROTTLE_UPLOAD": "100000/min",
           "THROTTLE_GENERATE": "100000/min", "LOG_LEVEL": "WARNING"}
    log = open(var / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "manage.py", "serve", "--port", str(port)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    if os.environ.get("REDIS_URL"):  # the production stack: its jobs run on a Celery worker
        proc.worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "backend", "worker", "-Q", "cpu,gpu",
             "--concurrency", "2", "--without-gossip", "--without-mingle", "--loglevel",
             "WARNING"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"server did not start: {(var / 'server.log').read_text()[-2000:]}")


async def follower(client, fake: FakeWeChat, url: str, photo: bytes, out: dict) -> None:
    openid = f"oBENCH{uuid.uuid4().hex[:16]}"
    for kind, xml in (("keyword", fake.mp_text(openid, "动漫化")),
                      ("photo", fake.mp_image(openid, fake.add_media(photo)))):
        query, body = fake.mp_push(xml, encrypt=True)
        started = time.perf_counter()
        response = await client.post(url, params=query, content=body)
        took = time.perf_counter() - started
        out[kind].append(took)
        timing = response.headers.get("server-timing", "")
        if "dur=" in timing:
            out["server_" + kind].append(float(timing.split("dur=")[1]) / 1000)
        if response.status_code != 200:
            out["errors"] += 1
            continue
        if kind == "photo":
            reply = fake.mp_decrypt_reply(response.content)
            if "<MsgType><![CDATA[image]]>" in reply:
                out["passive"] += 1
                out["picture"].append(took)
            elif WORKING in reply:
                out["later"][openid] = time.monotonic()
            else:
                out["other"] += 1


async def run(args, fake: FakeWeChat, url: str) -> dict:
    photo = Path(args.photo).read_bytes()
    out = {"keyword": [], "photo": [], "picture": [], "server_keyword": [], "server_photo": [], "passive": 0, "later": {}, "other": 0,
           "errors": 0}
    limits = httpx.Limits(max_connections=args.followers + 10)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        # One message first, untimed: a fresh process builds its text filter (about a second).
        query, body = fake.mp_push(fake.mp_text("oBENCHwarmup", "帮助"))
        await client.post(url, params=query, content=body)
        started = time.perf_counter()
        await asyncio.gather(*(follower(client, fake, url, photo, out)
                               for _ in range(args.followers)))
    # Pictures sent afterwards through the customer-service API.
    deadline = time.monotonic() + args.wait
    waiting = dict(out["later"])
    while waiting and time.monotonic() < deadline:
        for message in list(fake.sent):
            openid = message["touser"]
            if openid in waiting and message["msgtype"] == "image":
                out["picture"].append(message["at"] - waiting.pop(openid) + 0.0)
        await asyncio.sleep(0.1)
    out["missing"] = len(waiting)
    out["wall"] = time.perf_counter() - started
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--photo", default=str(REPO.parent / "shared/fixtures/faces/obama.jpg"))
    parser.add_argument("--wait", type=float, default=300, help="seconds to wait for late sends")
    args = parser.parse_args()
    with FakeWeChat() as fake, tempfile.TemporaryDirectory() as var:
        port = free_port()
        server = start_server(fake, port, Path(var))
        try:
            out = asyncio.run(run(args, fake, f"http://127.0.0.1:{port}/wechat/mp"))
        finally:
            for proc in (server, getattr(server, "worker", None)):
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
    print(f"| followers | reply to 动漫化 p50 / p99 | reply to the photo p50 / p99 | max | "
          f"picture as the reply | 正在生成 + later send | errors |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.followers} | {percentile(out['keyword'], .5):.3f} / "
          f"{percentile(out['keyword'], .99):.3f} s | {percentile(out['photo'], .5):.3f} / "
          f"{percentile(out['photo'], .99):.3f} s | {max(out['photo']):.3f} s | {out['passive']} | "
          f"{len(out['later'])} | {out['errors'] + out['other']} |")
    print(f"\nmeasured in the server (Server-Timing, from the request's arrival): 动漫化 p50 "
          f"{percentile(out['server_keyword'], .5):.3f} / p99 {percentile(out['server_keyword'], .99):.3f} s, "
          f"photo p50 {percentile(out['server_photo'], .5):.3f} / p99 "
          f"{percentile(out['server_photo'], .99):.3f} s, max {max(out['server_photo']):.3f} s")
    print(f"\nlater sends: {len(out['later']) - out['missing']} arrived, {out['missing']} missing; "
          f"the later ones arrived p50 {percentile(out['picture'][out['passive']:], .5):.1f} s "
          f"after their reply; whole run {out['wall']:.1f} s")


if __name__ == "__main__":
    main()
