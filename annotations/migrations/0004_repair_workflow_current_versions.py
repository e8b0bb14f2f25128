"""Workflows made by a Zooniverse import pointed at a version that was never stored (1.1 when the
export held only 1.0), and every page and endpoint of such a workflow failed: point each at its
highest stored version, or store an empty one at its current number when it has none."""

from django.db import migrations


def repair(apps, schema_editor):
    Workflow = apps.get_model("annotations", "Workflow")
    WorkflowVersion = apps.get_model("annotations", "WorkflowVersion")
    for workflow in Workflow.objects.all().iterator():
        versions = WorkflowVersion.objects.filter(workflow=workflow)
        if versions.filter(major=workflow.version_major, minor=workflow.version_minor).exists():
            continue
        latest = versions.order_by("-major", "-minor").first()
        if latest is None:
            WorkflowVersion.objects.create(
                workflow=workflow, major=workflow.version_major, minor=workflow.version_minor, tasks={}, strings={}
            )
        else:
            Workflow.objects.filter(pk=workflow.pk).update(version_major=latest.major, version_minor=latest.minor)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0003_survey_queue_ranking")]
    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
