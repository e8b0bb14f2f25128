"""What a cache outage raises: code that only counts or memoises in the cache lets the request
through (logged) instead of failing it, since storing a classification needs only the database."""

from redis.exceptions import RedisError

CACHE_DOWN = (RedisError, OSError)
