"""Shapes of the volunteer's queue (a batch of leased subjects) and of classifications."""

from rest_framework import serializers

from annotations.drawing import annotations_with_sky, has_marks
from annotations.models import Classification
from core.api.fields import StoredJSONField

from .serializers import CutoutSerializer


class QueueItemSerializer(serializers.Serializer):
    subject = CutoutSerializer()
    classification_count = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField(
        help_text="the subject is held for this volunteer until then; a client drops it afterwards"
    )
    realism_question = serializers.BooleanField(
        help_text="ask the optional blinded question 'real or generated?' on this subject"
    )


class QueueNextSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    workflow_version = serializers.CharField()
    subject = CutoutSerializer(allow_null=True, help_text="the first subject of the batch (null when none)")
    classification_count = serializers.IntegerField(allow_null=True)
    subjects = QueueItemSerializer(
        many=True,
        help_text="the whole batch in serving order: the subjects this volunteer already holds, then new leases",
    )
    detail = serializers.CharField(required=False)
    retry_after = serializers.IntegerField(
        required=False, help_text="subjects are left but leased to others: ask again after this many seconds"
    )
    realism_question = serializers.BooleanField(
        required=False,
        help_text="ask the optional blinded question 'real or generated?' on this subject (asked on every "
        "generated subject and on as many real ones mixed in); answer it as the classification's realism",
    )


def annotations_shown(classification: Classification) -> list:
    """As stored; marks of drawing tasks also carry ra_deg and dec_deg."""
    tasks = classification.workflow_version.tasks
    if not has_marks(tasks):
        return classification.annotations
    return annotations_with_sky(classification.annotations, tasks, classification.subject)


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
    realism = serializers.ChoiceField(
        choices=["real", "generated"],
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="the answer to the optional question 'does this look like a real observation?'",
    )


class ClassificationSerializer(serializers.ModelSerializer):
    workflow_version = serializers.CharField(source="workflow_version.label")
    annotations = serializers.SerializerMethodField(
        help_text="as stored; marks of drawing tasks (radio-frame pixels) also carry ra_deg and dec_deg"
    )

    def get_annotations(self, classification) -> list:
        return annotations_shown(classification)

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
            "realism",
        ]


class ClassificationStoredSerializer(ClassificationSerializer):
    gold_feedback = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="after a gold-standard subject: the experts' answer beside yours "
        '({"gold": true, "agree": bool, "questions": [{"task", "question", "expert", "yours", "agree"}]}); '
        "null for other subjects or when the workflow turns feedback off",
    )

    synthetic_notice = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="after a generated subject: says it was generated (and what the generator was asked for); "
        "null for an observed one",
    )

    subject_position = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text='the subject\'s sky position {"ra_deg", "dec_deg"}, shown after the answer where it was withheld '
        "before it (position_withheld); null when none is known",
    )

    class Meta(ClassificationSerializer.Meta):
        fields = [*ClassificationSerializer.Meta.fields, "gold_feedback", "synthetic_notice", "subject_position"]


_DATETIME = serializers.DateTimeField()  # DRF's own formatting (ISO 8601, the current time zone)


def classification_stored_body(classification: Classification) -> dict:
    """What ClassificationSerializer gives for a classification just stored, built as a plain dict:
    the submit returns it on every classification, and the serializer's fields cost more to build
    than the submit's SQL costs to run. Shaped as ClassificationStoredSerializer without its two
    feedback fields, which the view adds."""
    stamp = _DATETIME.to_representation

    return {
        "id": classification.pk,
        "workflow": classification.workflow_id,
        "workflow_version": classification.workflow_version.label,
        "subject": classification.subject_id,
        "annotations": annotations_shown(classification),
        "metadata": classification.metadata,
        "started_at": stamp(classification.started_at) if classification.started_at else None,
        "finished_at": stamp(classification.finished_at) if classification.finished_at else None,
        "created_at": stamp(classification.created_at) if classification.created_at else None,
        "user_agent": classification.user_agent,
        "gold_standard": classification.gold_standard,
        "expert": classification.expert,
        "realism": classification.realism,
    }
