"""What a cache outage raises: code that only counts or memoises in the cache lets the request
through (logged) instead of failing it, since storing a classification needs only the database.
And window counters for rate limits, several in one round trip to Redis."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

CACHE_DOWN = (RedisError, OSError)


def window_counts(windows: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """Count one more hit on each ``(key, window_seconds)`` counter; returns each counter's hits in
    its current window and the seconds that window has left.

    A counter starts at its first hit and expires with its window (fixed windows). On Redis all
    counters are one MULTI (SET NX EX, INCR, TTL each): one round trip, atomic per counter. Other
    backends (tests, development) count with add and incr. Raises CACHE_DOWN when Redis is away.
    """
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return _redis_window_counts(cache, windows)
    counts = []
    for key, seconds in windows:
        cache.add(key, 0, timeout=seconds)
        try:
            counts.append((cache.incr(key), seconds))
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=seconds)
            counts.append((1, seconds))
    return counts


def _redis_window_counts(backend: RedisCache, windows):
    # Django's RedisCache has no pipeline of its own; its client's is redis-py's (keys made as it makes them).
    client = backend._cache.get_client(write=True)
    pipe = client.pipeline(transaction=True)
    for key, seconds in windows:
        full_key = backend.make_and_validate_key(key)
        pipe.set(full_key, 0, ex=seconds, nx=True)
        pipe.incr(full_key)
        pipe.ttl(full_key)
    replies = pipe.execute()
    return [(int(replies[3 * i + 1]), max(int(replies[3 * i + 2]), 1)) for i in range(len(windows))]
