"""New classifications with words or tag picks wait in a Redis list, and one task drains many.

A task per classification cost the web process a broker message (about 2 ms of CPU) and the
worker some ten queries per description; under load most of that is overhead. With a Redis
cache a submit instead appends its id to a list and, when no drain is pending (a marker key that
expires), queues one drain task; the drain takes what has gathered, in batches. Ids wait in the
same Redis as the broker's own messages, so they are as durable. A drain that is lost leaves its
marker to expire (DRAIN_MARK_SECONDS), after which the next submit queues another; the periodic
refresh drains too. Other caches (the embedded default's is per process) keep a task per id.
"""

from __future__ import annotations

import logging

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from core.cache import CACHE_DOWN, redis_client

logger = logging.getLogger(__name__)

INBOX_KEY = "taxonomy:inbox"
DRAIN_MARK_KEY = "taxonomy:inbox:drain"
DRAIN_MARK_SECONDS = 30


def _redis():
    """(client, backend) of the shared cache when it is Redis, else None."""
    cache = caches["default"]
    return (redis_client(cache), cache) if isinstance(cache, RedisCache) else None


def inbox_push(classification_id: int) -> bool | None:
    """Put a new classification in the inbox; True when no drain is pending (the caller queues
    one), False when one is, None when there is no shared Redis cache or it is unreachable (the
    caller then queues a task for this classification alone)."""
    shared = _redis()
    if shared is None:
        return None
    client, cache = shared
    try:
        pipe = client.pipeline(transaction=False)  # one round trip for both commands
        pipe.rpush(cache.make_and_validate_key(INBOX_KEY), classification_id)
        pipe.set(cache.make_and_validate_key(DRAIN_MARK_KEY), 1, nx=True, ex=DRAIN_MARK_SECONDS)
        _, marked = pipe.execute()
    except CACHE_DOWN as exc:
        logger.warning("cache unreachable, classification %s tagged by its own task: %s", classification_id, exc)
        return None
    return bool(marked)


def inbox_take(limit: int) -> list[int]:
    """Up to ``limit`` waiting ids, oldest first, removed from the inbox (none without Redis)."""
    shared = _redis()
    if shared is None:
        return []
    client, cache = shared
    return [int(v) for v in client.lpop(cache.make_and_validate_key(INBOX_KEY), limit) or []]


def drain_mark_clear() -> None:
    """A drain has started: submits from now on queue the next one."""
    shared = _redis()
    if shared is not None:
        client, cache = shared
        client.delete(cache.make_and_validate_key(DRAIN_MARK_KEY))


def inbox_size() -> int:
    shared = _redis()
    if shared is None:
        return 0
    client, cache = shared
    return int(client.llen(cache.make_and_validate_key(INBOX_KEY)))
