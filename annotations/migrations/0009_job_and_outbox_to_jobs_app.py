# Job and PendingTask now belong to the jobs app (jobs.0001_initial), which keeps their tables
# and rows; here they leave annotations' migration state only, no table is dropped.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("annotations", "0008_pending_task_outbox"),
        ("jobs", "0001_initial"),
        ("classifiers", "0002_modelversion_job_in_jobs_app"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="Job"),
                migrations.DeleteModel(name="PendingTask"),
            ],
        ),
    ]
