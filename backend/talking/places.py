"""How many live feeds each user has open, across web processes: numbered places in Django's
cache (Redis in production), at most TALKINGHEAD_MAX_FEEDS per user. ``cache.add`` (Redis
``SET NX``) takes a free place atomically, with a lease the feed renews every
TALKINGHEAD_FEED_RECHECK_SECONDS and deletes when it ends; the places of a process that died
mid-feed are free once their leases lapse."""
from __future__ import annotations

import uuid

from django.conf import settings
from django.core.cache import cache

# A lease outlives this many renewal periods, so a slow renewal never loses its place.
LEASE_RENEWALS = 4


def _lease_seconds() -> int:
    return int(LEASE_RENEWALS * settings.TALKINGHEAD_FEED_RECHECK_SECONDS) + 1


def _place_key(user_id, place: int) -> str:
    return f"talkinghead:feed:{user_id}:{place}"


def feed_place_take(user_id) -> tuple[str, str] | None:
    """A free feed place of the user's, taken (its cache key and our lease); None when all
    TALKINGHEAD_MAX_FEEDS are taken."""
    lease = uuid.uuid4().hex
    for place in range(settings.TALKINGHEAD_MAX_FEEDS):
        key = _place_key(user_id, place)
        if cache.add(key, lease, _lease_seconds()):
            return key, lease
    return None


def feed_place_renew(held: tuple[str, str]) -> bool:
    """Keep the place; False if it lapsed and another feed took it meanwhile."""
    key, lease = held
    if cache.get(key) == lease and cache.touch(key, _lease_seconds()):
        return True
    return cache.add(key, lease, _lease_seconds())


def feed_place_release(held: tuple[str, str]) -> None:
    key, lease = held
    if cache.get(key) == lease:
        cache.delete(key)
