"""Shapes of a survey's self-supervised encoders and of starting one's training."""

from django.urls import reverse
from rest_framework import serializers

from classifiers.encoders import MAX_STEPS
from classifiers.models import FeatureEncoder


class EncoderTrainSerializer(serializers.Serializer):
    steps = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_STEPS, help_text="training steps (default: EncoderConfig's)"
    )


class FeatureEncoderSerializer(serializers.ModelSerializer):
    survey = serializers.CharField(source="survey.name")
    status = serializers.CharField(help_text="training, ready, active or failed")
    steps = serializers.SerializerMethodField(help_text="training steps (null until the job has read the defaults)")
    loss_first = serializers.SerializerMethodField()
    loss_last = serializers.SerializerMethodField()
    job_url = serializers.SerializerMethodField(help_text="GET it for the training's progress")

    class Meta:
        model = FeatureEncoder
        fields = [
            "id",
            "survey",
            "number",
            "status",
            "feature_version",
            "steps",
            "loss_first",
            "loss_last",
            "config",
            "job",
            "job_url",
            "error",
            "created_at",
            "finished_at",
        ]

    def get_steps(self, encoder) -> int | None:
        return encoder.config.get("steps")

    def get_loss_first(self, encoder) -> float | None:
        return encoder.loss_history[0] if encoder.loss_history else None

    def get_loss_last(self, encoder) -> float | None:
        return encoder.loss_history[-1] if encoder.loss_history else None

    def get_job_url(self, encoder) -> str | None:
        if encoder.job_id is None:
            return None
        url = reverse("api-job", args=[encoder.job_id])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url
