"""Realism of a generator version as volunteers judge it: judged real and class agreement per class,
beside real labelled subjects (the blinded control), with counts and Wilson intervals."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout
from generative.models import GeneratedSample, GeneratorVersion
from generative.realism import share_with_interval, version_realism, wilson_interval
from tests.factories import UserFactory, astronomer, make_workflow_with_subjects

pytestmark = pytest.mark.django_db

FRI, FRII = 1, 2  # indices among the demo workflow's answers


def test_wilson_interval_known_values():
    assert wilson_interval(0, 0) is None
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=1e-4)
    low, high = wilson_interval(20, 20)
    assert high == 1.0 and low == pytest.approx(0.8389, abs=1e-4)
    assert share_with_interval(3, 4)["share"] == 0.75 and share_with_interval(0, 0)["share"] is None


@pytest.fixture
def judged():
    """v1 of a generator with 2 FRI and 2 FRII samples in a workflow beside 4 real cutouts
    (2 FRI, 2 FRII), and volunteers' answers on both."""
    workflow, cutouts = make_workflow_with_subjects(n=8, retirement=20, name="Realism wf", survey_name="real-survey")
    real, fake = cutouts[:4], cutouts[4:]
    for cutout, label in zip(real, ["FRI", "FRI", "FRII", "FRII"], strict=True):
        Cutout.objects.filter(pk=cutout.pk).update(metadata={"label": label})
    version = GeneratorVersion.objects.create(survey=real[0].survey, number=1, status="active", classes=["FRI", "FRII"])
    for cutout, asked in zip(fake, ["FRI", "FRI", "FRII", "FRII"], strict=True):
        Cutout.objects.filter(pk=cutout.pk).update(synthetic=True, metadata={"#requested_class": asked})
        GeneratedSample.objects.create(
            version=version, cutout=cutout, requested_class=asked, seed=0, guidance=2.0, review="approved"
        )
    wv = workflow.versions.first()

    def answer(subject, who, value, realism=""):
        Classification.objects.create(
            workflow=workflow,
            workflow_version=wv,
            subject=subject,
            volunteer_key=who,
            annotations=[{"task": "T0", "value": value}],
            realism=realism,
        )

    # generated FRI: 4 answers, 3 name FRI; realism 1 real of 4
    answer(fake[0], "a", FRI, "real")
    answer(fake[0], "b", FRI, "generated")
    answer(fake[1], "a", FRI, "generated")
    answer(fake[1], "b", FRII, "generated")
    # generated FRII: 2 answers, both FRII; realism 2 real of 2
    answer(fake[2], "a", FRII, "real")
    answer(fake[3], "a", FRII, "real")
    # real FRI: 2 answers naming FRI, one asked the realism question (real)
    answer(real[0], "a", FRI, "real")
    answer(real[1], "a", FRI)
    # real FRII: 2 answers, 1 names FRII; one judged generated
    answer(real[2], "a", FRII, "generated")
    answer(real[3], "a", FRI)
    # an expert's answer never counts
    Classification.objects.create(
        workflow=workflow,
        workflow_version=wv,
        subject=fake[1],
        volunteer_key="expert:x",
        annotations=[{"task": "T0", "value": FRII}],
        realism="real",
        expert=True,
    )
    return version, workflow


def test_realism_per_class_beside_the_real_control(judged):
    version, workflow = judged
    report = version_realism(version=version)
    assert report["workflows"] == [workflow.pk]
    rows = {row["class"]: row for row in report["classes"]}
    fri, frii = rows["FRI"], rows["FRII"]
    assert (fri["generated"]["judged_real"]["k"], fri["generated"]["judged_real"]["n"]) == (1, 4)
    assert (fri["generated"]["class_agreement"]["k"], fri["generated"]["class_agreement"]["n"]) == (3, 4)
    assert (frii["generated"]["judged_real"]["k"], frii["generated"]["judged_real"]["n"]) == (2, 2)
    assert frii["generated"]["class_agreement"]["share"] == 1.0
    assert (fri["real"]["judged_real"]["k"], fri["real"]["judged_real"]["n"]) == (1, 1)
    assert (fri["real"]["class_agreement"]["k"], fri["real"]["class_agreement"]["n"]) == (2, 2)
    assert (frii["real"]["judged_real"]["k"], frii["real"]["judged_real"]["n"]) == (0, 1)
    assert (frii["real"]["class_agreement"]["k"], frii["real"]["class_agreement"]["n"]) == (1, 2)
    overall = report["overall"]
    assert overall["generated"]["judged_real"]["k"] == 3 and overall["generated"]["judged_real"]["n"] == 6
    assert overall["real"]["class_agreement"]["share"] == 0.75
    low, high = wilson_interval(3, 6)
    assert overall["generated"]["judged_real"]["low"] == pytest.approx(low)
    assert overall["generated"]["judged_real"]["high"] == pytest.approx(high)


def test_a_version_without_answers_reports_empty_shares():
    workflow, cutouts = make_workflow_with_subjects(n=1, name="Empty wf", survey_name="empty-survey")
    version = GeneratorVersion.objects.create(survey=cutouts[0].survey, number=1, status="ready", classes=["FRI"])
    report = version_realism(version=version)
    assert report["workflows"] == []
    assert report["classes"][0]["generated"]["judged_real"] == {
        "n": 0,
        "k": 0,
        "share": None,
        "low": None,
        "high": None,
    }


def test_realism_api_and_page(client, judged):
    version, workflow = judged
    url = f"/api/generative/versions/{version.pk}/realism/"
    assert APIClient().get(url).status_code in (401, 403)
    astro = APIClient()
    astro.force_authenticate(astronomer())
    body = astro.get(url).json()
    assert body["number"] == 1 and [row["class"] for row in body["classes"]] == ["FRI", "FRII"]
    assert body["classes"][0]["generated"]["class_agreement"]["k"] == 3
    assert body["overall"]["real"]["judged_real"]["n"] == 2
    assert astro.get("/api/generative/versions/99999/realism/").status_code == 404
    client.force_login(UserFactory(username="boss", is_staff=True))
    page = client.get(f"/generative/versions/{version.pk}/").content.decode()
    assert "Realism, judged by volunteers" in page and 'data-class="FRII"' in page
    assert "1 of 4" in page and "95 % CI" in page
    assert client.get("/generative/versions/99999/").status_code == 404
    registry = client.get("/generative/").content.decode()
    assert f"/generative/versions/{version.pk}/" in registry


def test_the_schema_lists_every_generator_endpoint_and_names_fields_as_the_responses_do(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    for path in (
        "/api/generative/versions/",
        "/api/generative/versions/{id}/",
        "/api/generative/versions/{id}/realism/",
        "/api/generative/versions/{id}/promote/",
        "/api/generative/versions/{id}/evaluate/",
        "/api/generative/surveys/{survey_id}/rollback/",
        "/api/generative/compare/",
        "/api/generative/train/",
        "/api/generative/generate/",
        "/api/generative/samples/",
        "/api/generative/samples/review/",
    ):
        assert path in schema["paths"], path
    per_class = schema["components"]["schemas"]["ClassRealism"]
    assert "class" in per_class["properties"] and "label" not in per_class["properties"]
    assert "class" in per_class["required"]
    generate = schema["components"]["schemas"]["GenerateRequest"]["properties"]["seed"]
    assert generate.get("nullable") is True and "next unused seed" in generate["description"]
