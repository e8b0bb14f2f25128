"""Consensus read through the crowd's confusion on gold-standard subjects (method=posterior)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.consensus import question_consensus
from annotations.posterior_consensus import crowd_confusion, posterior_consensus
from annotations.roles import Volunteer
from annotations.selectors import workflow_current_version
from annotations.services import classification_create, expert_classification_create
from core.errors import InvalidInput
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

COMPACT, FRI, FRII, BENT = range(4)


def vote(workflow, cutout, who: str, answer: int):
    classification_create(
        workflow_id=workflow.pk,
        subject_id=cutout.pk,
        volunteer=Volunteer(user_id=None, session_key=who),
        annotations=[{"task": "T0", "value": answer}],
    )


def label(workflow, answer: int) -> str:
    version = workflow_current_version(workflow=workflow)
    return version.strings[version.tasks["T0"]["answers"][answer]["label"]]


@pytest.fixture
def crowd():
    """Gold: true FRI sources draw FRI and Bent votes alike; true Bent sources only Bent votes.
    Target: one FRI vote, two Bent votes."""
    workflow, cutouts = make_workflow_with_subjects(n=6, retirement=20)  # the last one left unvoted
    for cutout, truth, votes in [
        (cutouts[0], FRI, [FRI, FRI, BENT, BENT]),
        (cutouts[1], FRI, [FRI, BENT, FRI, BENT]),
        (cutouts[2], BENT, [BENT] * 4),
        (cutouts[3], BENT, [BENT] * 4),
    ]:
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": truth}], source="paper"
        )
        for i, answer in enumerate(votes):
            vote(workflow, cutout, f"v{i}", answer)
    target = cutouts[4]
    for who, answer in [("v0", FRI), ("v1", BENT), ("v2", BENT)]:
        vote(workflow, target, who, answer)
    return workflow, target


def test_crowd_confusion_pools_every_volunteers_gold_votes(crowd):
    workflow, _ = crowd
    labels, counts = crowd_confusion(workflow=workflow, task="T0")
    fri, bent = labels.index(label(workflow, FRI)), labels.index(label(workflow, BENT))
    assert counts[fri, fri] == 4 and counts[fri, bent] == 4
    assert counts[bent, bent] == 8 and counts[bent, fri] == 0


def test_a_split_vote_goes_to_the_answer_whose_sources_rarely_draw_the_other(crowd):
    workflow, target = crowd
    majority = question_consensus(workflow=workflow, subject_ids=[target.pk], include_expert=False)[(target.pk, "T0")]
    assert majority.most_likely == label(workflow, BENT)
    found = posterior_consensus(workflow=workflow, task="T0", subject_ids=[target.pk])[(target.pk, "T0")]
    # smoothed rows: FRI (5, 5) / 10, Bent (1, 9) / 10 -> P(FRI) = 0.125 / (0.125 + 0.081)
    assert found.most_likely == label(workflow, FRI)
    assert found.posterior[label(workflow, FRI)] == pytest.approx(0.125 / (0.125 + 0.081))
    assert found.agreement == pytest.approx(max(found.posterior.values()))
    assert sum(found.posterior.values()) == pytest.approx(1.0)
    assert found.num_votes == 3 and found.counts[label(workflow, BENT)] == 2  # the votes themselves unchanged


def test_posterior_needs_gold_votes_and_a_single_answer_task():
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=20)
    vote(workflow, cutouts[0], "a", FRI)
    with pytest.raises(InvalidInput, match="gold-standard"):
        posterior_consensus(workflow=workflow, task="T0")
    with pytest.raises(InvalidInput, match="single-answer"):
        posterior_consensus(workflow=workflow, task="T2")


def test_consensus_api_method_posterior(crowd):
    workflow, target = crowd
    url = reverse("api-workflow-consensus", args=[workflow.pk])
    api = APIClient()
    api.force_authenticate(UserFactory(username="plain-volunteer"))
    assert api.get(url, {"task": "T0", "method": "posterior"}).status_code == 403
    api.force_authenticate(astronomer())
    body = api.get(url, {"task": "T0", "method": "posterior", "subject": target.pk}).json()
    assert body["method"] == "posterior" and body["count"] == 1
    row = body["results"][0]
    assert row["most_likely"] == label(workflow, FRI) and row["posterior"][label(workflow, FRI)] > 0.5
    plain = api.get(url, {"task": "T0", "subject": target.pk}).json()
    assert plain["method"] == "votes" and plain["results"][0]["posterior"] is None
    assert plain["results"][0]["most_likely"] == label(workflow, BENT)
    for params, field in [
        ({"method": "posterior"}, "task"),
        ({"task": "T0", "method": "mean"}, "method"),
        ({"task": "T0", "method": "posterior", "weighted": "true"}, "weighted"),
        ({"task": "T2", "method": "posterior"}, "task"),
    ]:
        response = api.get(url, params)
        assert response.status_code == 400, params
        assert field in response.json()["detail"] or response.json().get("field") == field


def test_classifier_task_reads_consensus_by_its_method(crowd):
    from classifiers import selectors, services

    workflow, target = crowd
    survey = workflow.subject_sets.first().survey
    by_votes = services.classifier_task_create(
        name="by-votes", survey=survey, workflow=workflow, classes=["FRI", "Bent"], min_votes=3, min_agreement=0.6
    )
    by_posterior = services.classifier_task_create(
        name="by-posterior",
        survey=survey,
        workflow=workflow,
        classes=["FRI", "Bent"],
        min_votes=3,
        min_agreement=0.6,
        consensus_method="posterior",
    )
    assert selectors.consensus_labels(task=by_votes)[target.pk] == 1  # Bent, 2 of 3 votes
    assert selectors.consensus_labels(task=by_posterior)[target.pk] == 0  # FRI, posterior 0.61
    by_posterior.min_agreement = 0.7
    assert target.pk not in selectors.consensus_labels(task=by_posterior)  # not sure enough
    with pytest.raises(InvalidInput, match="consensus_method"):
        services.classifier_task_create(
            name="bad", survey=survey, workflow=workflow, classes=["FRI", "Bent"], consensus_method="mean"
        )


def test_a_posterior_task_without_gold_falls_back_to_votes():
    from classifiers import selectors, services

    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=20)
    for who in ("a", "b", "c"):
        vote(workflow, cutouts[0], who, FRI)
    task = services.classifier_task_create(
        name="no-gold",
        survey=workflow.subject_sets.first().survey,
        workflow=workflow,
        classes=["FRI", "Bent"],
        consensus_method="posterior",
    )
    assert selectors.consensus_labels(task=task) == {cutouts[0].pk: 0}


POSTERIOR_RULE = {"kind": "consensus", "task": "T0", "min_votes": 3, "agreement": 0.6, "method": "posterior"}


def test_a_posterior_retirement_rule_is_validated_and_described(crowd):
    from annotations import retirement

    workflow, _ = crowd
    normalised = retirement.retirement_validate(workflow=workflow, retirement={"rules": [POSTERIOR_RULE]})
    assert normalised["rules"][0]["method"] == "posterior"
    plain = retirement.retirement_validate(
        workflow=workflow, retirement={"rules": [{**POSTERIOR_RULE, "method": "votes"}]}
    )
    assert "method" not in plain["rules"][0]  # vote rules keep the shape they always had
    rule = retirement.RetirementRule(**normalised["rules"][0])
    assert "probability >= 0.6" in rule.describe()
    for bad, message in [
        ({**POSTERIOR_RULE, "weighted": True}, "single-answer question and no skill weighting"),
        ({**POSTERIOR_RULE, "task": "T2"}, "single-answer"),
        ({**POSTERIOR_RULE, "method": "mean"}, "method must be one of votes, posterior"),
        ({"kind": "nothing_here", "task": "T0", "answer": 4, "method": "posterior"}, "method must be one of votes"),
    ]:
        with pytest.raises(InvalidInput, match=message):
            retirement.retirement_validate(workflow=workflow, retirement={"rules": [bad]})


def test_a_posterior_rule_retires_what_the_votes_alone_would_not(crowd):
    from annotations import retirement
    from annotations.models import SubjectWorkflowStatus

    workflow, target = crowd
    votes_rule = {**POSTERIOR_RULE, "method": "votes", "agreement": 0.7}
    rules = [retirement.RetirementRule(**rule) for rule in (votes_rule, POSTERIOR_RULE)]
    by_votes, by_posterior = retirement.rules_matches(workflow=workflow, rules=rules)
    assert target.pk not in by_votes  # Bent holds 2/3 < 0.7 of the votes
    assert target.pk in by_posterior  # FRI's posterior is 0.61 >= 0.6
    retirement.workflow_retirement_update(
        workflow=workflow, retirement={"options": {"count": 20}, "rules": [POSTERIOR_RULE]}, apply_now=True
    )
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=target)
    assert status.retired_at is not None and status.retirement_reason == "consensus"


def test_a_posterior_rule_retires_on_submission_and_waits_without_gold(crowd):
    from annotations import retirement
    from annotations.models import SubjectWorkflowStatus

    workflow, _ = crowd
    fresh, fresh_cutouts = make_workflow_with_subjects(n=1, retirement=20, name="Fresh", survey_name="fresh")
    for wf in (workflow, fresh):
        retirement.workflow_retirement_update(
            workflow=wf, retirement={"options": {"count": 20}, "rules": [POSTERIOR_RULE]}
        )
    unvoted = SubjectWorkflowStatus.objects.get(workflow=workflow, classification_count=0)
    for who, answer in [("a", FRI), ("b", FRI)]:
        vote(workflow, unvoted.subject, who, answer)
    unvoted.refresh_from_db()
    assert unvoted.retired_at is None  # two votes: below min_votes
    vote(workflow, unvoted.subject, "c", BENT)  # P(FRI | FRI, FRI, Bent) = 0.125 / (0.125 + 0.009)
    unvoted.refresh_from_db()
    assert unvoted.retired_at is not None and unvoted.retirement_reason == "consensus"

    for who in ("a", "b", "c"):
        vote(fresh, fresh_cutouts[0], who, FRI)
    status = SubjectWorkflowStatus.objects.get(workflow=fresh, subject=fresh_cutouts[0])
    assert status.retired_at is None  # unanimous, but no gold votes yet: the posterior rule waits


def test_gold_subjects_never_retire_by_rules_or_count(crowd):
    from annotations import retirement
    from annotations.models import SubjectWorkflowStatus

    workflow, _ = crowd
    gold = SubjectWorkflowStatus.objects.filter(workflow=workflow, classification_count=4)
    assert gold.count() == 4
    gold.update(gold=True)
    rule = {"kind": "consensus", "task": "T0", "min_votes": 3, "agreement": 0.5}
    preview = retirement.retirement_preview(workflow=workflow, retirement={"options": {"count": 2}, "rules": [rule]})
    assert preview["by_count"] == 1 and preview["rules"][0]["would_retire"] == 1  # only the target
    retirement.workflow_retirement_update(
        workflow=workflow, retirement={"options": {"count": 2}, "rules": [rule]}, apply_now=True
    )
    assert not gold.filter(retired_at__isnull=False).exists()
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=False).count() == 1
