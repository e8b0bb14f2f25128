"""The batched lease: GET /api/queue/next/?n= holds up to n subjects with the queue's guarantees."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import Classification, QueueLease, SubjectWorkflowStatus
from annotations.queue import QUEUE_MAX_BATCH, leases_expire, queue_next_subjects
from annotations.services import classification_create, cutout_set_priority
from core.errors import Conflict, InvalidInput
from tests.conftest import postgres_in_use
from tests.factories import make_workflow_with_subjects, volunteer_key_of

pytestmark = pytest.mark.django_db

ANSWER = [{"task": "T0", "value": 1}]


def batch(workflow, volunteer, n):
    return queue_next_subjects(workflow_id=workflow.pk, volunteer=volunteer, n=n)


def classify(workflow, subject_id, volunteer):
    return classification_create(
        workflow_id=workflow.pk, subject_id=subject_id, volunteer=volunteer, annotations=ANSWER
    )


def test_a_batch_is_distinct_subjects_in_ranking_order(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=5)
    for rank, cutout in enumerate(cutouts[:4]):
        cutout_set_priority(cutout=cutout, priority=float(10 - rank))
    got = batch(workflow, volunteer_factory(), 3)
    assert [s.subject_id for s in got] == [c.pk for c in cutouts[:3]]
    assert all(SubjectWorkflowStatus.objects.get(pk=s.pk).leased_count == 1 for s in got)
    assert all(s.lease_expires_at > timezone.now() for s in got)


def test_asking_again_returns_the_held_subjects_then_tops_up(volunteer_factory):
    workflow, _ = make_workflow_with_subjects(n=8, retirement=5)
    me = volunteer_factory()
    first = [s.subject_id for s in batch(workflow, me, 3)]
    assert [s.subject_id for s in batch(workflow, me, 3)] == first  # a reload takes nothing more
    assert QueueLease.objects.filter(volunteer_key=me.key).count() == 3
    classify(workflow, first[0], me)
    again = [s.subject_id for s in batch(workflow, me, 4)]
    assert again[:2] == first[1:] and len(set(again)) == 4 and first[0] not in again
    assert QueueLease.objects.filter(volunteer_key=me.key).count() == 4


def test_never_a_subject_twice_to_one_volunteer(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=5, retirement=10)
    me = volunteer_factory()
    seen = []
    while got := batch(workflow, me, 2):
        for status in got:
            seen.append(status.subject_id)
            classify(workflow, status.subject_id, me)
    assert sorted(seen) == sorted(c.pk for c in cutouts)


def test_the_retirement_limit_cuts_a_batch(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=5, retirement=1)
    assert len(batch(workflow, volunteer_factory(), 3)) == 3
    second = batch(workflow, volunteer_factory(), 5)
    assert len(second) == 2  # only two subjects had a slot left
    assert batch(workflow, volunteer_factory(), 5) == []
    leased = SubjectWorkflowStatus.objects.filter(workflow=workflow).values_list("leased_count", flat=True)
    assert sorted(leased) == [1] * 5


def test_expired_batch_leases_give_their_subjects_back(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=4, retirement=1)
    mine = batch(workflow, volunteer_factory(), 4)
    assert len(mine) == 4 and batch(workflow, volunteer_factory(), 4) == []
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert leases_expire() == 4
    other = batch(workflow, volunteer_factory(), 4)
    assert sorted(s.subject_id for s in other) == sorted(c.pk for c in cutouts)


def test_a_late_answer_from_an_expired_batch_is_still_accepted_but_never_over_the_limit(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=1)
    late, quick = volunteer_factory(), volunteer_factory()
    batch(workflow, late, 1)
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    leases_expire()
    batch(workflow, quick, 1)
    classify(workflow, cutouts[0].pk, quick)
    with pytest.raises(Conflict, match="retired"):
        classify(workflow, cutouts[0].pk, late)
    assert Classification.objects.filter(subject=cutouts[0]).count() == 1


@pytest.mark.parametrize("n", [0, -1, QUEUE_MAX_BATCH + 1])
def test_n_out_of_bounds_is_refused(volunteer_factory, n):
    workflow, _ = make_workflow_with_subjects(n=2)
    with pytest.raises(InvalidInput, match="between 1 and"):
        batch(workflow, volunteer_factory(), n)
    assert not QueueLease.objects.exists()


def test_api_batch_shape_and_bad_n(client):
    workflow, _ = make_workflow_with_subjects(n=4, retirement=3)
    volunteer_key_of(client)
    one = client.get(f"/api/queue/next/?workflow={workflow.pk}").json()
    assert one["subject"]["id"] == one["subjects"][0]["subject"]["id"] and len(one["subjects"]) == 1
    many = client.get(f"/api/queue/next/?workflow={workflow.pk}&n=3").json()
    ids = [item["subject"]["id"] for item in many["subjects"]]
    assert ids[0] == one["subject"]["id"] and len(set(ids)) == 3
    assert all(item["lease_expires_at"] and item["classification_count"] == 0 for item in many["subjects"])
    for bad in ("0", "21", "ten", "1.5"):
        response = client.get(f"/api/queue/next/?workflow={workflow.pk}&n={bad}")
        assert response.status_code == 400, bad
        assert "n" in response.json()["detail"]
    assert QueueLease.objects.count() == 3


def test_api_empty_batch(client):
    workflow, _ = make_workflow_with_subjects(n=1, retirement=1)
    volunteer_key_of(client)
    client.get(f"/api/queue/next/?workflow={workflow.pk}&n=5")
    other = client.__class__()
    volunteer_key_of(other)
    body = other.get(f"/api/queue/next/?workflow={workflow.pk}&n=5").json()
    assert body["subject"] is None and body["subjects"] == [] and body["retry_after"] > 0


def test_an_address_bound_cuts_the_batch(client, settings):
    settings.RGZ_QUEUE_MAX_LEASES_PER_ADDRESS = 3
    workflow, _ = make_workflow_with_subjects(n=8, retirement=5)
    volunteer_key_of(client)
    assert len(client.get(f"/api/queue/next/?workflow={workflow.pk}&n=5").json()["subjects"]) == 3
    other = client.__class__()
    volunteer_key_of(other)
    assert other.get(f"/api/queue/next/?workflow={workflow.pk}&n=5").status_code == 429


def _race(workflow, volunteers, n, rounds, classify_too):
    """Each volunteer in its own thread and database connection: ask for a batch, classify it."""
    errors, served = [], []
    lock = threading.Lock()
    start = threading.Barrier(len(volunteers))

    def run(me):
        try:
            start.wait()
            for _ in range(rounds):
                got = batch(workflow, me, n)
                with lock:
                    served.extend((me.key, s.subject_id) for s in got)
                if not got or not classify_too:
                    break
                for status in got:
                    try:
                        classify(workflow, status.subject_id, me)
                    except Conflict:
                        pass
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(v,)) for v in volunteers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return served


@pytest.mark.django_db(transaction=True)
def test_two_volunteers_racing_for_the_last_slots(volunteer_factory):
    """Six subjects with one slot each, two volunteers asking for five at the same moment: every
    subject goes to exactly one of them."""
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=1)
    a, b = volunteer_factory(), volunteer_factory()
    served = _race(workflow, [a, b], 5, 1, classify_too=False)
    subjects = [subject for _, subject in served]
    assert sorted(subjects) == sorted(c.pk for c in cutouts)
    assert {key for key, _ in served} == {a.key, b.key}
    assert all(s.leased_count == 1 for s in SubjectWorkflowStatus.objects.filter(workflow=workflow))


@pytest.mark.django_db(transaction=True)
def test_racing_batches_never_over_serve_or_over_store(volunteer_factory):
    limit, subjects = 3, 10
    workflow, cutouts = make_workflow_with_subjects(n=subjects, retirement=limit)
    volunteers = [volunteer_factory() for _ in range(6)]
    served = _race(workflow, volunteers, 4, subjects, classify_too=True)
    assert len(served) == len(set(served))  # never one subject twice to one volunteer
    stored = {c.pk: Classification.objects.filter(subject=c).count() for c in cutouts}
    assert all(n <= limit for n in stored.values()), stored
    assert sum(stored.values()) == subjects * limit  # 6 volunteers x 10 > 30 slots: all filled
    counts = {s.subject_id: s.classification_count for s in SubjectWorkflowStatus.objects.filter(workflow=workflow)}
    assert counts == stored
    assert not QueueLease.objects.filter(released=False).exists()


@pytest.mark.postgres
@pytest.mark.skipif(not postgres_in_use(), reason="needs PostgreSQL (DATABASE_URL)")
@pytest.mark.django_db(transaction=True)
def test_a_batch_skips_rows_another_request_holds(volunteer_factory):
    """While one request holds its batch's rows locked, another takes the next ones without waiting."""
    from django.db import transaction

    from annotations.queue import _lease_batch

    workflow, cutouts = make_workflow_with_subjects(n=16, retirement=1)  # a batch locks n + 8 candidates
    holding = threading.Event()
    release = threading.Event()
    first: list = []

    def slow():
        try:
            with transaction.atomic():
                first.extend(_lease_batch(workflow_id=workflow.pk, volunteer=volunteer_factory(), address="", n=3))
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow)
    thread.start()
    assert holding.wait(timeout=30)
    try:
        second = batch(workflow, volunteer_factory(), 3)  # would block without SKIP LOCKED
    finally:
        release.set()
        thread.join(timeout=30)
    assert {s.subject_id for s in first}.isdisjoint({s.subject_id for s in second})
    assert len(second) == 3


def test_a_batch_takes_gold_subjects_at_the_policy_rate(volunteer_factory):
    from annotations.acquisition import gold_subjects_mark, policy_save
    from annotations.services import expert_classification_create

    always_gold = {"weights": {"complexity": 1.0}, "gold_start": 1.0, "gold_end": 1.0, "exploration": 0.0}
    workflow, cutouts = make_workflow_with_subjects(n=5, retirement=2, name="Gold batch", survey_name="gold-batch")
    for cutout in cutouts[:2]:
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": 2}], source="catalogue"
        )
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=always_gold)
    got = batch(workflow, volunteer_factory(), 4)
    gold = {cutouts[0].pk, cutouts[1].pk}
    assert len(got) == 4 and gold <= {s.subject_id for s in got}  # both gold, the rest real
    assert len({s.subject_id for s in got}) == 4
    # The volunteer's answer count (for the gold rate) is read once, then taken from the cache.
    me = volunteer_factory()
    batch(workflow, me, 1)
    with CaptureQueriesContext(connection) as captured:
        batch(workflow, me, 2)
    assert not [q for q in captured.captured_queries if "COUNT" in q["sql"] and "classification" in q["sql"]]


def test_a_batch_costs_the_same_statements_whatever_its_size(client):
    workflow, _ = make_workflow_with_subjects(n=12, retirement=3)
    costs = []
    for n in (2, 8):
        other = client.__class__()
        volunteer_key_of(other)
        other.get(f"/api/queue/next/?workflow={workflow.pk}&n=1")  # the cookie's first lease
        with CaptureQueriesContext(connection) as captured:
            body = other.get(f"/api/queue/next/?workflow={workflow.pk}&n={n}").json()
        assert len(body["subjects"]) == n and all("sky" in item["subject"] for item in body["subjects"])
        costs.append(len([q for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]))
    assert costs[0] == costs[1], costs
