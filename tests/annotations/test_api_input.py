"""Hostile input gets a clear 4xx and stores nothing: what an outside attacker sent on loopback."""

import json

import pytest
from rest_framework.test import APIClient

from annotations.models import Classification
from jobs.models import Job
from taxonomy.models import CurationEvent, Tag
from tests.factories import astronomer, make_scan, make_workflow_with_subjects, serve

pytestmark = pytest.mark.django_db

CLASSIFICATIONS = "/api/classifications/"


@pytest.fixture
def subject():
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=5)
    return workflow, cutouts[0]


@pytest.fixture
def astro_client():
    client = APIClient()
    client.force_authenticate(astronomer())
    return client


def body(subject, **overrides):
    workflow, cutout = subject
    data = {"workflow": workflow.pk, "subject": cutout.pk, "annotations": [{"task": "T0", "value": 1}]}
    data.update(overrides)
    return data


def post_raw(client, url, text: str, **headers):
    return client.generic("POST", url, text.encode("utf-8"), content_type="application/json", **headers)


def assert_refused(response, status=400, mentions=""):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    assert mentions.lower() in json.dumps(response.json()).lower()


def test_an_idempotency_key_header_over_64_characters_is_a_400(subject):
    response = APIClient().post(CLASSIFICATIONS, body(subject), format="json", HTTP_IDEMPOTENCY_KEY="k" * 65)
    assert_refused(response, mentions="Idempotency-Key")
    assert Classification.objects.count() == 0


@pytest.mark.parametrize("task", [["T0"], {"key": "T0"}])
def test_an_annotation_task_that_is_a_list_or_object_is_a_400(subject, task):
    response = APIClient().post(CLASSIFICATIONS, body(subject, annotations=[{"task": task, "value": 1}]), format="json")
    assert_refused(response, mentions="task")
    assert Classification.objects.count() == 0


@pytest.mark.parametrize("metadata", [{"a\x00b": 1}, {"source": "x\x00y"}])
def test_nul_in_metadata_keys_or_values_is_a_400(subject, metadata):
    response = APIClient().post(CLASSIFICATIONS, body(subject, metadata=metadata), format="json")
    assert_refused(response, mentions="NUL")
    assert Classification.objects.count() == 0


def test_lone_surrogates_in_a_description_or_metadata_are_a_400(subject):
    workflow, cutout = subject
    description = (
        f'{{"workflow": {workflow.pk}, "subject": {cutout.pk}, '
        '"annotations": [{"task": "T0", "value": 1}, {"task": "T1", "value": "jet \\ud800 here"}]}'
    )
    metadata = (
        f'{{"workflow": {workflow.pk}, "subject": {cutout.pk}, '
        '"annotations": [{"task": "T0", "value": 1}], "metadata": {"note": "\\udfff"}}'
    )
    for text in (description, metadata):
        assert_refused(post_raw(APIClient(), CLASSIFICATIONS, text), mentions="surrogate")
    assert Classification.objects.count() == 0


@pytest.mark.parametrize(
    "url,role", [(CLASSIFICATIONS, "anonymous"), ("/api/auth/token/", "anonymous"), ("/api/workflows/", "astronomer")]
)
def test_json_nested_a_thousand_levels_deep_is_a_400(subject, url, role):
    client = APIClient()
    if role == "astronomer":
        client.force_authenticate(astronomer())
    deep = "[" * 1000 + "]" * 1000
    response = post_raw(client, url, f'{{"annotations": {deep}, "username": "a", "password": "b"}}')
    assert_refused(response, mentions="nested")
    response = post_raw(client, url, "[" * 100_000 + "]" * 100_000)
    assert_refused(response, mentions="nested")


def test_a_nul_in_a_query_parameter_is_a_400():
    response = APIClient().get("/api/cutouts/?survey=%00")
    assert_refused(response, mentions="NUL")


def test_classification_metadata_is_bounded_and_nothing_is_echoed(subject, settings):
    response = APIClient().post(CLASSIFICATIONS, body(subject, metadata={"x": "y" * (4 * 1024 * 1024)}), format="json")
    assert_refused(response, mentions="metadata")
    assert len(response.content) < 1000 and Classification.objects.count() == 0
    just_over = {"x": "y" * settings.RGZ_CLASSIFICATION_MAX_METADATA_BYTES}
    assert_refused(
        APIClient().post(CLASSIFICATIONS, body(subject, metadata=just_over), format="json"), mentions="limit"
    )
    fits = {"x": "y" * (settings.RGZ_CLASSIFICATION_MAX_METADATA_BYTES - 20)}
    volunteer = APIClient()
    serve(volunteer, subject[0], subject[1].pk)  # answers are taken for subjects served to the volunteer
    assert volunteer.post(CLASSIFICATIONS, body(subject, metadata=fits), format="json").status_code == 201


def test_classification_annotations_are_bounded(subject, settings):
    padding = [{"task": "T0", "value": 1}] + [{"task": "T2", "value": ["jet"] * 20_000}]
    response = APIClient().post(CLASSIFICATIONS, body(subject, annotations=padding), format="json")
    assert_refused(response, mentions="annotations")
    assert Classification.objects.count() == 0


def test_a_json_body_over_the_upload_limit_is_a_413_json(subject, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = APIClient().post(CLASSIFICATIONS, body(subject, metadata={"x": "y" * 20_000}), format="json")
    assert_refused(response, status=413, mentions="too large")


def test_too_many_form_fields_under_the_api_is_a_413_json(subject, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    fields = {f"f{i}": "x" for i in range(50)}
    response = APIClient().post(CLASSIFICATIONS, fields, format="multipart")
    assert_refused(response, status=413, mentions="too large")


# Astronomers


def test_tag_events_with_a_tag_that_is_not_a_number_is_a_400(astro_client):
    assert_refused(astro_client.get("/api/tags/events/?tag=abc"), mentions="tag")


def test_undoing_a_tag_creation_removes_the_tag(astro_client):
    created = astro_client.post("/api/tags/", {"name": "x-shaped"}, format="json")
    assert created.status_code == 201
    event = CurationEvent.objects.get(action="create")
    response = astro_client.post(f"/api/tags/events/{event.pk}/undo/")
    assert response.status_code == 200, response.content[:300]
    assert not Tag.objects.exists()
    assert CurationEvent.objects.get(action="undo").summary == "undid: created 'x-shaped'"


def test_nul_in_job_parameters_is_a_400(astro_client):
    response = astro_client.post(
        "/api/jobs/", {"kind": "score_complexity", "parameters": {"survey_name": "a\x00b"}}, format="json"
    )
    assert_refused(response, mentions="NUL")
    assert not Job.objects.exists()


def test_job_parameters_the_runner_cannot_take_are_a_400_naming_them(astro_client):
    unknown = {"kind": "score_complexity", "parameters": {"survey_name": "s", "colour": "red"}}
    assert_refused(astro_client.post("/api/jobs/", unknown, format="json"), mentions="colour")
    missing = {"kind": "score_complexity", "parameters": {}}
    assert_refused(astro_client.post("/api/jobs/", missing, format="json"), mentions="survey_name")
    wrong_type = {"kind": "score_complexity", "parameters": {"survey_name": "s", "set_priority": [1]}}
    assert_refused(astro_client.post("/api/jobs/", wrong_type, format="json"), mentions="set_priority")
    assert not Job.objects.exists()


@pytest.fixture
def scan():
    return make_scan("m.fits")


def test_catalogue_formats_other_than_csv_and_vot_are_a_404(astro_client, scan):
    base = f"/api/scans/{scan.pk}/catalogue."
    assert astro_client.get(base + "csv").status_code == 200
    vot = astro_client.get(base + "vot")
    assert vot.status_code == 200 and vot["Content-Disposition"] == f'attachment; filename="anomalies-{scan.pk}.vot"'
    for fmt in ("html", "csv%0d%0aSet-Cookie:%20a=b", 'vot"x'):
        response = astro_client.get(base + fmt)
        assert response.status_code == 404 and "Set-Cookie" not in response
    assert_refused(astro_client.get(base + "csv?top=nan"), mentions="top")
