"""Every setting of the service, each read from one environment variable with a default that
works on a bare machine (embedded mode: SQLite, local files, in-memory channel layer and an
in-process worker). The README lists them all."""
from __future__ import annotations

import ipaddress
import os
from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from backend.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

def _local_secret_key() -> str:
    """Without SECRET_KEY, a random key kept in var/ (never a key known from the source)."""
    import secrets

    path = VAR_DIR / "secret-key"
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: of processes starting together, exactly one writes the key
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY") or _local_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "*")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "backend.accounts",
    "backend.uploads",
    "backend.jobs",
    "backend.stickers",
    "backend.talking",
    "backend.portraits",
    "backend.web",
    "backend.console",
    "backend.mpbot",
    "moderation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (the admin's, Swagger UI's) from the app itself, in every mode.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # zh-hans unless the request asks for English (Accept-Language, or the console's switch).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "backend.urls"
# Threads per web process for Django's synchronous work, reused across requests. Few beat many:
# the work is CPU-bound and threads contend for the GIL; scale with web processes instead.
HTTP_THREADS = env_int("HTTP_THREADS", 4)
ASGI_APPLICATION = "backend.asgi.application"
WSGI_APPLICATION = "backend.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # The web client's and the moderators' console's pages (templates/web, templates/console).
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL points at PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    # Under ASGI every request runs in a thread of its own, so persistent connections pile up
    # (PostgreSQL runs out of clients) and fresh ones cost milliseconds: a pool per process.
    DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 8 if find_spec("psycopg_pool") else 0)
    if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN_SIZE", 1), "max_size": DB_POOL_MAX_SIZE,
            "timeout": env_float("DB_POOL_TIMEOUT", 10.0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            # A file, not memory: the in-process worker's threads must see the test data.
            # One file per test process, so parallel runs never share one.
            "TEST": {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several threads write (requests, in-process jobs): wait for the lock instead of failing,
    # and take it when a transaction starts, since upgrading a read to a write fails at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "timeout": 20, "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"})
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker, channel layer and shared cache when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py refuses (rather than waits) past max_connections, whose default of 100
            # a burst of websocket handshakes exceeds; and its default 5 s read timeout equals
            # channels_redis's 5 s blocking receive, so a busy server's consumers crashed.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": 30,
                                  "max_connections": env_int("CHANNEL_REDIS_MAX_CONNECTIONS", 1000)}],
                       "prefix": env_str("CHANNEL_PREFIX", "mx")},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL, "KEY_PREFIX": env_str("CACHE_PREFIX", "mx")}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Jobs: "celery" with Redis, else the in-process worker running the same task functions.
TASK_RUNNER = env_str("TASK_RUNNER", "celery" if REDIS_URL else "inprocess")
INPROCESS_WORKERS = env_int("INPROCESS_WORKERS", 2)
JOB_SOFT_TIME_LIMIT = env_int("JOB_SOFT_TIME_LIMIT", 240)
JOB_TIME_LIMIT = env_int("JOB_TIME_LIMIT", 300)
JOB_MAX_ATTEMPTS = env_int("JOB_MAX_ATTEMPTS", 3)
PURGE_INTERVAL_SECONDS = env_int("PURGE_INTERVAL_SECONDS", 600)
# Progress events per second per job at most (stage changes and the final event always go out).
JOB_PROGRESS_MAX_RATE = env_float("JOB_PROGRESS_MAX_RATE", 10.0)
# How often the sweeper fails jobs still running past their deadline.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60)
# How long a voice job waits for its owner to confirm what was heard before it is cancelled.
VOICE_CONFIRM_TIMEOUT = env_int("VOICE_CONFIRM_TIMEOUT", 600)
# Test-only generation modes (backend/jobs/modes/testing.py); never set in production.
TEST_MODES = env_bool("MX_TEST_MODES", False)

CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Each worker process loads its models at start (backend.jobs.warmup), which takes seconds.
CELERY_WORKER_PROC_ALIVE_TIMEOUT = 120
CELERY_TASK_SOFT_TIME_LIMIT = JOB_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = JOB_TIME_LIMIT
CELERY_TASK_IGNORE_RESULT = True
_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", JOB_TIME_LIMIT + 60)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # An unacknowledged job (its worker died) is redelivered after this many seconds...
    "visibility_timeout": _VISIBILITY_TIMEOUT,
    # ...by any worker's sweep for such jobs, which otherwise runs only every ~100 s.
    "unacked_restore_interval": max(1, min(10, _VISIBILITY_TIMEOUT // 4)),
    "unacked_restore_throttle": 1,
}
# A job still running this long after it started is failed by the sweeper (job_stuck). Past the
# redelivery of a dead worker's job, so that redelivery gets its chance first.
JOB_DEADLINE_SECONDS = env_int(
    "JOB_DEADLINE_SECONDS",
    max(JOB_TIME_LIMIT, CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]) + 60
    if TASK_RUNNER == "celery" else JOB_TIME_LIMIT + 30)
CELERY_TASK_DEFAULT_QUEUE = "cpu"
CELERY_BEAT_SCHEDULE = {
    "purge-expired": {"task": "backend.jobs.tasks.purge_expired_task",
                      "schedule": float(PURGE_INTERVAL_SECONDS)},
    "sweep-stuck": {"task": "backend.jobs.tasks.sweep_stuck_task",
                    "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Other apps' recoveries (the Official Account's unsent messages and unfinished deletions).
    "recover": {"task": "backend.jobs.tasks.recover_task",
                "schedule": float(SWEEP_INTERVAL_SECONDS)},
}

# --- Storage: local files under var/media unless S3_ENDPOINT is set.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
S3_ENDPOINT = env_str("S3_ENDPOINT", "")
S3_ACCESS_KEY = env_str("S3_ACCESS_KEY", "")
S3_SECRET_KEY = env_str("S3_SECRET_KEY", "")
S3_BUCKET = env_str("S3_BUCKET", "mengxiang")
S3_REGION = env_str("S3_REGION", "us-east-1")
S3_PUBLIC_ENDPOINT = env_str("S3_PUBLIC_ENDPOINT", "")
DOWNLOAD_URL_TTL = env_int("DOWNLOAD_URL_TTL", 300)

# --- Uploads and retention.
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 10 * 1024 * 1024)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 40_000_000)
UPLOAD_MAX_SIDE = env_int("UPLOAD_MAX_SIDE", 12_000)
# The long side of the copy that is kept: the largest working size of any mode (anime face and
# full); 2048² decodes to 12 MB.
UPLOAD_WORKING_SIDE = env_int("UPLOAD_WORKING_SIDE", 2048)
UPLOAD_URL_TIMEOUT = env_float("UPLOAD_URL_TIMEOUT", 10.0)
UPLOAD_URL_ALLOW_NETWORKS = env_list("UPLOAD_URL_ALLOW_NETWORKS", "")
for _network in UPLOAD_URL_ALLOW_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"UPLOAD_URL_ALLOW_NETWORKS: {_exc}") from None
# Recordings: bounded in bytes before decoding and in seconds after; ffmpeg gets this long.
AUDIO_MAX_BYTES = env_int("AUDIO_MAX_BYTES", UPLOAD_MAX_BYTES)
AUDIO_MAX_SECONDS = env_int("AUDIO_MAX_SECONDS", 60)
AUDIO_DECODE_TIMEOUT = env_float("AUDIO_DECODE_TIMEOUT", 15.0)
RETENTION_HOURS = env_float("RETENTION_HOURS", 72)
# POST /api/v1/aigc_images/create waits this long for its portrait (PAI answers synchronously);
# a job still running then is answered with its job id.
PORTRAIT_CREATE_WAIT = env_float("PORTRAIT_CREATE_WAIT", 120.0)
# A request may exceed the file by its multipart framing and small fields: 64 KiB, under a MB,
# so the request's refusal (backend/http.py) and the file's name the same limit in MB.
UPLOAD_REQUEST_OVERHEAD = 64 * 1024
UPLOAD_FILE_MAX_BYTES = max(UPLOAD_MAX_BYTES, AUDIO_MAX_BYTES)  # a photo or a recording
DATA_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_FILE_MAX_BYTES + UPLOAD_REQUEST_OVERHEAD
FILE_UPLOAD_MAX_MEMORY_SIZE = UPLOAD_FILE_MAX_BYTES + UPLOAD_REQUEST_OVERHEAD

# --- Models and pipelines.
MODELS_DIR = Path(env_str("MODELS_DIR", str(BASE_DIR / "models")))
SD_MODEL_DIR = env_str("SD_MODEL_DIR", "")
# Route diffusion work to the "gpu" queue (run a worker with -Q gpu on a GPU machine).
GPU_QUEUE = env_bool("GPU_QUEUE", False)
# Portraits' LoRA training (with SD_MODEL_DIR): EasyPhoto's steps and learning rate; rank 32
# (alpha the same) keeps a person's file at ~26 MB.
PORTRAIT_LORA_STEPS = max(1, env_int("PORTRAIT_LORA_STEPS", 800))
PORTRAIT_LORA_RANK = max(1, env_int("PORTRAIT_LORA_RANK", 32))
PORTRAIT_LORA_LEARNING_RATE = env_float("PORTRAIT_LORA_LEARNING_RATE", 1e-4)
ANIME_DEFAULT_STYLE = env_str("ANIME_DEFAULT_STYLE", "auto")
# The AnimeGAN checkpoint that styles a voice picture after SD txt2img: auto (the description's
# style if installed, else a scene style), none, or a checkpoint's name (inference/voice/painted).
VOICE_ANIME_STYLE = env_str("VOICE_ANIME_STYLE", "auto")

# --- Live talking head (SillyTavern-extras' routes, backend/talking).
TALKINGHEAD_SIZE = env_int("TALKINGHEAD_SIZE", 512)  # the square frames' side
TALKINGHEAD_FPS = env_int("TALKINGHEAD_FPS", 25)  # until animator settings say otherwise
TALKINGHEAD_MAX_FPS = env_int("TALKINGHEAD_MAX_FPS", 30)
# One feed ends after this long (the client reconnects); it ends at once when the client leaves.
TALKINGHEAD_FEED_MAX_SECONDS = env_int("TALKINGHEAD_FEED_MAX_SECONDS", 600)
# Renders run on these threads, never on the HTTP pool's.
TALKINGHEAD_RENDER_THREADS = env_int("TALKINGHEAD_RENDER_THREADS", 2)
TALKINGHEAD_STATE_TTL = env_int("TALKINGHEAD_STATE_TTL", 24 * 3600)  # idle character forgotten
TALKINGHEAD_JPEG_QUALITY = env_int("TALKINGHEAD_JPEG_QUALITY", 85)
# Live feeds one user may watch at once (across web processes); one more is 429 too_many_feeds.
TALKINGHEAD_MAX_FEEDS = env_int("TALKINGHEAD_MAX_FEEDS", 2)
# How often a feed checks its credential again (a revoked key, a deleted account) and renews
# its slot; a dead process's slots are free after four of these.
TALKINGHEAD_FEED_RECHECK_SECONDS = env_float("TALKINGHEAD_FEED_RECHECK_SECONDS", 5.0)

# --- Auth.
WECHAT_API_BASE = env_str("WECHAT_API_BASE", "https://api.weixin.qq.com")
WECHAT_APPID = env_str("WECHAT_APPID", "")
WECHAT_SECRET = env_str("WECHAT_SECRET", "")
WECHAT_TIMEOUT = env_float("WECHAT_TIMEOUT", 5.0)
DEV_LOGIN = env_bool("DEV_LOGIN", False)
TOKEN_TTL_HOURS = env_float("TOKEN_TTL_HOURS", 24 * 30)
# A code from the mini-program that signs a browser in (backend/accounts/browser_code.py).
BROWSER_CODE_TTL_SECONDS = env_int("BROWSER_CODE_TTL_SECONDS", 120)
BROWSER_CODE_FAILURES_PER_MINUTE = env_int("BROWSER_CODE_FAILURES_PER_MINUTE", 300)
# How long a web process trusts a token it has checked (0: check the database every time).
TOKEN_CACHE_SECONDS = env_float("TOKEN_CACHE_SECONDS", 30)

# --- Moderation (see the README's Moderation section).
MODERATION_NUDENET = env_bool("MODERATION_NUDENET", True)
MODERATION_NUDENET_RULES = env_str("MODERATION_NUDENET_RULES", "")
MODERATION_NUDENET_THREADS = env_int("MODERATION_NUDENET_THREADS", 1)
MODERATION_WORDLIST_RELOAD_SECONDS = env_float("MODERATION_WORDLIST_RELOAD_SECONDS", 5.0)
MODERATION_PREVIEW_TTL = env_int("MODERATION_PREVIEW_TTL", 600)
MODERATION_OFFENDER_STRIKES = env_int("MODERATION_OFFENDER_STRIKES", 3)
MODERATION_OFFENDER_WINDOW_SECONDS = env_int("MODERATION_OFFENDER_WINDOW_SECONDS", 86400)
MODERATION_OFFENDER_RATE = env_str("MODERATION_OFFENDER_RATE", "5/hour")
MODERATION_WECHAT = env_bool("MODERATION_WECHAT", False)
MODERATION_WECHAT_IMAGES = env_bool("MODERATION_WECHAT_IMAGES", True)
MODERATION_WECHAT_AUDIO = env_bool("MODERATION_WECHAT_AUDIO", True)
MODERATION_WECHAT_SCENE = env_int("MODERATION_WECHAT_SCENE", 2)
MODERATION_FAIL_OPEN = env_bool("MODERATION_FAIL_OPEN", False)
MODERATION_PUBLIC_BASE_URL = env_str("MODERATION_PUBLIC_BASE_URL", "")
MODERATION_WECHAT_MEDIA_URL_TTL = env_int("MODERATION_WECHAT_MEDIA_URL_TTL", 3600)
MODERATION_WECHAT_PUSH_TIMEOUT = env_int("MODERATION_WECHAT_PUSH_TIMEOUT", 1800)
WECHAT_PUSH_TOKEN = env_str("WECHAT_PUSH_TOKEN", "")
WECHAT_PUSH_MAX_AGE = env_int("WECHAT_PUSH_MAX_AGE", 300)
WECHAT_PUSH_CLOCK_SKEW = env_int("WECHAT_PUSH_CLOCK_SKEW", 60)
WECHAT_TOKEN_REFRESH_MARGIN = env_int("WECHAT_TOKEN_REFRESH_MARGIN", 300)
# --- The Official Account's message server (backend/mpbot); off, /wechat/mp 404, while unset.
WECHAT_MP_APPID = env_str("WECHAT_MP_APPID", "")
WECHAT_MP_SECRET = env_str("WECHAT_MP_SECRET", "")
WECHAT_MP_TOKEN = env_str("WECHAT_MP_TOKEN", "")
WECHAT_MP_ENCODING_AES_KEY = env_str("WECHAT_MP_ENCODING_AES_KEY", "")
WECHAT_MP_REPLY_SECONDS = env_float("WECHAT_MP_REPLY_SECONDS", 4.5)  # WeChat gives up at 5
WECHAT_MP_CONVERSATION_SECONDS = env_int("WECHAT_MP_CONVERSATION_SECONDS", 600)
WECHAT_MP_SEND_ATTEMPTS = env_int("WECHAT_MP_SEND_ATTEMPTS", 6)
WECHAT_MP_THREADS = env_int("WECHAT_MP_THREADS", 4)
WECHAT_MP_PICURL_HOSTS = env_list("WECHAT_MP_PICURL_HOSTS", "mmbiz.qpic.cn,mmbiz.qlogo.cn")
CELERY_BEAT_SCHEDULE["moderation-expire-waits"] = {
    "task": "moderation.tasks.expire_wechat_waits_task", "schedule": 300.0}

# --- API.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["backend.accounts.auth.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["backend.parsers.SafeJSONParser",
                               "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "core.errors.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_RATES": {
        "upload": env_str("THROTTLE_UPLOAD", "30/min"),
        "generate": env_str("THROTTLE_GENERATE", "20/min"),
        "auth": env_str("THROTTLE_AUTH", "30/min"),
        "browser_code": env_str("THROTTLE_BROWSER_CODE", "10/min"),
    },
    "UNAUTHENTICATED_USER": None,
    # Proxies in front of the app that append to X-Forwarded-For; 0 trusts no client header.
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Mengxiang API",
    "DESCRIPTION": "Photos in, anime avatars and stickers out. Log in with POST /auth/wechat and "
                   "send `Authorization: Token <token>`. Every error is "
                   "`{error: {code, message}}`; unknown fields are refused (`unknown_field`).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files: /api/docs/ works offline and without a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Translations (.po in the repository, compiled to .mo by scripts/setup): the project's own here,
# an app's in its locale/ folder.
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
# `collectstatic` fills it (the Docker image does at build); without it, WhiteNoise serves the
# apps' own static folders (embedded mode needs no extra step).
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns at every start otherwise
WHITENOISE_USE_FINDERS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every URL at INFO, and WeChat's URLs carry the app secret and access tokens.
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
