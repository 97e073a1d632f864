"""Benchmark: memory of an upload and of each job mode, in the embedded server's process.

Each case runs in a fresh child process (embedded mode: SQLite and files in a temporary folder,
jobs on the in-process worker), which loads what a serving process loads (Django, the modes,
the face models and NudeNet) and does one small warm-up upload and job, then reports:
- idle: RSS before the measured work,
- peak: the highest RSS seen by a thread sampling every 2 ms during it,
- after: RSS a second after it finished.
Inputs: a single-colour 11999×3333 PNG (just under the 40 MP limit, a 39 KB file) and a
photo-like 5600×7000 JPEG (the astronaut, scaled up).

    .venv/bin/python bench/memory.py [--cases upload:wide,anime-full:photo,...] [--parallel 2]

Run against an older checkout with ``--repo PATH`` to compare (the children import from it).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MB = 2**20
IMAGES = ("wide", "photo")
WORK = ("upload", "anime-face", "anime-avatar", "anime-full", "sticker")
JOB_REQUESTS = {
    "anime-face": ("anime", {"mode": "face"}, ""),
    "anime-avatar": ("anime", {"mode": "avatar"}, ""),
    "anime-full": ("anime", {"mode": "full"}, ""),
    "sticker": ("sticker", {}, "开心"),
}


def make_images(folder: Path) -> dict[str, Path]:
    import cv2
    from PIL import Image
    from skimage import data

    paths = {"wide": folder / "wide.png", "photo": folder / "photo.jpg"}
    Image.new("RGB", (11999, 3333), (90, 140, 200)).save(paths["wide"], "PNG")
    photo = cv2.resize(data.astronaut(), (5600, 7000), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(photo).save(paths["photo"], "JPEG", quality=85)
    return paths


# --- the child: one case in one process ---------------------------------------------------

class PeakSampler(threading.Thread):
    def __init__(self, process) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.running = process, 0, True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.002)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, self.process.memory_info().rss)


def child(work: str, image: Path, parallel: int) -> dict:
    import django
    import psutil

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from PIL import Image

    from backend.jobs import runner
    from backend.jobs.warmup import warm_up_models
    from backend.uploads.services import upload_create

    call_command("migrate", verbosity=0)
    import backend.jobs.modes  # noqa: F401 - registers the modes, as the server does
    warm_up_models()
    user = get_user_model().objects.create(username=f"bench-{os.getpid()}")
    small = io.BytesIO()
    Image.open(image).convert("RGB").resize((640, 800)).save(small, "JPEG")

    def run_job(upload) -> None:
        from backend.jobs.services import job_create

        mode, params, text = JOB_REQUESTS[work]
        job_create(user=user, upload_id=upload.id, mode=mode, params=params, text=text)

    # Warm up: a small upload (and job) first, so code and models are loaded before measuring.
    warm = upload_create(user=user, data=small.getvalue())
    if work != "upload":
        run_job(warm)
        runner.wait_idle()
    data = image.read_bytes()
    uploads = [] if work == "upload" else [upload_create(user=user, data=data)
                                           for _ in range(parallel)]
    time.sleep(0.5)
    process = psutil.Process()
    idle = process.memory_info().rss
    sampler = PeakSampler(process)
    sampler.start()
    started = time.perf_counter()
    if work == "upload":
        threads = [threading.Thread(target=upload_create, kwargs={"user": user, "data": data})
                   for _ in range(parallel)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for upload in uploads:
            run_job(upload)
        runner.wait_idle()
    seconds = time.perf_counter() - started
    peak = sampler.stop()
    time.sleep(1.0)
    after = process.memory_info().rss
    from backend.jobs.models import Job

    states = sorted({job.state for job in Job.objects.all()})
    return {"idle": idle, "peak": peak, "after": after, "seconds": seconds, "states": states}


# --- the parent: one child per case, then the table -----------------------------------------

def run_case(repo: Path, work: str, image: Path, parallel: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mx-bench-memory-") as var:
        env = {key: value for key, value in os.environ.items()
               if key not in {"DATABASE_URL", "REDIS_URL", "S3_ENDPOINT"}}
        env.update(VAR_DIR=var, DJANGO_SETTINGS_MODULE="backend.settings",
                   INPROCESS_WORKERS=str(max(2, parallel)), PYTHONPATH=str(repo))
        done = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", work, "--image", str(image),
             "--parallel", str(parallel)],
            cwd=repo, env=env, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1:]}
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=",".join(f"{w}:{i}" for w in WORK for i in IMAGES),
                        help="work:image pairs; work in %s, image in %s" % (WORK, IMAGES))
    parser.add_argument("--parallel", type=int, default=1, help="uploads or jobs at once")
    parser.add_argument("--repo", type=Path, default=REPO, help="the checkout to measure")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.getcwd())
        print(json.dumps(child(args.child, args.image, args.parallel)))
        return

    with tempfile.TemporaryDirectory(prefix="mx-bench-images-") as folder:
        images = make_images(Path(folder))
        print(f"{args.parallel} at once; RSS in MB; idle = after warm-up\n")
        print("| work | image | idle | peak | peak − idle | after − idle | seconds | jobs |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
        for case in args.cases.split(","):
            work, image = case.split(":")
            figures = run_case(args.repo.resolve(), work, images[image], args.parallel)
            if "error" in figures:
                print(f"| {work} | {image} | error: {figures['error']} |", flush=True)
                continue
            idle, peak, after = (figures[k] / MB for k in ("idle", "peak", "after"))
            print(f"| {work} | {image} | {idle:.0f} | {peak:.0f} | {peak - idle:.0f} | "
                  f"{after - idle:.0f} | {figures['seconds']:.1f} | "
                  f"{'/'.join(figures['states'])} |", flush=True)


if __name__ == "__main__":
    main()
