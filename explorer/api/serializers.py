"""The data browser's query, its answer and its bulk actions."""

from django.urls import reverse
from rest_framework import serializers

from explorer.filters import SORT_KEYS, BrowseFilters
from explorer.services import ACTIONS, MAX_SELECTION

SORT_CHOICES = [key for name in SORT_KEYS for key in (name, f"-{name}")]


class BrowseQuerySerializer(serializers.Serializer):
    """Filters as query parameters; every one optional, all of them applied together."""

    survey = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="survey name or id")
    subject_set = serializers.IntegerField(required=False, min_value=1)
    workflow = serializers.IntegerField(required=False, min_value=1)
    label = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="catalogue/expert label")
    consensus = serializers.CharField(
        required=False, allow_blank=True, max_length=100,
        help_text="volunteers' most likely answer to the workflow's first question (none: no answer yet)",
    )  # fmt: skip
    retired = serializers.BooleanField(required=False, allow_null=True, default=None)
    complexity_min = serializers.FloatField(required=False, min_value=0, max_value=100, help_text="percentile")
    complexity_max = serializers.FloatField(required=False, min_value=0, max_value=100, help_text="percentile")
    task = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="classifier task")
    prediction = serializers.CharField(required=False, allow_blank=True, max_length=100)
    score_class = serializers.CharField(required=False, allow_blank=True, max_length=100)
    score_min = serializers.FloatField(required=False, min_value=0, max_value=1, help_text="probability of score_class")
    score_max = serializers.FloatField(required=False, min_value=0, max_value=1)
    uncertainty_min = serializers.FloatField(required=False, min_value=0, help_text="predictive entropy, nats")
    uncertainty_max = serializers.FloatField(required=False, min_value=0)
    synthetic = serializers.BooleanField(required=False, allow_null=True, default=None)
    tag = serializers.CharField(
        required=False, allow_blank=True, max_length=400, help_text="tag names, comma-separated: all"
    )
    q = serializers.CharField(required=False, allow_blank=True, max_length=100, help_text="part of the name")
    sort = serializers.ChoiceField(choices=SORT_CHOICES, required=False, default="id")

    def to_filters(self) -> BrowseFilters:
        data = dict(self.validated_data)
        tags = tuple(name.strip() for name in (data.pop("tag", "") or "").split(",") if name.strip())
        return BrowseFilters(tags=tags, **{key: value for key, value in data.items() if value is not None})


class CutoutCardSerializer(serializers.Serializer):
    """One thumbnail of the browser."""

    id = serializers.IntegerField(source="cutout.pk")
    name = serializers.CharField(source="cutout.name")
    survey = serializers.CharField(source="cutout.survey.name")
    ra_deg = serializers.FloatField(source="cutout.ra_deg", allow_null=True)
    dec_deg = serializers.FloatField(source="cutout.dec_deg", allow_null=True)
    label = serializers.SerializerMethodField()
    complexity_percentile = serializers.FloatField(source="cutout.complexity_percentile", allow_null=True)
    priority = serializers.FloatField(source="cutout.priority", allow_null=True)
    synthetic = serializers.BooleanField(source="cutout.synthetic")
    model_scores = serializers.SerializerMethodField(help_text="task -> {prediction, entropy}")
    tags = serializers.ListField(child=serializers.CharField())
    retired = serializers.BooleanField(help_text="retired in at least one workflow")
    classifications = serializers.IntegerField()
    image_url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    def get_label(self, card) -> str | None:
        value = (card["cutout"].metadata or {}).get("label")
        return None if value in (None, "") else str(value)

    def get_model_scores(self, card) -> dict:
        return {
            task: {"prediction": entry.get("prediction"), "entropy": entry.get("entropy")}
            for task, entry in (card["cutout"].model_scores or {}).items()
            if isinstance(entry, dict)
        }

    def get_image_url(self, card) -> str:
        return card["cutout"].image.url

    def get_page_url(self, card) -> str:
        return reverse("cutout-page", args=[card["cutout"].pk])


class BulkActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=ACTIONS)
    cutouts = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=MAX_SELECTION, help_text="cutout ids"
    )
    workflow = serializers.IntegerField(required=False, min_value=1, help_text="for add_to_workflow and retire")
    priority = serializers.FloatField(
        required=False, allow_null=True, min_value=-1e6, max_value=1e6, help_text="for set_priority; null: none"
    )

    def validate(self, data):
        if data["action"] == "set_priority" and "priority" not in data:
            raise serializers.ValidationError({"priority": "set_priority needs a priority (null to clear it)"})
        if data["action"] != "set_priority" and "workflow" not in data:
            raise serializers.ValidationError({"workflow": f"{data['action']} needs a workflow"})
        return data


class BulkResultSerializer(serializers.Serializer):
    action = serializers.CharField()
    selected = serializers.IntegerField()
    changed = serializers.IntegerField()
    skipped = serializers.ListField(child=serializers.CharField())
