"""Input and output shapes of the API (kept apart from the table layout)."""

from django.urls import reverse
from rest_framework import serializers

from annotations.models import Classification, Job, SubjectWorkflowStatus, Survey

from .fields import StoredJSONField


class SurveySerializer(serializers.ModelSerializer):
    class Meta:
        model = Survey
        fields = ["id", "name", "telescope", "frequency_mhz", "beam_arcsec", "pixel_scale_arcsec", "description"]


class CutoutSerializer(serializers.Serializer):
    """A cutout as volunteers may see it: no hidden ranking metadata."""

    id = serializers.IntegerField()
    survey = serializers.CharField(source="survey.name")
    name = serializers.CharField()
    ra_deg = serializers.FloatField(allow_null=True)
    dec_deg = serializers.FloatField(allow_null=True)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    source_format = serializers.CharField()
    metadata = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField()
    pixels_url = serializers.SerializerMethodField()
    contours_url = serializers.SerializerMethodField()

    def get_metadata(self, cutout) -> dict:
        # The expert label would bias volunteers; it stays with the hidden fields.
        return {k: v for k, v in cutout.metadata.items() if k != "label" and not k.startswith(("#", "!"))}

    def _absolute(self, url: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_image_url(self, cutout) -> str:
        return self._absolute(cutout.image.url)

    def get_pixels_url(self, cutout) -> str:
        return self._absolute(cutout.pixels.url)

    def get_contours_url(self, cutout) -> str:
        return self._absolute(reverse("api-cutout-contours", args=[cutout.pk]))


class CutoutAstronomerSerializer(CutoutSerializer):
    """What astronomers see: everything, hidden ranking metadata included."""

    source_url = serializers.SerializerMethodField()
    wcs_header = serializers.CharField()
    full_metadata = serializers.JSONField(source="metadata")
    ingest_notes = serializers.JSONField()
    complexity = serializers.FloatField(allow_null=True)
    complexity_percentile = serializers.FloatField(allow_null=True)
    model_scores = serializers.JSONField()
    priority = serializers.FloatField(allow_null=True)
    synthetic = serializers.BooleanField()

    def get_source_url(self, cutout) -> str:
        return self._absolute(cutout.source_file.url)


class CutoutForRoleSerializer(CutoutSerializer):
    """The schema of a cutout read by anyone: the astronomers' fields are there for astronomers only."""

    source_url = serializers.URLField(required=False)
    wcs_header = serializers.CharField(required=False)
    full_metadata = serializers.JSONField(required=False)
    ingest_notes = serializers.JSONField(required=False)
    complexity = serializers.FloatField(allow_null=True, required=False)
    complexity_percentile = serializers.FloatField(allow_null=True, required=False)
    model_scores = serializers.JSONField(required=False)
    priority = serializers.FloatField(allow_null=True, required=False)
    synthetic = serializers.BooleanField(required=False)


class CutoutUploadSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=100)
    file = serializers.FileField()
    name = serializers.CharField(max_length=255, required=False)
    ra_deg = serializers.FloatField(required=False, min_value=0, max_value=360)
    dec_deg = serializers.FloatField(required=False, min_value=-90, max_value=90)
    label = serializers.CharField(max_length=100, required=False)
    workflow = serializers.IntegerField(required=False)


class WorkflowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    description = serializers.CharField()
    active = serializers.BooleanField()
    prioritized = serializers.BooleanField()
    version = serializers.CharField(source="version_label")
    retirement = serializers.JSONField()
    first_task = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    strings = serializers.SerializerMethodField()

    def _current(self, workflow):
        return workflow.versions.get(major=workflow.version_major, minor=workflow.version_minor)

    def get_first_task(self, workflow) -> str:
        return self._current(workflow).first_task

    def get_tasks(self, workflow) -> dict:
        return self._current(workflow).tasks

    def get_strings(self, workflow) -> dict:
        return self._current(workflow).strings


class WorkflowCreateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    tasks = StoredJSONField(must_be=dict)
    strings = StoredJSONField(must_be=dict)
    retirement_count = serializers.IntegerField(min_value=1, default=15)
    subject_sets = serializers.ListField(child=serializers.IntegerField(), required=False, default=list)


class QueueNextSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_version = serializers.CharField()
    subject = CutoutSerializer(allow_null=True)
    classification_count = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField(required=False)


class ClassificationCreateSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_version = serializers.CharField(required=False, max_length=20)
    subject = serializers.IntegerField()
    annotations = StoredJSONField(max_bytes="RGZ_CLASSIFICATION_MAX_ANNOTATIONS_BYTES")
    metadata = StoredJSONField(
        max_bytes="RGZ_CLASSIFICATION_MAX_METADATA_BYTES", must_be=dict, required=False, default=dict
    )
    started_at = serializers.DateTimeField(required=False)
    finished_at = serializers.DateTimeField(required=False)
    idempotency_key = serializers.CharField(required=False, max_length=64)


class ClassificationSerializer(serializers.ModelSerializer):
    workflow_version = serializers.CharField(source="workflow_version.label")

    class Meta:
        model = Classification
        fields = [
            "id",
            "workflow",
            "workflow_version",
            "subject",
            "annotations",
            "metadata",
            "started_at",
            "finished_at",
            "created_at",
            "user_agent",
            "gold_standard",
            "expert",
        ]


class SubjectStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubjectWorkflowStatus
        fields = ["workflow", "subject", "classification_count", "retired_at", "retirement_reason"]


class RetireSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    reason = serializers.CharField(default="human")


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


class JobCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["ingest_images", "ingest_fits", "ingest_demo", "score_complexity"])
    parameters = StoredJSONField(must_be=dict, default=dict)
