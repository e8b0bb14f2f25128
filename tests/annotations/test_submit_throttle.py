"""The submit throttles on Redis: both counters in one round trip, refusals with Retry-After, and
submits let through while Redis is away."""

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings
from rest_framework.test import APIClient

from core.cache import window_counts
from tests.annotations.test_api import submit
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/6"


def redis_cache(url=REDIS_URL):
    return {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}


def shared_redis_cache(url):
    """The default cache on an emptied Redis database (``url``) for one test; skips without Redis."""
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).flushdb()
    except redis.RedisError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    with override_settings(CACHES=redis_cache(url)):
        yield caches["default"]
        caches["default"].clear()


@pytest.fixture
def on_redis():
    yield from shared_redis_cache(REDIS_URL)


def rates(settings, volunteer, address):
    rates = {"volunteer_submit": volunteer, "anon_address_submit": address}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_counters_count_per_key_and_expire_with_their_window(on_redis, monkeypatch):
    sent = []
    original = redis.Redis.execute_command

    def counted(self, *args, **kwargs):
        sent.append(args[0])
        return original(self, *args, **kwargs)

    assert window_counts([("a", 60), ("b", 5)]) == [(1, 60), (1, 5)]
    monkeypatch.setattr(redis.Redis, "execute_command", counted)
    second = window_counts([("a", 60), ("b", 5)])
    assert [hits for hits, _ in second] == [2, 2] and 0 < second[1][1] <= 5
    assert sent == ["EVALSHA"]  # one round trip for both counters
    client = redis.Redis.from_url(REDIS_URL)
    assert 0 < client.ttl(on_redis.make_key("b")) <= 5  # the window ends: the counter goes


def test_a_volunteer_past_the_rate_is_refused_with_retry_after(on_redis, settings):
    rates(settings, volunteer="2/min", address="100/min")
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=5)
    client = APIClient()
    replies = [submit(client, workflow, c.pk) for c in cutouts[:3]]
    assert [r.status_code for r in replies] == [201, 201, 429]
    assert 0 < int(replies[2]["Retry-After"]) <= 60
    assert submit(APIClient(), workflow, cutouts[3].pk).status_code == 201  # another volunteer, same address


def test_an_address_past_its_rate_is_refused_whatever_the_sessions(on_redis, settings):
    rates(settings, volunteer="100/min", address="2/min")
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=5)
    codes = [submit(APIClient(), workflow, c.pk).status_code for c in cutouts]
    assert codes == [201, 201, 429]


def test_submits_are_stored_while_redis_is_away(settings):
    rates(settings, volunteer="1/min", address="1/min")
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5)
    unreachable = redis_cache("redis://127.0.0.1:1/0")  # nothing listens on port 1
    unreachable["default"]["OPTIONS"] = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    with override_settings(CACHES=unreachable):
        client = APIClient()
        assert [submit(client, workflow, c.pk).status_code for c in cutouts] == [201, 201]
