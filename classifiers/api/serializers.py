"""Input and output shapes of the classifiers API."""

from rest_framework import serializers

from classifiers.models import ClassifierTask, ModelVersion
from classifiers.readiness import version_warnings


def _url(request, field) -> str | None:
    if not field:
        return None
    return request.build_absolute_uri(field.url) if request else field.url


class ModelVersionSerializer(serializers.ModelSerializer):
    task = serializers.CharField(source="task.name")
    status = serializers.CharField(read_only=True, help_text="training, ready, failed or active")
    accuracy = serializers.SerializerMethodField()
    ece = serializers.SerializerMethodField()
    plots = serializers.SerializerMethodField()
    weights_url = serializers.SerializerMethodField()
    progress = serializers.SerializerMethodField()
    training_data_counts = serializers.SerializerMethodField()
    scoring_job = serializers.SerializerMethodField(help_text="in a promotion's answer: the job scoring every cutout")
    warnings = serializers.SerializerMethodField(
        help_text="reasons not to promote it (a class of recall 0, macro-F1 far below accuracy); "
        "promoting then needs force=true"
    )

    class Meta:
        model = ModelVersion
        fields = [
            "id",
            "task",
            "number",
            "status",
            "architecture",
            "method",
            "label_source",
            "augment_synthetic",
            "config",
            "accuracy",
            "ece",
            "metrics",
            "history",
            "plots",
            "weights_url",
            "training_data_counts",
            "error",
            "weights_checked_at",
            "weights_error",
            "job",
            "progress",
            "scoring_job",
            "warnings",
            "created_at",
            "trained_at",
            "promoted_at",
        ]

    def get_warnings(self, version) -> list[str]:
        return version_warnings(version)

    def get_accuracy(self, version) -> float | None:
        return version.metrics.get("accuracy")

    def get_ece(self, version) -> float | None:
        return version.metrics.get("ece")

    def get_plots(self, version) -> dict:
        request = self.context.get("request")
        return {
            "reliability": _url(request, version.reliability_plot),
            "curves": _url(request, version.curves_plot),
            "confusion": _url(request, version.confusion_plot),
        }

    def get_weights_url(self, version) -> str | None:
        return _url(self.context.get("request"), version.weights)

    def get_training_data_counts(self, version) -> dict:
        return {k: len(v) for k, v in version.training_data.items() if k in {"train", "val", "test", "unlabelled"}}

    def get_scoring_job(self, version) -> str | None:
        job = getattr(version, "scoring_job", None)
        return str(job.pk) if job is not None else None

    def get_progress(self, version) -> dict | None:
        job = version.job
        if job is None:
            return None
        return {"status": job.status, "done": job.done, "total": job.total, "message": job.message}


class ModelVersionListSerializer(ModelVersionSerializer):
    class Meta(ModelVersionSerializer.Meta):
        fields = [f for f in ModelVersionSerializer.Meta.fields if f not in {"history", "metrics", "config"}]


class ClassifierTaskSerializer(serializers.ModelSerializer):
    survey = serializers.CharField(source="survey.name")
    active_version = serializers.SerializerMethodField()

    class Meta:
        model = ClassifierTask
        fields = [
            "id",
            "name",
            "survey",
            "workflow",
            "question",
            "classes",
            "min_agreement",
            "min_votes",
            "consensus_method",
            "retrain_after_new_labels",
            "active_version",
        ]

    def get_active_version(self, task) -> int | None:
        active = task.versions.filter(status=ModelVersion.Status.ACTIVE).first()
        return active.pk if active else None


class ClassifierTaskCreateSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    survey = serializers.CharField(help_text="survey name")
    workflow = serializers.IntegerField()
    question = serializers.CharField(default="T0")
    classes = serializers.ListField(child=serializers.CharField(), min_length=2)
    min_agreement = serializers.FloatField(default=0.8)
    min_votes = serializers.IntegerField(default=3, min_value=1)
    consensus_method = serializers.ChoiceField(
        choices=["votes", "posterior"],
        default="votes",
        help_text="votes: the most voted answer; posterior: the answer most probable under the crowd's confusion "
        "on gold-standard subjects (falls back to votes while there are none)",
    )
    retrain_after_new_labels = serializers.IntegerField(
        required=False, min_value=0, help_text="new consensus labels that start a retraining (0: never)"
    )


class RetrainSerializer(serializers.Serializer):
    epochs = serializers.IntegerField(required=False, min_value=1, max_value=100000)
    labels = serializers.ChoiceField(choices=["expert", "consensus", "both"], default="both")
    method = serializers.ChoiceField(choices=["fixmatch", "supervised"], default="fixmatch")
    architecture = serializers.ChoiceField(
        choices=["tang", "d16", "d8"],
        required=False,
        help_text="the network: the Tang CNN (default) or the D16- or D8-equivariant CNN (escnn)",
    )
    config = serializers.DictField(
        required=False, help_text="overrides of the published settings (FixMatchConfig fields)"
    )
    augment_synthetic = serializers.BooleanField(
        default=False,
        help_text="add the approved generated samples to the training split, labelled with the class asked for",
    )


class PromoteSerializer(serializers.Serializer):
    force = serializers.BooleanField(
        default=False,
        help_text="promote a version with warnings (a class of recall 0, macro-F1 far below accuracy) anyway",
    )


class CompareSerializer(serializers.Serializer):
    a = ModelVersionSerializer()
    b = ModelVersionSerializer()
    differences = serializers.DictField(child=serializers.FloatField(allow_null=True))


class ExplanationPendingSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["queued", "running"], help_text="the job's state")
    job = serializers.UUIDField()
    job_url = serializers.CharField(help_text="GET it for progress; when it succeeds, ask for the explanation again")
    detail = serializers.CharField()


class ExplanationSerializer(serializers.Serializer):
    cutout = serializers.IntegerField()
    task = serializers.CharField()
    version = serializers.IntegerField()
    label = serializers.CharField()
    probabilities = serializers.DictField(child=serializers.FloatField())
    segments = serializers.IntegerField()
    top_segments = serializers.ListField(child=serializers.DictField())
    image_url = serializers.CharField()
    explanation_url = serializers.CharField()


class CurvePointSerializer(serializers.Serializer):
    version = serializers.IntegerField(help_text="version id")
    number = serializers.IntegerField()
    status = serializers.CharField(help_text="ready or active")
    labels = serializers.IntegerField(help_text="labelled training images the version was trained on")
    accuracy = serializers.FloatField(help_text="accuracy on the survey's fixed test split")
    split = serializers.CharField(help_text="test (val or train when the survey has no test labels yet)")
    trained_at = serializers.DateTimeField(allow_null=True)
    warm_start_from = serializers.IntegerField(allow_null=True, help_text="version number it started from")


class RoundSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    message = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    phases = serializers.SerializerMethodField(help_text="each finished phase: name, status, detail")

    def get_phases(self, job) -> list[dict]:
        return list((job.result or {}).get("phases") or [])


class LearningCurveSerializer(serializers.Serializer):
    task = serializers.CharField()
    survey = serializers.CharField()
    threshold = serializers.IntegerField(help_text="new consensus labels that start a round (0: the loop is off)")
    points = CurvePointSerializer(many=True, help_text="every evaluated version, oldest first")
    round = RoundSerializer(allow_null=True, help_text="the survey's newest active-learning round")
