"""Workflows made by imports stay usable; the retirement page counts and agrees by one rule."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Workflow, WorkflowVersion
from annotations.services import expert_classification_create
from tests.factories import astronomer, make_workflow_with_subjects
from tests.test_retirement import FRII, vote
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
