"""The kernel's tables: a job per piece of background work, and the outbox of tasks not yet sent."""

import uuid

from django.conf import settings
from django.db import models


class Job(models.Model):
    """A long piece of background work (ingestion, ...) and its progress, for pages and the CLI."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=50)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)  # starts, counting redeliveries after a worker died
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # Written by the process running the job (progress and a periodic beat): the jobs sweep takes a
    # running job whose heartbeat stopped for a lost one (jobs.recovery).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Asked for by a person; the running job stops at its next progress report (jobs.runner).
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "annotations_job"  # the table it had in annotations: its rows stay where they are
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.kind} {self.status} {self.done}/{self.total}"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED, self.Status.CANCELLED}


class PendingTask(models.Model):
    """A Celery task that could not be queued (the broker was down): the outbox. The jobs sweep
    sends it once the broker is back (jobs.outbox)."""

    name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    queue = models.CharField(max_length=100, blank=True)
    task_id = models.CharField(max_length=64)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "annotations_pendingtask"
        ordering = ["pk"]

    def __str__(self):
        return f"{self.name} {self.task_id}"
