"""The submit's locked status read, compiled once: the same rows and annotations as the ORM builds
each time, for any arguments, and the ORM itself when a query cannot be reused."""

import pytest
from django.db import transaction
from django.db.models import Q

from annotations.compiled_query import CompiledQuery
from annotations.models import Classification, QueueLease, SubjectWorkflowStatus
from annotations.submit import _STATUS_LOCKED, _status_query
from tests.factories import make_workflow_with_subjects

pytestmark = pytest.mark.django_db


def described(status):
    if status is None:
        return None
    return (
        status.pk,
        status.classification_count,
        status.previous_id,
        status.previous_key,
        bool(status.served),
        status.workflow.retirement_limit,
        status.subject.name,
    )


def test_compiled_status_read_matches_the_orm_for_every_argument():
    workflow, cutouts = make_workflow_with_subjects(n=3, retirement=5)
    version = workflow.versions.first()
    stored = Classification.objects.create(
        workflow=workflow, workflow_version=version, subject=cutouts[0], volunteer_key="v1", annotations=[],
        idempotency_key="k1",
    )  # fmt: skip
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutouts[1])
    QueueLease.objects.create(status=status, volunteer_key="v2", expires_at=status.workflow.created_at)
    cases = [(workflow.pk, c.pk, key) for c in cutouts for key in ("v1", "v2", "v3")] + [(workflow.pk + 99, 1, "v1")]
    with transaction.atomic():
        for workflow_id, subject_id, key in cases:
            fast = _STATUS_LOCKED.first(workflow_id=workflow_id, subject_id=subject_id, volunteer_key=key)
            built = _status_query(workflow_id, subject_id, key).first()
            assert described(fast) == described(built), (workflow_id, subject_id, key)
    assert _STATUS_LOCKED._compiled  # compiled and reused, not rebuilt
    assert described(_STATUS_LOCKED.first(workflow_id=workflow.pk, subject_id=cutouts[0].pk, volunteer_key="v1"))[
        2:4
    ] == (stored.pk, "k1")


def test_a_query_whose_parameters_derive_from_the_arguments_is_built_each_time():
    # icontains turns the argument into '%value%': that parameter is no placeholder, so nothing is cached.
    query = CompiledQuery(lambda name: Classification.objects.filter(Q(volunteer_key__icontains=name)), {"name": "ph"})
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=5)
    Classification.objects.create(
        workflow=workflow, workflow_version=workflow.versions.first(), subject=cutouts[0], volunteer_key="alice",
        annotations=[],
    )  # fmt: skip
    assert query.first(name="lic").volunteer_key == "alice"
    assert query.first(name="bob") is None
    assert list(query._compiled.values()) == [None]


def test_compiled_candidates_match_the_orm_for_each_volunteer_and_shape():
    from annotations.queue_candidates import _build, candidates
    from annotations.roles import Volunteer

    workflow, cutouts = make_workflow_with_subjects(n=12, retirement=3)
    version = workflow.versions.first()
    alice, bob = Volunteer(user_id=None, session_key="alice"), Volunteer(user_id=None, session_key="bob")
    for cutout in cutouts[:4]:  # alice answered these; bob holds leases on two others
        Classification.objects.create(
            workflow=workflow, workflow_version=version, subject=cutout, volunteer_key=alice.key, annotations=[]
        )
    for cutout in cutouts[4:6]:
        status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutout)
        QueueLease.objects.create(status=status, volunteer_key=bob.key, expires_at=workflow.created_at)
    with transaction.atomic():
        for volunteer in (alice, bob):
            for limit, count, real_only in ((3, 10, False), (3, 4, True), (None, 10, False)):
                fast = candidates(workflow, volunteer, limit, skip_locked=True, count=count, real_only=real_only)
                shape = (limit is not None, True, False, False, real_only, workflow.prioritized, count)
                built = list(_build(workflow_id=workflow.pk, volunteer_key=volunteer.key, limit=limit, shape=shape))
                assert [s.pk for s in fast] == [s.pk for s in built], (volunteer.key, limit, count)
                assert all(s.subject.survey.name for s in fast)  # select_related, as the ORM fills it
    answered = {c.pk for c in cutouts[:4]}
    assert not answered & {s.subject_id for s in candidates(workflow, alice, 3, skip_locked=True, count=12)}


def test_active_policy_read_compiled_follows_the_policies_saved():
    from annotations.acquisition import _ACTIVE_POLICY, policy_active
    from annotations.models import AcquisitionPolicy

    workflow, _ = make_workflow_with_subjects(n=1, retirement=3)
    other, _ = make_workflow_with_subjects(n=1, retirement=3, name="Other", survey_name="other-survey")
    assert policy_active(workflow=workflow) is None
    made = AcquisitionPolicy.objects.create(workflow=workflow, number=1, policy={"exploration": 0.1}, active=True)
    assert policy_active(workflow=workflow) == made and policy_active(workflow=other) is None
    made.active = False
    made.save(update_fields=["active"])
    assert policy_active(workflow=workflow) is None
    assert list(_ACTIVE_POLICY._compiled.values()) != [None]  # compiled, not built each time
