"""Input and output shapes of the consensus, skill, retirement and description endpoints."""

from rest_framework import serializers

from core.api.fields import NumberField, StoredJSONField


class RetirementUpdateSerializer(serializers.Serializer):
    retirement = StoredJSONField(must_be=dict, help_text="criteria, options.count and rules (see the README)")
    apply_now = serializers.BooleanField(default=False, help_text="retire the open subjects the rules decide now")


class RetirementPreviewSerializer(serializers.Serializer):
    retirement = StoredJSONField(must_be=dict)


class ConsensusSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    task = serializers.CharField()
    num_votes = serializers.IntegerField(help_text="classifications that answered the task")
    counts = serializers.DictField(child=NumberField(), help_text="answer label -> votes (summed weights if weighted)")
    fractions = serializers.DictField(child=NumberField(), help_text="answer label -> share of the votes")
    most_likely = serializers.CharField(allow_null=True)
    agreement = NumberField(help_text="the most likely answer's share of the votes, or its posterior probability")
    posterior = serializers.DictField(
        child=NumberField(),
        allow_null=True,
        help_text="method=posterior: answer label -> P(true answer | votes) under the crowd's gold confusion",
    )


class ConsensusPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ConsensusSerializer(many=True)
    weighted = serializers.BooleanField()
    method = serializers.CharField(help_text="votes or posterior")


class VolunteerSkillSerializer(serializers.Serializer):
    volunteer = serializers.CharField(help_text="pseudonymous volunteer key")
    task = serializers.CharField()
    gold_classifications = serializers.IntegerField()
    skill = NumberField(help_text="mean over true classes of the share answered correctly")
    per_class = serializers.DictField(child=NumberField(), help_text="true class -> share answered correctly")
    confusion = serializers.DictField(
        child=serializers.DictField(child=NumberField()), help_text="true class -> given answer -> classifications"
    )
    measured = serializers.BooleanField()
    level_up = serializers.BooleanField()


class WorkflowSkillSerializer(serializers.Serializer):
    task = serializers.CharField()
    count_threshold = serializers.IntegerField()
    volunteers = VolunteerSkillSerializer(many=True)


class WorkflowProgressSerializer(serializers.Serializer):
    subjects = serializers.IntegerField()
    retired = serializers.IntegerField()
    classifications = serializers.IntegerField(help_text="volunteers' classifications (experts' not counted)")


class WorkflowRetirementSerializer(serializers.Serializer):
    retirement = serializers.DictField(help_text="criteria, options.count and rules")
    descriptions = serializers.ListField(child=serializers.CharField(), help_text="each rule in words")
    progress = WorkflowProgressSerializer()


class RetirementUpdateResultSerializer(serializers.Serializer):
    retirement = serializers.DictField(help_text="the settings as stored (normalised)")
    retired_now = serializers.IntegerField()
    retired_subjects = serializers.ListField(child=serializers.IntegerField(), help_text="at most 1,000 ids")


class RulePreviewSerializer(serializers.Serializer):
    rule = serializers.DictField()
    description = serializers.CharField()
    would_retire = serializers.IntegerField()


class RetirementPreviewResultSerializer(serializers.Serializer):
    retirement = serializers.DictField(help_text="the settings as they would be stored (normalised)")
    open_subjects = serializers.IntegerField()
    by_count = serializers.IntegerField(help_text="open subjects the classification count alone would retire")
    rules = RulePreviewSerializer(many=True)
    would_retire = serializers.IntegerField()


class DescriptionSerializer(serializers.Serializer):
    classification = serializers.IntegerField(source="classification_id")
    workflow = serializers.IntegerField(source="workflow_id")
    task = serializers.CharField()
    text = serializers.CharField()
    author = serializers.CharField(source="volunteer_key", help_text="pseudonymous volunteer key")
    source = serializers.CharField()
    created_at = serializers.DateTimeField()


class SubjectDescriptionsSerializer(serializers.Serializer):
    subject = serializers.IntegerField()
    descriptions = DescriptionSerializer(many=True)
