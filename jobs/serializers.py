from rest_framework import serializers

from .models import Job
from .outcome import job_failures, job_outcome
from .selectors import job_may_cancel


class JobSerializer(serializers.ModelSerializer):
    outcome = serializers.SerializerMethodField(
        help_text='the state in words, e.g. "succeeded with 1 failure (2157/2158)"'
    )
    failures = serializers.SerializerMethodField(help_text="items the job reported as failed")
    created_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="who started it (none: the system)"
    )
    can_cancel = serializers.SerializerMethodField(
        help_text="whether the account asking may cancel it now (unfinished, and theirs or an admin's)"
    )

    def get_outcome(self, job) -> str:
        return job_outcome(job)

    def get_failures(self, job) -> int:
        return job_failures(job)

    def get_can_cancel(self, job) -> bool:
        request = self.context.get("request")
        if request is None or job.finished:
            return False
        return job_may_cancel(job=job, user=request.user)

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
            "created_by",
            "can_cancel",
        ]
