import threading
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from annotations.models import Classification, QueueLease, RetirementReason, SubjectWorkflowStatus
from annotations.queue import leases_expire, queue_next_subject
from annotations.services import classification_create, cutout_set_priority
from core.errors import Conflict, NotFound
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db

ANSWER = [{"task": "T0", "value": 1}]


def classify(workflow, subject_id, volunteer, **kwargs):
    return classification_create(
        workflow_id=workflow.pk, subject_id=subject_id, volunteer=volunteer, annotations=ANSWER, **kwargs
    )


def test_never_serves_a_subject_the_volunteer_classified(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=10)
    me = volunteer_factory()
    seen = set()
    for _ in range(3):
        status = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
        assert status.subject_id not in seen
        seen.add(status.subject_id)
        classify(workflow, status.subject_id, me)
    assert seen == {c.pk for c in cutouts}
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=me) is None


def test_reload_returns_the_subject_already_leased(volunteer_factory):
    workflow, _ = make_workflow_with_subjects(n=5, retirement=10)
    me = volunteer_factory()
    first = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
    again = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
    assert first.pk == again.pk
    assert QueueLease.objects.filter(volunteer_key=me.key).count() == 1


def test_retires_at_the_limit_and_never_serves_retired(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=2)
    a, b, c = volunteer_factory(), volunteer_factory(), volunteer_factory()
    classify(workflow, cutouts[0].pk, a)
    classify(workflow, cutouts[0].pk, b)
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutouts[0])
    assert status.classification_count == 2
    assert status.retired_at is not None and status.retirement_reason == RetirementReason.CLASSIFICATION_COUNT
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=c) is None
    with pytest.raises(Conflict, match="retired"):
        classify(workflow, cutouts[0].pk, c)
    assert Classification.objects.filter(subject=cutouts[0]).count() == 2


def test_leases_hold_slots_so_volunteers_spread_out(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=2)
    served = [queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()).subject_id for _ in range(6)]
    assert sorted(served) == sorted([c.pk for c in cutouts] * 2)
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()) is None


def test_expired_leases_free_their_slot(volunteer_factory, settings):
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=1)
    first = queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory())
    assert first is not None
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()) is None  # slot held
    settings.RGZ_QUEUE_LEASE_SECONDS = -1  # leases taken from now on are born expired
    QueueLease.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert leases_expire() == 1
    assert SubjectWorkflowStatus.objects.get(pk=first.pk).leased_count == 0
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()) is not None


def test_submit_releases_the_lease(volunteer_factory):
    workflow, _ = make_workflow_with_subjects(n=1, retirement=5)
    me = volunteer_factory()
    status = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
    assert SubjectWorkflowStatus.objects.get(pk=status.pk).leased_count == 1
    classify(workflow, status.subject_id, me)
    status.refresh_from_db()
    assert (status.leased_count, status.classification_count) == (0, 1)
    assert not QueueLease.objects.exists()


def test_highest_priority_first_then_random(volunteer_factory):
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=1)
    cutout_set_priority(cutout=cutouts[4], priority=10.0)
    cutout_set_priority(cutout=cutouts[2], priority=5.0)
    order = [queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()).subject_id for _ in range(2)]
    assert order == [cutouts[4].pk, cutouts[2].pk]


def test_ties_are_broken_at_random(volunteer_factory):
    firsts = set()
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=100)
    for _ in range(30):
        status = queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory())
        firsts.add(status.subject_id)
    assert len(firsts) >= 3


def test_unknown_or_inactive_workflow(volunteer_factory):
    workflow, _ = make_workflow_with_subjects(n=1)
    with pytest.raises(NotFound):
        queue_next_subject(workflow_id=workflow.pk + 999, volunteer=volunteer_factory())
    workflow.active = False
    workflow.save()
    with pytest.raises(NotFound):
        queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory())


@pytest.mark.django_db(transaction=True)
def test_concurrent_volunteers_never_over_serve_or_over_store(volunteer_factory):
    """Many threads, each with its own database connection, loop next-subject then submit."""
    limit, subjects, threads = 3, 8, 8
    workflow, cutouts = make_workflow_with_subjects(n=subjects, retirement=limit)
    served_at_once: dict[int, int] = {}
    errors: list[Exception] = []
    lock = threading.Lock()

    def run():
        me = volunteer_factory()
        try:
            for _ in range(subjects):
                status = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
                if status is None:
                    break
                with lock:
                    served_at_once[status.subject_id] = served_at_once.get(status.subject_id, 0) + 1
                with suppress(Conflict):  # the subject may have filled up meanwhile: the queue's own refusal
                    classify(workflow, status.subject_id, me)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    assert not errors, errors
    counts = {s.subject_id: s.classification_count for s in SubjectWorkflowStatus.objects.filter(workflow=workflow)}
    stored = {c.pk: Classification.objects.filter(subject=c).count() for c in cutouts}
    assert all(n <= limit for n in stored.values()), stored
    assert counts == stored
    assert sum(stored.values()) == subjects * limit  # every slot was filled: 8 threads x 8 > 24
    assert max(served_at_once.values()) <= limit
