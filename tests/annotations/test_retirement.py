"""Consensus weighted by gold-standard skill, retirement rules, hand retirement, descriptions."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations import retirement
from annotations.consensus import question_consensus
from annotations.models import Classification, SubjectWorkflowStatus
from annotations.roles import Volunteer
from annotations.selectors import free_text_answers, subject_descriptions
from annotations.services import classification_create, expert_classification_create
from annotations.skill import skill_weights, volunteer_skills
from core.errors import InvalidInput
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

COMPACT, FRI, FRII, BENT, OTHER = range(5)
LABEL = {
    COMPACT: "Compact: a single unresolved blob",
    FRI: "FR I: brightest near the centre, fading jets",
    FRII: "FR II: brightest at the ends of the lobes",
    OTHER: "Something else / not sure",
}


def vote(workflow, cutout, who: str, answer: int, text: str = ""):
    annotations = [{"task": "T0", "value": answer}]
    if text:
        annotations.append({"task": "T1", "value": text})
    classification, _ = classification_create(
        workflow_id=workflow.pk,
        subject_id=cutout.pk,
        volunteer=Volunteer(user_id=None, session_key=who),
        annotations=annotations,
    )
    return classification


@pytest.fixture
def workflow_and_cutouts():
    return make_workflow_with_subjects(n=6, retirement=20)


def test_weighted_consensus_follows_the_skilled_volunteers(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    gold, target = cutouts[:4], cutouts[4]
    for cutout in gold:  # experts say FRII; "good" volunteers agree, "poor" ones say FRI
        expert_classification_create(
            workflow=workflow, subject=cutout, annotations=[{"task": "T0", "value": FRII}], source="paper"
        )
        vote(workflow, cutout, "good", FRII)
        vote(workflow, cutout, "poor-1", FRI)
        vote(workflow, cutout, "poor-2", FRI)
    vote(workflow, target, "good", FRII)
    vote(workflow, target, "poor-1", FRI)
    vote(workflow, target, "poor-2", FRI)

    skills = volunteer_skills(workflow=workflow, task="T0")
    assert skills["session:good"].skill == 1.0 and skills["session:good"].count == 4
    assert skills["session:poor-1"].skill == 0.0
    assert skills["session:poor-1"].confusion[LABEL[FRII]][LABEL[FRI]] == 4

    plain = question_consensus(workflow=workflow, subject_ids=[target.pk])[(target.pk, "T0")]
    assert plain.most_likely == LABEL[FRI] and plain.agreement == pytest.approx(2 / 3)

    weights, default = skill_weights(workflow=workflow, task="T0", count_threshold=3)
    assert weights == {"session:good": 1.0, "session:poor-1": 0.0, "session:poor-2": 0.0}
    assert default == pytest.approx(1 / 3)
    weighted = question_consensus(
        workflow=workflow, subject_ids=[target.pk], weights=weights, default_weight=default, include_expert=False
    )[(target.pk, "T0")]
    assert weighted.most_likely == LABEL[FRII]
    assert weighted.num_votes == 3  # classifications, not summed weights


def test_unmeasured_volunteers_weigh_the_mean_skill(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    weights, default = skill_weights(workflow=workflow, task="T0")
    assert weights == {} and default == 1.0  # no gold subjects: everyone counts 1
    expert_classification_create(
        workflow=workflow, subject=cutouts[0], annotations=[{"task": "T0", "value": FRII}], source="x"
    )
    vote(workflow, cutouts[0], "one-gold-only", FRII)
    weights, default = skill_weights(workflow=workflow, task="T0", count_threshold=10)
    assert weights == {} and default == 1.0  # below the count threshold nobody is measured


def test_consensus_rule_retires_early_on_submission(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    retirement.workflow_retirement_update(
        workflow=workflow,
        retirement={
            "criteria": "classification_count",
            "options": {"count": 20},
            "rules": [{"kind": "consensus", "task": "T0", "min_votes": 3, "agreement": 0.8}],
        },
    )
    cutout = cutouts[0]
    vote(workflow, cutout, "a", FRII)
    vote(workflow, cutout, "b", FRII)
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutout)
    assert status.retired_at is None  # two votes: below min_votes
    vote(workflow, cutout, "c", FRII)
    status.refresh_from_db()
    assert status.retired_at is not None and status.retirement_reason == "consensus"

    other = cutouts[1]
    for who, answer in [("a", FRII), ("b", FRI), ("c", FRII), ("d", FRI)]:
        vote(workflow, other, who, answer)
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=other)
    assert status.retired_at is None  # agreement 0.5 < 0.8


def test_nothing_here_rule_and_preview_before_saving(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    for who in "abc":
        vote(workflow, cutouts[0], who, OTHER)
    for who, answer in zip("abc", [OTHER, FRI, COMPACT], strict=True):
        vote(workflow, cutouts[1], who, answer)
    rules = {
        "criteria": "classification_count",
        "options": {"count": 20},
        "rules": [{"kind": "nothing_here", "task": "T0", "answer": OTHER, "min_votes": 3, "fraction": 0.6}],
    }
    preview = retirement.retirement_preview(workflow=workflow, retirement=rules)
    assert preview["would_retire"] == 1 and preview["rules"][0]["would_retire"] == 1
    assert preview["retirement"]["rules"][0]["answer"] == LABEL[OTHER]  # an index becomes the label text
    assert SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=False).count() == 0

    before = Classification.objects.count()
    result = retirement.workflow_retirement_update(workflow=workflow, retirement=rules, apply_now=True)
    assert result["retired_now"] == 1
    status = SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutouts[0])
    assert status.retirement_reason == "nothing_here"
    assert Classification.objects.count() == before  # rules never remove classifications


def test_lowering_the_count_retires_what_it_decides(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    for who in "abcd":
        vote(workflow, cutouts[0], who, FRI)
    preview = retirement.retirement_preview(workflow=workflow, retirement={"options": {"count": 4}})
    assert preview["by_count"] == 1 and preview["would_retire"] == 1
    retirement.workflow_retirement_update(workflow=workflow, retirement={"options": {"count": 4}}, apply_now=True)
    assert SubjectWorkflowStatus.objects.get(workflow=workflow, subject=cutouts[0]).retirement_reason == (
        "classification_count"
    )


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"criteria": "whenever"}, "unknown retirement criteria"),
        ({"options": {"count": 0}}, "at least 1"),
        ({"rules": [{"kind": "vote", "task": "T0"}]}, "kind must be one of"),
        ({"rules": [{"kind": "consensus", "task": "T1"}]}, "question task"),
        ({"rules": [{"kind": "consensus", "task": "T0", "agreement": 1.5}]}, "agreement must be"),
        ({"rules": [{"kind": "consensus", "task": "T0", "min_votes": 0}]}, "min_votes"),
        ({"rules": [{"kind": "nothing_here", "task": "T0", "answer": "Nope"}]}, "answer must be one of"),
        ({"rules": "consensus"}, "rules must be a list"),
    ],
)
def test_bad_rules_are_refused_and_keep_the_stored_ones(workflow_and_cutouts, bad, message):
    workflow, _ = workflow_and_cutouts
    stored = dict(workflow.retirement)
    with pytest.raises(InvalidInput, match=message):
        retirement.workflow_retirement_update(workflow=workflow, retirement=bad)
    workflow.refresh_from_db()
    assert workflow.retirement == stored


def test_retirement_api_roles_preview_save_and_errors(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    for who in "abc":
        vote(workflow, cutouts[0], who, FRII)
    api = APIClient()
    url = reverse("api-workflow-retirement", args=[workflow.pk])
    body = {"retirement": {"options": {"count": 20}, "rules": [{"kind": "consensus", "task": "T0", "min_votes": 3}]}}
    assert api.put(url, body, format="json").status_code in (401, 403)
    api.force_authenticate(astronomer())
    preview = api.post(reverse("api-workflow-retirement-preview", args=[workflow.pk]), body, format="json")
    assert preview.status_code == 200 and preview.json()["would_retire"] == 1
    saved = api.put(url, {**body, "apply_now": True}, format="json")
    assert saved.status_code == 200 and saved.json()["retired_now"] == 1
    got = api.get(url).json()
    assert got["retirement"]["rules"][0]["agreement"] == 0.8
    assert "agreement >= 0.8 after at least 3 votes" in got["descriptions"][0]
    bad = api.put(url, {"retirement": {"rules": [{"kind": "consensus", "task": "T9"}]}}, format="json")
    assert bad.status_code == 400 and "question task" in bad.json()["detail"]


def test_consensus_and_skill_api(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    expert_classification_create(
        workflow=workflow, subject=cutouts[0], annotations=[{"task": "T0", "value": FRI}], source="x"
    )
    vote(workflow, cutouts[0], "a", FRI)
    vote(workflow, cutouts[0], "b", FRII)
    api = APIClient()
    api.force_authenticate(astronomer())
    rows = api.get(reverse("api-workflow-consensus", args=[workflow.pk]), {"task": "T0"}).json()["results"]
    first = next(row for row in rows if row["subject"] == cutouts[0].pk)
    assert first["num_votes"] == 3 and first["most_likely"] == LABEL[FRI]
    weighted = api.get(reverse("api-workflow-consensus", args=[workflow.pk]), {"task": "T0", "weighted": "true"}).json()
    assert weighted["weighted"] is True and weighted["results"][0]["num_votes"] == 2  # experts are the truth, not votes
    assert api.get(reverse("api-workflow-consensus", args=[workflow.pk]), {"weighted": "1"}).status_code == 400
    assert api.get(reverse("api-workflow-consensus", args=[workflow.pk]), {"task": "T7"}).status_code == 400
    skill = api.get(reverse("api-workflow-skill", args=[workflow.pk]), {"task": "T0", "count_threshold": 1}).json()
    by_key = {row["volunteer"]: row for row in skill["volunteers"]}
    assert by_key["session:a"]["skill"] == 1.0 and by_key["session:b"]["skill"] == 0.0
    assert by_key["session:a"]["level_up"] is True


def test_descriptions_are_gathered_per_subject_with_authors(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    vote(workflow, cutouts[0], "a", FRII, text="  two lobes with hotspots ")
    vote(workflow, cutouts[0], "b", FRII)
    vote(workflow, cutouts[1], "c", FRI, text="a plume")
    descriptions = subject_descriptions(subject_id=cutouts[0].pk)
    assert [(d.text, d.volunteer_key) for d in descriptions] == [("two lobes with hotspots", "session:a")]
    assert len(list(free_text_answers(workflow=workflow))) == 2
    latest = max(d.classification_id for d in free_text_answers(workflow=workflow))
    assert list(free_text_answers(workflow=workflow, since_id=latest)) == []
    api = APIClient()
    url = reverse("api-cutout-descriptions", args=[cutouts[0].pk])
    assert api.get(url).status_code in (401, 403)
    api.force_authenticate(astronomer())
    body = api.get(url, {"workflow": workflow.pk}).json()
    assert body["descriptions"][0]["author"] == "session:a" and body["descriptions"][0]["task"] == "T1"
    assert api.get(reverse("api-cutout-descriptions", args=[999999])).status_code == 404


def test_retirement_page_lists_rules_and_open_subjects(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    vote(workflow, cutouts[2], "a", FRII)
    url = reverse("workflow-retirement", args=[workflow.pk])
    assert client.get(url).status_code == 302  # login first
    client.force_login(astronomer())
    page = client.get(url)
    assert page.status_code == 200
    assert b"Early retirement rules" in page.content and b"questions-data" in page.content
    assert f'data-subject="{cutouts[2].pk}"'.encode() in page.content
    assert client.get(reverse("workflow-retirement", args=[99999])).status_code == 404


def test_an_unreadable_stored_rule_does_not_break_submissions(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    workflow.retirement = {"options": {"count": 20}, "rules": [{"kind": "consensus", "task": "T0", "bogus": 1}]}
    workflow.save(update_fields=["retirement"])
    vote(workflow, cutouts[0], "a", FRII)  # stored, not a 500
    assert Classification.objects.filter(subject=cutouts[0]).count() == 1
    assert retirement.workflow_rules(workflow) == []


def test_workflows_created_without_a_count_take_the_retirement_setting(settings, workflow_and_cutouts):
    from annotations.services import workflow_create
    from annotations.task_definitions import demo_workflow_definition
    from zooniverse.importer import workflow_for

    settings.RGZ_DEFAULT_RETIREMENT_COUNT = 7
    tasks, strings = demo_workflow_definition()
    api = APIClient()
    api.force_authenticate(astronomer())
    body = {"display_name": "W", "tasks": tasks, "strings": strings}
    created = api.post(reverse("api-workflows"), body, format="json")
    assert created.status_code == 201
    assert created.json()["retirement"]["options"] == {"count": 7}
    assert workflow_create(display_name="S", tasks=tasks, strings=strings).retirement_limit == 7
    assert workflow_for(4242, "Z").retirement_limit == 7
    workflow, _ = workflow_and_cutouts
    normalised = retirement.retirement_validate(workflow=workflow, retirement={"criteria": "classification_count"})
    assert normalised["options"] == {"count": 7}
