"""Gold-standard subjects in the mix: served at the policy's gold rate, never retired by volunteers,
feeding volunteer skill, with the experts' answer shown after the volunteer's."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.acquisition import gold_subjects_mark, policy_save
from annotations.models import Classification, QueueLease, SubjectWorkflowStatus
from annotations.queue import queue_next_subject, queue_next_subjects
from annotations.services import classification_create, cutout_set_priority, expert_classification_create
from annotations.skill import volunteer_skills
from core.errors import InvalidInput
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

FRII = 2  # index of "FRII" among the demo workflow's answers
ALWAYS_GOLD = {"weights": {"complexity": 1.0}, "gold_start": 1.0, "gold_end": 1.0, "exploration": 0.0}
NEVER_GOLD = {"weights": {"complexity": 1.0}, "gold_start": 0.0, "gold_end": 0.0, "exploration": 0.0}


@pytest.fixture
def gold_workflow():
    """Five subjects, retiring after 2 answers; src-0 and src-1 carry an expert FRII label."""
    workflow, cutouts = make_workflow_with_subjects(n=5, retirement=2, name="Gold wf", survey_name="gold-survey")
    for cutout in cutouts[:2]:
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": FRII}], source="catalogue"
        )
    return workflow, cutouts


def classify(workflow, subject_id, volunteer, value=FRII):
    return classification_create(
        workflow_id=workflow.pk,
        subject_id=subject_id,
        volunteer=volunteer,
        annotations=[{"task": "T0", "value": value}],
    )


def test_only_expert_labelled_subjects_can_be_gold(gold_workflow):
    workflow, cutouts = gold_workflow
    with pytest.raises(InvalidInput, match=str(cutouts[3].pk)):
        gold_subjects_mark(workflow=workflow, subject_ids=[cutouts[0].pk, cutouts[3].pk])
    assert not SubjectWorkflowStatus.objects.filter(gold=True).exists()
    assert gold_subjects_mark(workflow=workflow) == 2


def test_a_generated_subject_is_never_gold_and_never_grades_volunteers(gold_workflow, volunteer_factory):
    from annotations.models import Cutout
    from annotations.skill import gold_answers

    workflow, cutouts = gold_workflow
    generated = cutouts[4]
    Cutout.objects.filter(pk=generated.pk).update(synthetic=True)
    expert_classification_create(
        workflow=workflow, subject=generated, annotations=[{"task": "T0", "value": FRII}], source="catalogue"
    )
    with pytest.raises(InvalidInput, match=f"generated subjects cannot be gold standard: {generated.pk}"):
        gold_subjects_mark(workflow=workflow, subject_ids=[cutouts[0].pk, generated.pk])
    assert not SubjectWorkflowStatus.objects.filter(gold=True).exists()
    assert gold_subjects_mark(workflow=workflow) == 2  # the two real expert-labelled subjects
    assert set(gold_answers(workflow=workflow, task="T0")) == {cutouts[0].pk, cutouts[1].pk}
    volunteer = volunteer_factory()
    classify(workflow, generated.pk, volunteer, value=1)  # wrong against the expert's FRII
    assert volunteer_skills(workflow=workflow, task="T0") == {}


def test_a_gold_rate_of_one_serves_gold_first_and_gold_never_retires(gold_workflow, volunteer_factory):
    workflow, cutouts = gold_workflow
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=ALWAYS_GOLD)
    gold_ids = {cutouts[0].pk, cutouts[1].pk}
    for _ in range(4):  # more volunteers than the retirement limit of 2
        me = volunteer_factory()
        served = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
        assert served.subject_id in gold_ids
        classify(workflow, served.subject_id, me)
        second = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
        assert second.subject_id in gold_ids - {served.subject_id}
        classify(workflow, second.subject_id, me)
        # both gold subjects answered: real subjects come next
        assert queue_next_subject(workflow_id=workflow.pk, volunteer=me).subject_id not in gold_ids
    gold = SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=True)
    assert all(s.retired_at is None and s.classification_count == 4 for s in gold)
    assert Classification.objects.filter(subject_id__in=gold_ids, expert=False, gold_standard=True).count() == 8


def test_a_batch_lease_puts_gold_where_its_serves_were_drawn(gold_workflow, volunteer_factory):
    # The page leases a few subjects at a time; at a gold rate of one every serve is gold, so the
    # gold subjects come first in the batch, never behind a real one.
    workflow, cutouts = gold_workflow
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=ALWAYS_GOLD)
    gold_ids = {cutouts[0].pk, cutouts[1].pk}
    for _ in range(20):  # the order within a batch is drawn at random: try it many times
        batch = queue_next_subjects(workflow_id=workflow.pk, volunteer=volunteer_factory(), n=4)
        assert len(batch) == 4
        assert {s.subject_id for s in batch[:2]} == gold_ids
        assert not {s.subject_id for s in batch[2:]} & gold_ids
        # the next volunteer finds every subject free again
        QueueLease.objects.all().delete()
        SubjectWorkflowStatus.objects.update(leased_count=0)


def test_a_gold_rate_of_zero_serves_no_gold_and_no_policy_serves_no_gold(gold_workflow, volunteer_factory):
    workflow, cutouts = gold_workflow
    gold_subjects_mark(workflow=workflow)
    me = volunteer_factory()
    served = [queue_next_subject(workflow_id=workflow.pk, volunteer=me).subject_id]
    policy_save(workflow=workflow, values=NEVER_GOLD)
    classify(workflow, served[0], me)
    for _ in range(2):
        status = queue_next_subject(workflow_id=workflow.pk, volunteer=me)
        served.append(status.subject_id)
        classify(workflow, status.subject_id, me)
    assert not set(served) & {cutouts[0].pk, cutouts[1].pk}


def test_exploration_serves_at_random_instead_of_by_priority(gold_workflow, volunteer_factory):
    workflow, cutouts = gold_workflow
    for i, cutout in enumerate(cutouts):
        cutout_set_priority(cutout=cutout, priority=float(i))  # src-4 first by priority
    SubjectWorkflowStatus.objects.filter(workflow=workflow, subject=cutouts[0]).update(random_key=-1.0)
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()).subject_id == cutouts[4].pk
    policy_save(workflow=workflow, values={**NEVER_GOLD, "exploration": 1.0})
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=volunteer_factory()).subject_id == cutouts[0].pk


def test_gold_answers_return_the_experts_answer_and_feed_skill(gold_workflow):
    workflow, cutouts = gold_workflow
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=ALWAYS_GOLD)
    client = APIClient()
    answers = []
    for value in (FRII, 1):  # right on the first gold subject, FRI on the second
        served = client.get(reverse("api-queue-next"), {"workflow": workflow.pk}).json()
        response = client.post(
            reverse("api-classifications"),
            {
                "workflow": workflow.pk,
                "subject": served["subject"]["id"],
                "annotations": [{"task": "T0", "value": value}],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        answers.append(response.json()["gold_feedback"])
    right, wrong = answers
    assert right["agree"] is True and right["questions"][0]["expert"].startswith("FR II")
    assert wrong["agree"] is False and wrong["questions"][0]["yours"] == [
        "FR I: brightest near the centre, fading jets"
    ]
    assert right["questions"][0]["question"] == "Which best describes this radio source?"

    skills = volunteer_skills(workflow=workflow, task="T0")
    (record,) = skills.values()
    assert record.count == 2 and record.skill == pytest.approx(0.5)

    # a real subject gives no feedback
    served = client.get(reverse("api-queue-next"), {"workflow": workflow.pk}).json()
    response = client.post(
        reverse("api-classifications"),
        {"workflow": workflow.pk, "subject": served["subject"]["id"], "annotations": [{"task": "T0", "value": 0}]},
        format="json",
    )
    assert response.json()["gold_feedback"] is None


def test_feedback_can_be_turned_off_per_workflow(gold_workflow):
    workflow, _ = gold_workflow
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values={**ALWAYS_GOLD, "feedback": False})
    client = APIClient()
    served = client.get(reverse("api-queue-next"), {"workflow": workflow.pk}).json()
    response = client.post(
        reverse("api-classifications"),
        {"workflow": workflow.pk, "subject": served["subject"]["id"], "annotations": [{"task": "T0", "value": FRII}]},
        format="json",
    )
    assert response.status_code == 201 and response.json()["gold_feedback"] is None


def test_gold_api_marks_expert_subjects_and_refuses_others(gold_workflow):
    workflow, cutouts = gold_workflow
    client = APIClient()
    client.force_authenticate(astronomer())
    url = reverse("api-workflow-gold", args=[workflow.pk])
    bad = client.post(url, {"subjects": [cutouts[4].pk]}, format="json")
    assert bad.status_code == 400 and "without an expert answer" in bad.json()["detail"]
    good = client.post(url, {}, format="json")
    assert good.status_code == 200 and good.json() == {"marked": 2, "gold_subjects": 2}
    assert APIClient().post(url, {}, format="json").status_code in (401, 403)


def test_gold_alone_keeps_nobody_classifying_and_is_not_progress(gold_workflow, volunteer_factory):
    from django.utils import timezone

    from annotations.queue import queue_retry_after
    from annotations.selectors import workflow_progress

    workflow, cutouts = gold_workflow
    gold_subjects_mark(workflow=workflow)
    policy_save(workflow=workflow, values=ALWAYS_GOLD)
    SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=False).update(retired_at=timezone.now())
    me = volunteer_factory()
    assert queue_next_subject(workflow_id=workflow.pk, volunteer=me) is None
    assert queue_retry_after(workflow_id=workflow.pk, volunteer=me) is None
    assert workflow_progress(workflow=workflow)["subjects"] == 3
