"""Workflows made by imports stay usable; the retirement page counts and agrees by one rule."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Cutout, Workflow, WorkflowVersion
from annotations.services import expert_classification_create
from tests.annotations.test_retirement import FRII, vote
from tests.factories import astronomer, make_workflow_with_subjects
from zooniverse.models import ZooniverseWorkflow


def _every_workflow_page_answers(workflow_id: int) -> None:
    client = APIClient()
    client.force_login(astronomer())
    for url in (
        reverse("workflow-retirement", args=[workflow_id]),
        f"/api/workflows/{workflow_id}/",
        f"/api/workflows/{workflow_id}/consensus/",
        f"/api/workflows/{workflow_id}/retirement/",
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    # The stand-in of a Zooniverse workflow is inactive: its classify page says so, not a 500.
    assert client.get(reverse("classify-workflow", args=[workflow_id])).status_code in (200, 404)


@pytest.mark.django_db
def test_import_without_a_workflow_export_leaves_a_usable_workflow(shared_data):
    call_command(
        "import_zooniverse",
        "--classifications",
        str(shared_data / "zooniverse_exports" / "slsn_question_classifications.csv"),
    )
    workflow = ZooniverseWorkflow.objects.get(zooniverse_id=10).workflow
    stored = WorkflowVersion.objects.filter(workflow=workflow)
    assert stored.filter(major=workflow.version_major, minor=workflow.version_minor).exists()
    assert (workflow.version_major, workflow.version_minor) == max((v.major, v.minor) for v in stored)
    _every_workflow_page_answers(workflow.pk)


@pytest.mark.django_db(transaction=True)
def test_migration_repairs_workflows_that_point_at_a_missing_version():
    executor = MigrationExecutor(connection)
    before = [("annotations", "0003_survey_queue_ranking")]
    after = [("annotations", "0004_repair_workflow_current_versions")]
    executor.migrate(before)
    apps = executor.loader.project_state(before).apps
    OldWorkflow = apps.get_model("annotations", "Workflow")
    OldVersion = apps.get_model("annotations", "WorkflowVersion")
    imported = OldWorkflow.objects.create(display_name="imported", version_major=1, version_minor=1)
    OldVersion.objects.create(workflow=imported, major=1, minor=0, tasks={"T0": {"type": "text"}}, strings={})
    OldVersion.objects.create(workflow=imported, major=16, minor=55, tasks={"T0": {"type": "text"}}, strings={})
    bare = OldWorkflow.objects.create(display_name="bare", version_major=1, version_minor=1)
    healthy = OldWorkflow.objects.create(display_name="healthy", version_major=2, version_minor=1)
    OldVersion.objects.create(workflow=healthy, major=2, minor=1, tasks={}, strings={})
    OldVersion.objects.create(workflow=healthy, major=3, minor=1, tasks={}, strings={})

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    call_command("migrate", verbosity=0)  # the rest of the graph, as a deployment runs it

    imported, bare, healthy = (Workflow.objects.get(display_name=n) for n in ("imported", "bare", "healthy"))
    assert imported.version_label == "16.55"
    assert bare.versions.filter(major=1, minor=1).exists() and bare.version_label == "1.1"
    assert healthy.version_label == "2.1"  # a current version that exists is left alone
    assert WorkflowVersion.objects.count() == 5  # the four stored versions kept, one empty added
    _every_workflow_page_answers(imported.pk)


@pytest.mark.django_db
def test_retirement_page_counts_and_agrees_over_volunteer_votes_only(client):
    workflow, cutouts = make_workflow_with_subjects(n=2, retirement=20)
    expert_classification_create(
        workflow=workflow, subject=cutouts[0], annotations=[{"task": "T0", "value": FRII}], source="literature:test"
    )
    vote(workflow, cutouts[1], "a", FRII)
    client.force_login(astronomer())
    page = client.get(reverse("workflow-retirement", args=[workflow.pk]))
    rows = {row["subject"].pk: row for row in page.context["open_subjects"]}
    only_expert, one_vote = rows[cutouts[0].pk], rows[cutouts[1].pk]
    assert only_expert["classifications"] == 0
    assert only_expert["agreement"] is None and only_expert["most_likely"] is None
    assert only_expert["expert"].startswith("FR II")
    assert one_vote["classifications"] == 1 and one_vote["agreement"] == 1.0 and one_vote["expert"] is None
    html = page.content.decode()
    expert_row = html[html.index(f'<tr data-subject="{cutouts[0].pk}"') :].split("</tr>")[0]
    assert "1.00" not in expert_row and "FR II" in expert_row


DEMO_NAME = "223.473_26.809_2_Gendre"  # the demo's names carry the label index and the catalogue


def _demo_like_workflow():
    workflow, cutouts = make_workflow_with_subjects(n=1, retirement=5)
    cutout = cutouts[0]
    Cutout.objects.filter(pk=cutout.pk).update(
        name=DEMO_NAME, metadata={"label": "Bent", "split": "train", "catalogue": "Proctor_Tab1", "file": "x.png"}
    )
    cutout.refresh_from_db()
    return workflow, cutout


def _leaks(text: str) -> list[str]:
    lowered = text.lower()
    return [word for word in ("gendre", "223.473", "223473", "proctor", "bent", '"label"', "train") if word in lowered]


@pytest.mark.django_db
def test_volunteers_see_a_neutral_identifier_and_the_sky_position():
    workflow, cutout = _demo_like_workflow()
    anonymous = APIClient()
    served = anonymous.get("/api/queue/next/", {"workflow": workflow.pk})
    subject = served.json()["subject"]
    assert subject["id"] == cutout.pk and subject["name"] == f"Subject {cutout.pk}"
    assert subject["ra_deg"] == pytest.approx(cutout.ra_deg)
    assert _leaks(served.content.decode()) == []
    for url in (f"/api/cutouts/{cutout.pk}/", "/api/cutouts/"):
        assert _leaks(anonymous.get(url).content.decode()) == [], url
    page = anonymous.get(reverse("classify-workflow", args=[workflow.pk]))
    assert page.status_code == 200 and "gendre" not in page.content.decode().lower()

    expert = APIClient()
    expert.force_authenticate(astronomer())
    detail = expert.get(f"/api/cutouts/{cutout.pk}/").json()
    assert detail["name"] == DEMO_NAME and detail["full_metadata"]["catalogue"] == "Proctor_Tab1"


@pytest.mark.django_db
def test_new_cutout_files_have_random_names():
    _, cutout = _demo_like_workflow()
    for field in (cutout.source_file, cutout.image, cutout.pixels):
        stem = field.name.rsplit("/", 1)[1].split(".")[0]
        assert len(stem) == 32 and int(stem, 16) >= 0, field.name
        assert "src-0" not in field.name


@pytest.mark.django_db(transaction=True)
def test_migration_renames_existing_cutout_files(settings):
    _, cutout = _demo_like_workflow()
    storage_root = settings.MEDIA_ROOT
    old_names = {}
    for field, folder in (("source_file", "source"), ("image", "png"), ("pixels", "pixels")):
        current = getattr(cutout, field).name
        old = f"cutouts/{folder}/{cutout.survey_id}/223473_26809_2_gendre-1a2b3c4d.{current.rsplit('.', 1)[1]}"
        (storage_root / old).parent.mkdir(parents=True, exist_ok=True)
        (storage_root / current).rename(storage_root / old)
        old_names[field] = old
    Cutout.objects.filter(pk=cutout.pk).update(**old_names)
    contents = {field: (storage_root / name).read_bytes() for field, name in old_names.items()}

    executor = MigrationExecutor(connection)
    executor.migrate([("annotations", "0004_repair_workflow_current_versions")])
    executor = MigrationExecutor(connection)
    executor.migrate([("annotations", "0005_neutral_media_file_names")])
    call_command("migrate", verbosity=0)

    cutout.refresh_from_db()
    for field, old in old_names.items():
        new = getattr(cutout, field).name
        assert "gendre" not in new and new != old
        assert (storage_root / new).read_bytes() == contents[field]
        assert not (storage_root / old).exists()
    assert _leaks(APIClient().get(f"/api/cutouts/{cutout.pk}/").content.decode()) == []
