"""Input and output shapes of a workflow's acquisition policy, its preview and its gold standard."""

from rest_framework import serializers

from core.api.fields import StoredJSONField

POLICY_HELP = (
    "weights (entropy, margin, bald, complexity, novelty: >= 0, not all 0), exploration (share served at "
    "random, 0-1), diversity (bool), candidate_factor (int >= 1), gold_start, gold_end (shares, 0-1, end <= "
    "start), gold_halflife (answers, int >= 1), feedback (bool); missing fields take their defaults"
)


class PolicySettingsField(StoredJSONField):
    def __init__(self, **kwargs):
        super().__init__(must_be=dict, help_text=POLICY_HELP, **kwargs)


class PolicySaveSerializer(serializers.Serializer):
    policy = PolicySettingsField()
    task = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="classifier task whose scores rank (default: the workflow's first)",
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class PolicyPreviewRequestSerializer(PolicySaveSerializer):
    n = serializers.IntegerField(required=False, default=20)
    answered = serializers.IntegerField(required=False, default=0, min_value=0)
    seed = serializers.IntegerField(required=False, default=0)


class PolicyRollbackSerializer(serializers.Serializer):
    policy = serializers.IntegerField(help_text="id of an earlier policy of this workflow")


class PolicySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    active = serializers.BooleanField()
    task = serializers.CharField(source="task_name")
    note = serializers.CharField()
    policy = serializers.JSONField(help_text=POLICY_HELP)
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()


class AcquisitionSerializer(serializers.Serializer):
    workflow = serializers.IntegerField()
    active = PolicySerializer(allow_null=True)
    history = PolicySerializer(many=True, help_text="every policy, newest first")
    defaults = serializers.JSONField(help_text="the settings of a new policy")
    job = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="after a save or roll-back: the job ranking the queue (GET /api/jobs/ID/; result.rank)",
    )


class PreviewSubjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    survey = serializers.CharField(source="survey.name")
    image_url = serializers.SerializerMethodField()

    def get_image_url(self, cutout) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(cutout.image.url) if request else cutout.image.url


class PreviewItemSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    subject = PreviewSubjectSerializer()
    reason = serializers.ChoiceField(choices=["exploration", "priority", "diversity", "gold"])
    explanation = serializers.CharField()
    fallback = serializers.CharField(allow_blank=True, help_text="why the subject has no usable score")
    breakdown = serializers.JSONField(
        allow_null=True, help_text="priority, rank and per score: value, percentile, weight, share"
    )


class PreviewSerializer(serializers.Serializer):
    items = PreviewItemSerializer(many=True)
    open_subjects = serializers.IntegerField()
    gold_subjects = serializers.IntegerField()
    gold_rate = serializers.FloatField()
    model = serializers.JSONField(allow_null=True, help_text="task, survey, version of the ranking classifier")
    feature_version = serializers.CharField(allow_blank=True)
    notes = serializers.ListField(child=serializers.CharField())


class GoldMarkSerializer(serializers.Serializer):
    subjects = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=10000,
        help_text="subject ids with an expert answer; omitted: every expert-labelled subject of the workflow",
    )


class GoldReportSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
    gold_subjects = serializers.IntegerField()
