# One image for every process: web (uvicorn), Celery workers (cpu or gpu queue) and beat.
# GPU image (PyPI's CUDA build of torch): docker build --build-arg LOCK=requirements-gpu.lock .
FROM python:3.11-slim

# Everything Python comes from this lock, hash-checked (scripts/lock makes it).
ARG LOCK=requirements.lock
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var MODELS_DIR=/app/models

WORKDIR /app
COPY scripts/system-packages scripts/install-locked scripts/
# The app's Debian packages, by name in scripts/system-packages (fonts, espeak-ng, chromium and
# its driver), and the image's own: libgomp for torch/onnxruntime on CPU, curl for healthchecks.
RUN scripts/system-packages libgomp1 curl && rm -rf /var/lib/apt/lists/*
COPY requirements.lock requirements-gpu.lock ./
RUN scripts/install-locked "$LOCK"

COPY backend backend
COPY inference inference
COPY moderation moderation
COPY core core
COPY templates templates
COPY manage.py .
# The admin's and Swagger UI's static files, served by WhiteNoise from var/static. A throwaway
# key: without SECRET_KEY the settings would write a real one into the image.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0
RUN useradd --create-home --uid 1000 mengxiang && mkdir -p var models && chown -R mengxiang var models
USER mengxiang

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn backend.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --lifespan off --proxy-headers --forwarded-allow-ips=${FORWARDED_ALLOW_IPS:-127.0.0.1} --ws-max-size 1048576"]
