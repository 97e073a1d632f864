"""Object storage: S3 (through the ``minio`` client) in production, a folder on disk embedded.

Both speak the same small interface, so services never care which one runs. Keys look like
``u/<user id>/uploads/<uuid>.jpg``: per user, never guessable from outside.
"""
from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core import signing
from django.urls import reverse


SHARE_SALT = "storage.share"


class StorageError(Exception):
    """The object store failed (unreachable, refused); callers retry or report 503."""


class LocalStorage:
    kind = "local"

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise StorageError(f"key escapes the storage root: {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        tmp = path.with_name(path.name + ".part")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            os.replace(tmp, path)
        except OSError as exc:  # a full or read-only disk: the callers answer 503, not 500
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            raise StorageError(f"could not store {key!r}: {exc}") from exc

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def open(self, key: str):
        try:
            return self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise KeyError(key) from exc

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not delete {key!r}: {exc}") from exc

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root.resolve()
        folder = self._path(prefix.rstrip("/")) if prefix.strip("/") else base
        if not folder.is_dir():
            return []
        return sorted(str(path.relative_to(base)) for path in folder.rglob("*")
                      if path.is_file() and str(path.relative_to(base)).startswith(prefix))

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many."""
        keys = self.list_keys(prefix)
        try:
            for key in keys:
                self.delete(key)
        except OSError as exc:
            raise StorageError(f"could not delete under {prefix!r}: {exc}") from exc
        return len(keys)

    def share_url(self, key: str, ttl_seconds: int, *, content_type: str = "") -> str:
        """A URL that serves this object without auth for ``ttl_seconds`` (signed by SECRET_KEY)."""
        payload = {"k": key, "t": content_type, "e": int(time.time() + ttl_seconds)}
        return reverse("storage-share", args=[signing.dumps(payload, salt=SHARE_SALT)])

    @staticmethod
    def read_share_token(token: str) -> dict | None:
        """The payload of a share token that is authentic and unexpired, else None."""
        try:
            payload = signing.loads(token, salt=SHARE_SALT)
        except signing.BadSignature:
            return None
        return payload if payload.get("e", 0) >= time.time() else None

    def check(self) -> None:
        if not os.access(self.root, os.W_OK):
            raise StorageError(f"{self.root} is not writable")


class S3Storage:
    kind = "s3"

    def __init__(self, *, endpoint: str, access_key: str, secret_key: str, bucket: str,
                 region: str, public_endpoint: str = "") -> None:
        from minio import Minio

        self.bucket = bucket
        self.client = self._client(Minio, endpoint, access_key, secret_key, region)
        # Presigned URLs must be signed for the host the client will use, which may differ
        # from the one the workers reach (docker network vs the public internet).
        self.public_client = (self._client(Minio, public_endpoint, access_key, secret_key, region)
                              if public_endpoint else self.client)
        self._ready = False
        self._lock = threading.Lock()

    @staticmethod
    def _client(cls, endpoint, access_key, secret_key, region):
        parsed = urlparse(endpoint if "://" in endpoint else f"http://{endpoint}")
        return cls(parsed.netloc, access_key=access_key, secret_key=secret_key,
                   secure=parsed.scheme == "https", region=region)

    def ensure_bucket(self) -> None:
        """Create the bucket if missing and give it a lifecycle expiry rule as a backstop."""
        from minio.commonconfig import ENABLED, Filter
        from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

        with self._lock:
            if self._ready:
                return
            try:
                if not self.client.bucket_exists(self.bucket):
                    self.client.make_bucket(self.bucket)
                days = max(1, int(-(-settings.RETENTION_HOURS // 24)) + 1)
                rule = Rule(ENABLED, rule_filter=Filter(prefix="u/"), rule_id="retention-backstop",
                            expiration=Expiration(days=days))
                try:
                    self.client.set_bucket_lifecycle(self.bucket, LifecycleConfig([rule]))
                except Exception:  # noqa: BLE001 - some S3 servers lack lifecycle; purge still runs
                    pass
            except Exception as exc:  # noqa: BLE001
                raise StorageError(f"object storage unreachable: {exc}") from exc
            self._ready = True

    def _call(self, fn, *args, **kwargs):
        self.ensure_bucket()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            from minio.error import S3Error

            if isinstance(exc, S3Error) and exc.code in {"NoSuchKey", "NoSuchObject"}:
                raise KeyError(args[1] if len(args) > 1 else "") from exc
            raise StorageError(str(exc)) from exc

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self._call(self.client.put_object, self.bucket, key, io.BytesIO(data), len(data),
                   content_type=content_type)

    def get(self, key: str) -> bytes:
        response = self._call(self.client.get_object, self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def open(self, key: str):
        return io.BytesIO(self.get(key))

    def exists(self, key: str) -> bool:
        try:
            self._call(self.client.stat_object, self.bucket, key)
            return True
        except KeyError:
            return False

    def delete(self, key: str) -> None:
        self._call(self.client.remove_object, self.bucket, key)

    def list_keys(self, prefix: str) -> list[str]:
        objects = self._call(self.client.list_objects, self.bucket, prefix=prefix, recursive=True)
        try:
            return sorted(obj.object_name for obj in objects)  # the listing is read lazily
        except Exception as exc:  # noqa: BLE001
            raise StorageError(str(exc)) from exc

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with ``prefix``; returns how many. Raises
        ``StorageError`` when any could not be deleted (a retry deletes the rest)."""
        from minio.deleteobjects import DeleteObject

        keys = self.list_keys(prefix)
        if not keys:
            return 0
        try:
            errors = list(self._call(self.client.remove_objects, self.bucket,
                                     [DeleteObject(key) for key in keys]))
        except KeyError:
            errors = []
        except Exception as exc:  # noqa: BLE001 - remove_objects reports lazily, while iterated
            raise StorageError(str(exc)) from exc
        if errors:
            raise StorageError(f"{len(errors)} objects under {prefix!r} not deleted: {errors[0]}")
        return len(keys)

    def share_url(self, key: str, ttl_seconds: int, *, content_type: str = "") -> str:
        self.ensure_bucket()
        headers = {"response-content-type": content_type} if content_type else None
        return self.public_client.presigned_get_object(
            self.bucket, key, expires=timedelta(seconds=ttl_seconds), response_headers=headers)

    def check(self) -> None:
        self._ready = False
        self.ensure_bucket()


_storage = None
_storage_lock = threading.Lock()


def get_storage():
    """The process-wide storage chosen by settings (S3 when S3_ENDPOINT is set)."""
    global _storage
    with _storage_lock:
        if _storage is None:
            if settings.S3_ENDPOINT:
                _storage = S3Storage(endpoint=settings.S3_ENDPOINT, access_key=settings.S3_ACCESS_KEY,
                                     secret_key=settings.S3_SECRET_KEY, bucket=settings.S3_BUCKET,
                                     region=settings.S3_REGION,
                                     public_endpoint=settings.S3_PUBLIC_ENDPOINT)
            else:
                _storage = LocalStorage(settings.MEDIA_ROOT)
        return _storage


def reset_storage() -> None:
    """Forget the cached storage (tests that change settings call this)."""
    global _storage
    with _storage_lock:
        _storage = None
