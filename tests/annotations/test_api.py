import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Classification, Cutout, SubjectWorkflowStatus
from tests.factories import astronomer, blob_array, fits_bytes, make_workflow_with_subjects, serve

pytestmark = pytest.mark.django_db


@pytest.fixture
def client():
    return APIClient()


@pytest.fixture
def workflow_and_cutouts():
    return make_workflow_with_subjects(n=4, retirement=2)


def submit(client, workflow, subject_id, key=None, annotations=None, version=None, served=True):
    """Submit as an anonymous volunteer to whom the queue served the subject (unless ``served`` is False)."""
    if served:
        serve(client, workflow, subject_id)
    body = {
        "workflow": workflow.pk,
        "subject": subject_id,
        "annotations": annotations if annotations is not None else [{"task": "T0", "value": 2}],
    }
    if version:
        body["workflow_version"] = version
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(reverse("api-classifications"), body, format="json", **headers)


def test_next_then_submit_stores_one_row(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    response = client.get(reverse("api-queue-next"), {"workflow": workflow.pk})
    assert response.status_code == 200
    subject = response.json()["subject"]
    assert subject["id"] in {c.pk for c in cutouts}
    assert subject["image_url"].startswith("http://testserver/media/")
    assert "label" not in subject["metadata"] and "priority" not in subject  # hidden from volunteers
    created = submit(client, workflow, subject["id"], key="k-1")
    assert created.status_code == 201, created.content
    assert created.json()["annotations"] == [{"task": "T0", "value": 2}]
    assert Classification.objects.filter(subject_id=subject["id"]).count() == 1


def test_retried_submit_with_same_key_is_stored_once(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    first = submit(client, workflow, cutouts[0].pk, key="same-key")
    again = submit(client, workflow, cutouts[0].pk, key="same-key")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Classification.objects.count() == 1
    assert SubjectWorkflowStatus.objects.get(subject=cutouts[0]).classification_count == 1


def test_same_key_for_another_subject_is_a_conflict(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    assert submit(client, workflow, cutouts[0].pk, key="k").status_code == 201
    response = submit(client, workflow, cutouts[1].pk, key="k")
    assert response.status_code == 409 and "idempotency key" in response.json()["detail"]


def test_second_classification_of_same_subject_by_same_volunteer_refused(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    assert submit(client, workflow, cutouts[0].pk).status_code == 201
    response = submit(client, workflow, cutouts[0].pk)
    assert response.status_code == 409 and "already classified" in response.json()["detail"]


def test_retired_subject_is_refused_and_nothing_lost(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    for _ in range(2):
        assert submit(APIClient(), workflow, cutouts[0].pk).status_code == 201
    response = submit(APIClient(), workflow, cutouts[0].pk)
    assert response.status_code == 409 and "retired" in response.json()["detail"]
    assert Classification.objects.filter(subject=cutouts[0]).count() == 2


@pytest.mark.parametrize(
    "change, status, fragment",
    [
        ({"subject": 999999}, 404, "does not exist"),
        ({"workflow": 999999}, 404, "workflow 999999 does not exist"),
        ({"workflow_version": "9.9"}, 400, "no version 9.9"),
        ({"workflow_version": "latest"}, 400, "major.minor"),
        ({"annotations": [{"task": "T9", "value": 0}]}, 400, "unknown task"),
        ({"annotations": [{"task": "T0", "value": 17}]}, 400, "integer from 0 to 4"),
        ({"annotations": [{"task": "T1", "value": "only text"}]}, 400, "required task"),
        ({"annotations": "not a list"}, 400, "must be a list"),
        ({"annotations": [{"task": "T0", "value": 1}, {"task": "T1", "value": "x" * 2001}]}, 400, "longer than"),
        ({"annotations": [{"task": "T0", "value": 1}, {"task": "T2", "value": ["unicorn"]}]}, 400, "unknown tag"),
    ],
)
def test_bad_classifications_get_clear_errors(client, workflow_and_cutouts, change, status, fragment):
    workflow, cutouts = workflow_and_cutouts
    body = {"workflow": workflow.pk, "subject": cutouts[0].pk, "annotations": [{"task": "T0", "value": 1}], **change}
    response = client.post(reverse("api-classifications"), body, format="json")
    assert response.status_code == status, response.content
    assert fragment in response.json()["detail"]
    assert Classification.objects.count() == 0


def test_html_in_description_is_stored_as_text_and_escaped_in_pages(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    script = "<script>alert('x')</script> two lobes & a core"
    annotations = [{"task": "T0", "value": 2}, {"task": "T1", "value": script}]
    response = submit(client, workflow, cutouts[0].pk, annotations=annotations)
    assert response.status_code == 201
    stored = Classification.objects.get()
    assert stored.annotations[1]["value"] == script
    admin_user = astronomer("boss")
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    page = client.get(reverse("admin:annotations_classification_change", args=[stored.pk]))
    assert page.status_code == 200
    assert b"<script>alert('x')</script>" not in page.content
    assert b"&lt;script&gt;" in page.content


def test_volunteer_cannot_call_astronomer_endpoints(client, workflow_and_cutouts):
    upload = client.post(reverse("api-cutout-upload"), {"survey": "x"}, format="multipart")
    assert upload.status_code == 403 and "astronomer" in upload.json()["detail"]
    jobs = client.post(reverse("api-jobs"), {"kind": "ingest_demo"}, format="json")
    assert jobs.status_code == 403
    workflow, cutouts = workflow_and_cutouts
    retire = client.post(reverse("api-workflow-retire", args=[workflow.pk]), {"subject": cutouts[0].pk}, format="json")
    assert retire.status_code == 403
    assert SubjectWorkflowStatus.objects.filter(retired_at__isnull=False).count() == 0


def test_volunteers_see_only_their_own_classifications(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    alice, bob = APIClient(), APIClient()
    submit(alice, workflow, cutouts[0].pk)
    submit(bob, workflow, cutouts[1].pk)
    mine = alice.get(reverse("api-classifications")).json()
    assert mine["count"] == 1 and mine["results"][0]["subject"] == cutouts[0].pk
    astro = APIClient()
    astro.force_login(astronomer())
    assert astro.get(reverse("api-classifications")).json()["count"] == 2


def test_astronomer_uploads_fits_and_sees_hidden_fields(client):
    client.force_login(astronomer())
    payload = fits_bytes(blob_array(48), ra=201.0, dec=-43.0)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        reverse("api-cutout-upload"),
        {"survey": "EMU", "file": SimpleUploadedFile("src.fits", payload), "label": "FRII"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["ra_deg"] == pytest.approx(201.0, abs=0.01) and body["full_metadata"]["label"] == "FRII"
    assert body["width"] == 48 and "priority" in body
    detail = client.get(reverse("api-cutout", args=[body["id"]])).json()
    assert detail["wcs_header"].startswith("WCSAXES")
    pixels = client.get(reverse("api-cutout-pixels", args=[body["id"]]))
    assert pixels["X-Width"] == "48" and len(pixels.content) == 48 * 48 * 2


@pytest.mark.parametrize(
    "name, payload, fragment",
    [
        ("notes.txt", b"just some words", "not a FITS, PNG or JPEG"),
        ("broken.fits", fits_bytes(blob_array(64))[:5000], "not a readable FITS"),
        ("blank.fits", fits_bytes(blob_array(8) * 0), "blank"),
    ],
)
def test_bad_uploads_get_clear_errors_and_keep_what_was_stored(client, name, payload, fragment):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(astronomer())
    good = client.post(
        reverse("api-cutout-upload"),
        {"survey": "EMU", "file": SimpleUploadedFile("good.fits", fits_bytes(blob_array(32)))},
        format="multipart",
    )
    assert good.status_code == 201
    response = client.post(
        reverse("api-cutout-upload"), {"survey": "EMU", "file": SimpleUploadedFile(name, payload)}, format="multipart"
    )
    assert response.status_code == 400
    assert fragment in response.json()["detail"] and name in response.json()["detail"]
    assert list(Cutout.objects.values_list("name", flat=True)) == ["good"]


def test_oversized_upload_is_refused_with_413(client, settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.RGZ_MAX_UPLOAD_BYTES = 1000
    client.force_login(astronomer())
    response = client.post(
        reverse("api-cutout-upload"),
        {"survey": "EMU", "file": SimpleUploadedFile("big.fits", fits_bytes(blob_array(64)))},
        format="multipart",
    )
    assert response.status_code == 413 and "limit" in response.json()["detail"]
    assert Cutout.objects.count() == 0


def test_cutout_list_filters(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    for _ in range(2):
        submit(APIClient(), workflow, cutouts[0].pk)
    retired = client.get(reverse("api-cutouts"), {"retired": "true", "workflow": workflow.pk}).json()
    assert [c["id"] for c in retired["results"]] == [cutouts[0].pk]
    active = client.get(reverse("api-cutouts"), {"retired": "false", "survey": "test-survey"}).json()
    assert active["count"] == 3
    assert client.get(reverse("api-cutouts"), {"survey": "nope"}).json()["count"] == 0
    assert client.get(reverse("api-cutouts"), {"retired": "maybe"}).status_code == 400


def test_subject_status_and_manual_retirement(client, workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    client.force_login(astronomer())
    response = client.post(
        reverse("api-workflow-retire", args=[workflow.pk]),
        {"subject": cutouts[1].pk, "reason": "flagged"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["retirement_reason"] == "flagged"
    statuses = client.get(reverse("api-subject-status"), {"workflow": workflow.pk, "retired": "true"}).json()
    assert [s["subject"] for s in statuses["results"]] == [cutouts[1].pk]
    bad = client.post(
        reverse("api-workflow-retire", args=[workflow.pk]), {"subject": cutouts[2].pk, "reason": "bored"}, format="json"
    )
    assert bad.status_code == 400


def test_workflow_detail_and_queue_errors(client, workflow_and_cutouts):
    workflow, _ = workflow_and_cutouts
    detail = client.get(reverse("api-workflow", args=[workflow.pk])).json()
    assert detail["version"] == "1.1" and detail["tasks"]["T0"]["type"] == "single"
    assert client.get(reverse("api-queue-next")).status_code == 400
    assert client.get(reverse("api-queue-next"), {"workflow": "abc"}).status_code == 400
    assert client.get(reverse("api-queue-next"), {"workflow": 12345}).status_code == 404


def test_token_authentication(client, workflow_and_cutouts):
    user = astronomer("scripted")
    token = client.post(reverse("api-token"), {"username": "scripted", "password": "pw-for-tests"}).json()["token"]
    scripted = APIClient()
    scripted.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    workflow, cutouts = workflow_and_cutouts
    assert submit(scripted, workflow, cutouts[0].pk, served=False).status_code == 201  # astronomers pick
    assert Classification.objects.get().user == user


def test_anonymous_submitters_are_throttled(settings, workflow_and_cutouts):
    from django.core.cache import cache

    cache.clear()
    rates = {"volunteer_submit": "2/min", "anon_address_submit": "100/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    workflow, cutouts = workflow_and_cutouts
    client = APIClient()
    codes = [submit(client, workflow, c.pk).status_code for c in cutouts[:3]]
    assert codes == [201, 201, 429]
    assert Classification.objects.count() == 2
    # Another volunteer from the same address is not held back by the first one's limit.
    assert submit(APIClient(), workflow, cutouts[3].pk).status_code == 201
    cache.clear()


def test_openapi_schema_lists_the_endpoints(client):
    response = client.get(reverse("api-schema"), HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in [
        "/api/queue/next/",
        "/api/classifications/",
        "/api/cutouts/",
        "/api/cutouts/{id}/",
        "/api/workflows/",
        "/api/subject-status/",
        "/api/cutouts/upload/",
        "/api/jobs/{id}/",
        "/api/workflows/{id}/consensus/",
        "/api/workflows/{id}/skill/",
        "/api/workflows/{id}/retirement/",
        "/api/workflows/{id}/retirement/preview/",
        "/api/cutouts/{id}/descriptions/",
        "/api/zooniverse/links/",
        "/api/zooniverse/links/{id}/{action}/",
    ]:
        assert path in paths, path
    assert client.get(reverse("api-docs")).status_code == 200


def test_openapi_schema_generates_without_warnings(tmp_path):
    from django.core.management import call_command

    # --fail-on-warn: an undocumented response or a colliding operation id fails the suite.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))
    assert (tmp_path / "schema.yml").read_text().startswith("openapi: 3")


def test_retry_after_the_subject_retired_still_returns_the_stored_row(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    first = APIClient()
    assert submit(first, workflow, cutouts[0].pk, key="early").status_code == 201
    assert submit(APIClient(), workflow, cutouts[0].pk).status_code == 201  # retires it (limit 2)
    retry = submit(first, workflow, cutouts[0].pk, key="early")
    assert retry.status_code == 200
    assert Classification.objects.filter(subject=cutouts[0]).count() == 2


def test_anonymous_volunteer_id_is_a_signed_cookie(workflow_and_cutouts):
    workflow, cutouts = workflow_and_cutouts
    client = APIClient()
    served = client.get(reverse("api-queue-next"), {"workflow": workflow.pk}).json()["subject"]["id"]
    cookie = client.cookies["rgz_volunteer"]
    assert cookie["httponly"] and "sessionid" not in client.cookies
    assert submit(client, workflow, served, served=False).status_code == 201
    stored = Classification.objects.get()
    assert stored.volunteer_key == f"session:{stored.session_key}" and stored.session_key in cookie.value
    # A forged cookie is not accepted as that volunteer: it becomes a new volunteer, who was
    # served nothing.
    forged = APIClient()
    forged.cookies["rgz_volunteer"] = stored.session_key
    refused = submit(forged, workflow, served, served=False)
    assert refused.status_code == 409 and refused.json()["code"] == "not_served"
    assert forged.cookies["rgz_volunteer"].value != stored.session_key
    assert Classification.objects.count() == 1


def test_workflow_versions_bump_major_on_tasks_and_minor_on_wording(workflow_and_cutouts):
    from annotations.services import workflow_update_tasks

    workflow, cutouts = workflow_and_cutouts
    current = workflow.versions.get()
    reworded = workflow_update_tasks(
        workflow=workflow, tasks=current.tasks, strings={**current.strings, "T1.instruction": "Describe it"}
    )
    assert reworded.label == "1.2"
    assert workflow_update_tasks(workflow=workflow, tasks=reworded.tasks, strings=reworded.strings).pk == reworded.pk
    fewer = {k: v for k, v in reworded.tasks.items() if k != "T2"}
    fewer["T1"] = {**fewer["T1"], "next": None}
    assert workflow_update_tasks(workflow=workflow, tasks=fewer, strings=reworded.strings).label == "2.1"
    # Classifications made with an older version are still accepted under that version.
    assert submit(APIClient(), workflow, cutouts[0].pk, version="1.1").status_code == 201
    assert submit(APIClient(), workflow, cutouts[1].pk, version="2.1").status_code == 201
