# Tasks kept in the outbox under the names they had before the job task moved to this app
# (annotations.run_job; classifiers.train_version, which now runs as any other job).

from django.db import migrations

RENAMED = {
    "annotations.run_job": "jobs.run_job",
    "classifiers.train_version": "jobs.run_job",
    "annotations.jobs_sweep": "jobs.sweep",
}


def rename(apps, schema_editor):
    PendingTask = apps.get_model("jobs", "PendingTask")
    for old, new in RENAMED.items():
        PendingTask.objects.filter(name=old).update(name=new)


class Migration(migrations.Migration):
    dependencies = [("jobs", "0001_initial")]

    operations = [migrations.RunPython(rename, migrations.RunPython.noop)]
