from rest_framework import serializers

from .models import Job
from .outcome import job_failures, job_outcome


class JobSerializer(serializers.ModelSerializer):
    outcome = serializers.SerializerMethodField(
        help_text='the state in words, e.g. "succeeded with 1 failure (2157/2158)"'
    )
    failures = serializers.SerializerMethodField(help_text="items the job reported as failed")

    def get_outcome(self, job) -> str:
        return job_outcome(job)

    def get_failures(self, job) -> int:
        return job_failures(job)

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "outcome",
            "failures",
            "done",
            "total",
            "message",
            "errors",
            "parameters",
            "result",
            "celery_task_id",
            "created_at",
            "started_at",
            "finished_at",
            "cancel_requested_at",
        ]
