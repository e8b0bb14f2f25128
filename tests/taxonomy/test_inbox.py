"""The tagging inbox on Redis: submits queue ids and one drain task, the drain reads them in
batches at a constant number of queries, a lost drain is replaced, one bad row blocks nothing."""

import time

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from annotations.roles import Volunteer
from annotations.services import classification_create
from taxonomy import dispatch, inbox, receivers, services
from taxonomy.models import Description, Tag, TagLink
from tests.annotations.test_submit_throttle import shared_redis_cache
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db

REDIS_URL = "redis://127.0.0.1:6379/5"


@pytest.fixture
def on_redis():
    yield from shared_redis_cache(REDIS_URL)


@pytest.fixture
def sent(monkeypatch):
    """Tasks the inbox queues, recorded instead of sent."""
    calls = []
    monkeypatch.setattr(receivers, "task_send", lambda task, args=(): calls.append((task.name, list(args))))
    return calls


def described(n, *, start=0):
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=100)
    Tag.objects.create(name="jet", status=Tag.Status.APPROVED)
    return [
        classification_create(
            workflow_id=workflow.pk,
            subject_id=cutouts[0].pk,
            volunteer=Volunteer(user_id=None, session_key=f"inbox-{start + i}"),
            annotations=[{"task": "T0", "value": 1}, {"task": "T1", "value": f"two lobes and a jet {i}"},
                         {"task": "T2", "value": ["Jet"]}],
        )[0].pk
        for i in range(n)
    ]  # fmt: skip


def test_submits_queue_their_ids_and_a_single_drain(on_redis, sent):
    ids = described(3)
    for pk in ids:
        receivers.classification_queue(pk)
    assert sent == [("taxonomy.inbox_drain", [])]  # one drain for the three
    assert inbox.inbox_size() == 3
    assert dispatch.inbox_drain() == 3
    assert inbox.inbox_size() == 0
    assert set(Description.objects.values_list("classification_id", flat=True)) == set(ids)
    assert TagLink.objects.filter(origin="pick", tag__name="jet").count() == 3
    receivers.classification_queue(ids[0])  # the drain started: the next submit queues the next drain
    assert sent == [("taxonomy.inbox_drain", [])] * 2
    assert dispatch.inbox_drain() == 1 and Description.objects.count() == 3  # read again, stored once


def test_a_drain_costs_the_same_queries_for_five_or_twenty(on_redis, sent):
    ids = described(25)
    costs = []
    for batch in (ids[:5], ids[5:]):
        for pk in batch:
            receivers.classification_queue(pk)
        with CaptureQueriesContext(connection) as queries:
            assert dispatch.inbox_drain() == len(batch)
        costs.append(len(queries))
    assert costs[0] == costs[1], costs
    assert Description.objects.count() == 25


def test_a_lost_drain_is_replaced_when_its_mark_expires(on_redis, sent, monkeypatch):
    monkeypatch.setattr(inbox, "DRAIN_MARK_SECONDS", 1)
    first, second = described(2)
    receivers.classification_queue(first)  # its drain is queued, then lost (never runs)
    time.sleep(1.2)
    receivers.classification_queue(second)
    assert sent == [("taxonomy.inbox_drain", [])] * 2
    from taxonomy.tasks import refresh_task

    assert refresh_task.delay().get()["drained"] == 2  # the periodic refresh drains too
    assert Description.objects.count() == 2


def test_one_bad_row_costs_only_itself(on_redis, sent, monkeypatch):
    ids = described(4)
    for pk in ids:
        receivers.classification_queue(pk)
    real = services.picks_store

    def picky(*, classifications):
        if any(c.pk == ids[1] for c in classifications):
            raise ValueError("bad row")
        return real(classifications=classifications)

    monkeypatch.setattr(services, "picks_store", picky)
    assert dispatch.inbox_drain() == 4 and inbox.inbox_size() == 0
    tagged = set(TagLink.objects.filter(origin="pick").values_list("classification_id", flat=True))
    assert tagged == {ids[0], ids[2], ids[3]}


def test_without_redis_each_classification_gets_its_own_task(sent):
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                               "LOCATION": "redis://127.0.0.1:1/0",
                                               "OPTIONS": {"socket_connect_timeout": 0.2}}}):  # fmt: skip
        receivers.classification_queue(41)  # the cache is down: nothing is lost, the id goes with its own task
    with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
        receivers.classification_queue(42)  # a per-process cache cannot be shared with the worker
    assert sent == [("taxonomy.description_added", [41]), ("taxonomy.description_added", [42])]
