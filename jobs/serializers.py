from rest_framework import serializers

from .models import Job


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
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
        ]
