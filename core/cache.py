"""What a cache outage raises: code that only counts or memoises in the cache lets the request
through (logged) instead of failing it, since storing a classification needs only the database.
And window counters for rate limits, several in one round trip to Redis."""

from __future__ import annotations

import weakref

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

CACHE_DOWN = (RedisError, OSError)


def window_counts(windows: list[tuple[str, int]]) -> list[tuple[int, int]]:
    """Count one more hit on each ``(key, window_seconds)`` counter; returns each counter's hits in
    its current window and the seconds that window has left.

    A counter starts at its first hit and expires with its window (fixed windows). On Redis all
    counters are one Lua script (INCR, TTL, EXPIRE when new): one round trip, atomic. Other
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


# One script for all counters: one command and one reply (a MULTI of SET, INCR, TTL per counter
# costs a reply to parse per command). Scripts run atomically, so no counter is left without expiry.
_COUNT_SCRIPT = """
local out = {}
for i, key in ipairs(KEYS) do
  local hits = redis.call('INCR', key)
  local left = redis.call('TTL', key)
  if left < 0 then
    redis.call('EXPIRE', key, ARGV[i])
    left = tonumber(ARGV[i])
  end
  out[2 * i - 1] = hits
  out[2 * i] = left
end
return out
"""
_script = []  # the registered script, made on first use (its SHA; run on each call's own client)
# One redis-py client per cache backend: Django's get_client() builds a new one on every call,
# and building one (its table of ~170 reply parsers) cost more CPU than the script's round trip.
_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def redis_client(backend: RedisCache):
    """The backend's writable redis-py client, made once (clients are thread-safe; they share the pool)."""
    owner = backend._cache
    client = _clients.get(owner)
    if client is None:
        client = _clients[owner] = owner.get_client(write=True)
    return client


def _redis_window_counts(backend: RedisCache, windows):
    # Django's RedisCache runs no scripts of its own; its client is redis-py's (keys made as it makes them).
    client = redis_client(backend)
    if not _script:
        _script.append(client.register_script(_COUNT_SCRIPT))
    keys = [backend.make_and_validate_key(key) for key, _ in windows]
    replies = _script[0](keys=keys, args=[seconds for _, seconds in windows], client=client)
    return [(int(replies[2 * i]), max(int(replies[2 * i + 1]), 1)) for i in range(len(windows))]
