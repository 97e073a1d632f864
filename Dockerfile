# One image for every process: web (uvicorn), Celery workers (cpu or gpu queue) and beat.
# GPU image: docker build --build-arg TORCH_INDEX=https://download.pytorch.org/whl/cu124 .
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var MODELS_DIR=/app/models

# A CJK font for sticker captions; libgomp for torch/onnxruntime on CPU.
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends fonts-wqy-microhei libgomp1 curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install "torch==2.13.0" --index-url "$TORCH_INDEX" && pip install -r requirements.txt

COPY backend backend
COPY inference inference
COPY moderation moderation
COPY templates templates
COPY manage.py .
# The admin's and Swagger UI's static files, served by WhiteNoise from var/static. A throwaway
# key: without SECRET_KEY the settings would write a real one into the image.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v 0
RUN useradd --create-home --uid 1000 mengxiang && mkdir -p var models && chown -R mengxiang var models
USER mengxiang

EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && exec uvicorn backend.asgi:application --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --lifespan off --proxy-headers --forwarded-allow-ips=${FORWARDED_ALLOW_IPS:-127.0.0.1} --ws-max-size 1048576"]
