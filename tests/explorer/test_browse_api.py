"""The data browser's API: every filter, sorting, pagination, bulk actions and refusals of bad input."""

import pytest
from django.urls import reverse

from annotations.models import Cutout, SubjectWorkflowStatus
from tests.factories import astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db
URL = "/api/browse/cutouts/"


@pytest.fixture
def astro(client):
    client.force_login(astronomer("browser"))
    return client


def ids(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


def test_filters_each_narrow_the_cutouts(astro, browsable):
    workflow, c = browsable
    assert ids(astro) == [x.pk for x in c]
    assert ids(astro, label="FRII") == [c[1].pk, c[2].pk]
    assert ids(astro, synthetic="true") == [c[3].pk]
    assert ids(astro, complexity_min=30, complexity_max=80) == [c[1].pk, c[2].pk]
    assert ids(astro, tag="jet") == [c[1].pk, c[3].pk]
    assert ids(astro, tag="jet, BENT") == [c[3].pk]  # all of them, names case-insensitive
    assert ids(astro, task="fr-morphology", prediction="FRII") == [c[1].pk, c[2].pk]
    assert ids(astro, task="fr-morphology", uncertainty_min=0.4) == [c[1].pk, c[2].pk]
    assert ids(astro, task="fr-morphology", score_class="FRI", score_min=0.4) == [c[0].pk, c[1].pk]
    assert ids(astro, workflow=workflow.pk, consensus="FRII") == [c[1].pk]
    assert ids(astro, workflow=workflow.pk, consensus="FR I: brightest near the centre, fading jets") == [c[0].pk]
    assert ids(astro, workflow=workflow.pk, consensus="none") == [c[2].pk, c[3].pk]
    assert ids(astro, survey=c[0].survey.name, q="src-2") == [c[2].pk]
    assert ids(astro, subject_set=c[0].subject_sets.get().pk, label="Bent") == [c[3].pk]


def test_sorting_puts_missing_scores_last(astro, browsable):
    _, c = browsable
    assert ids(astro, sort="-complexity") == [c[3].pk, c[2].pk, c[1].pk, c[0].pk]
    assert ids(astro, task="fr-morphology", sort="-uncertainty") == [c[1].pk, c[2].pk, c[0].pk, c[3].pk]
    assert ids(astro, task="fr-morphology", score_class="FRI", sort="score") == [c[2].pk, c[1].pk, c[0].pk, c[3].pk]
    assert ids(astro, sort="-classifications")[:2] == [c[1].pk, c[0].pk]


def test_cards_carry_tags_scores_and_links(astro, browsable):
    _, c = browsable
    body = astro.get(URL, {"page_size": 2, "page": 2}).json()
    assert body["count"] == 4 and body["previous"] and not body["next"]
    last = body["results"][1]
    assert last["id"] == c[3].pk and last["tags"] == ["bent", "jet"] and last["synthetic"] is True
    assert last["page_url"] == reverse("cutout-page", args=[c[3].pk])
    first = astro.get(URL, {"page_size": 1}).json()["results"][0]
    assert first["model_scores"]["fr-morphology"] == {"prediction": "FRI", "entropy": 0.33}
    assert first["classifications"] == 1 and first["label"] == "FRI"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"retired": "maybe"}, "retired"),
        ({"complexity_min": "abc"}, "complexity_min"),
        ({"complexity_min": "150"}, "complexity_min"),
        ({"complexity_min": "80", "complexity_max": "20"}, "complexity_min"),
        ({"sort": "colour"}, "sort"),
        ({"sort": "-uncertainty"}, "task"),
        ({"uncertainty_min": "0.2"}, "task"),
        ({"task": "fr-morphology", "score_min": "0.5"}, "score_class"),
        ({"task": "fr-morphology", "score_class": "Bent"}, "score_class"),
        ({"task": "no-such-task"}, "task"),
        ({"consensus": "FRII"}, "consensus"),
        ({"survey": "Nowhere"}, "survey"),
        ({"tag": "no-such-tag"}, "tag"),
        ({"workflow": "999999"}, "workflow"),
        ({"subject_set": "x"}, "subject_set"),
    ],
)
def test_bad_filters_are_4xx_naming_the_parameter(astro, browsable, params, field):
    response = astro.get(URL, params)
    assert 400 <= response.status_code < 500
    body = response.json()
    assert body.get("field") == field or field in body, body


def test_volunteers_cannot_browse(client, browsable):
    assert client.get(URL).status_code in (401, 403)
    assert client.post(f"{URL}bulk/", {"action": "retire"}, content_type="application/json").status_code in (401, 403)


def test_bulk_actions_queue_prioritise_and_retire(astro, browsable):
    workflow, c = browsable
    other, _ = make_workflow_with_subjects(n=0, name="Follow-up", survey_name="other-survey")
    bulk = f"{URL}bulk/"
    answer = astro.post(
        bulk, {"action": "add_to_workflow", "cutouts": [c[0].pk, c[1].pk], "workflow": other.pk}, "application/json"
    ).json()
    assert answer["changed"] == 2 and SubjectWorkflowStatus.objects.filter(workflow=other).count() == 2
    again = astro.post(
        bulk, {"action": "add_to_workflow", "cutouts": [c[0].pk], "workflow": other.pk}, "application/json"
    ).json()
    assert again["changed"] == 0 and "already in Follow-up" in again["skipped"][0]

    astro.post(bulk, {"action": "set_priority", "cutouts": [c[2].pk], "priority": 7.5}, "application/json")
    assert Cutout.objects.get(pk=c[2].pk).priority == 7.5
    assert SubjectWorkflowStatus.objects.get(workflow=workflow, subject=c[2]).priority == 7.5

    retired = astro.post(
        bulk, {"action": "retire", "cutouts": [c[2].pk, c[3].pk], "workflow": other.pk}, "application/json"
    ).json()
    assert retired["changed"] == 0 and retired["skipped"] == ["2 not in Follow-up"]
    retired = astro.post(
        bulk, {"action": "retire", "cutouts": [c[0].pk, c[1].pk], "workflow": workflow.pk}, "application/json"
    ).json()
    assert retired["changed"] == 2
    assert ids(astro, workflow=workflow.pk, retired="true") == [c[0].pk, c[1].pk]
    assert ids(astro, workflow=other.pk, retired="true") == []


@pytest.mark.parametrize(
    "payload",
    [
        {"action": "explode", "cutouts": [1]},
        {"action": "retire", "cutouts": []},
        {"action": "retire", "cutouts": ["a"]},
        {"action": "retire", "cutouts": [1]},  # no workflow
        {"action": "set_priority", "cutouts": [1]},  # no priority
        {"action": "set_priority", "cutouts": [1], "priority": "high"},
    ],
)
def test_bad_bulk_requests_are_400(astro, browsable, payload):
    assert astro.post(f"{URL}bulk/", payload, "application/json").status_code == 400


def test_a_bulk_action_with_an_unknown_cutout_changes_nothing(astro, browsable):
    workflow, c = browsable
    response = astro.post(
        f"{URL}bulk/", {"action": "set_priority", "cutouts": [c[0].pk, 99999], "priority": 3}, "application/json"
    )
    assert response.status_code == 404 and "99999" in response.json()["detail"]
    assert Cutout.objects.get(pk=c[0].pk).priority is None
