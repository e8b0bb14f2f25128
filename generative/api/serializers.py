"""Input and output shapes of the generative API."""

from rest_framework import serializers

from generative.models import MAX_SEED, GeneratedSample, GeneratorVersion
from generative.services import MAX_PER_CLASS, PRESETS


class GeneratorVersionSerializer(serializers.ModelSerializer):
    survey = serializers.CharField(source="survey.name")
    sample_grid_url = serializers.SerializerMethodField()
    properties_plot_url = serializers.SerializerMethodField(
        help_text="flux, extent and components of samples against held-out cutouts (PNG)"
    )
    loss_plot_url = serializers.SerializerMethodField(help_text="the training loss per epoch (PNG)")
    job = serializers.UUIDField(source="job_id", allow_null=True)

    class Meta:
        model = GeneratorVersion
        fields = [
            "id", "survey", "number", "status", "preset", "classes", "config", "history", "metrics",
            "sample_grid_url", "properties_plot_url", "loss_plot_url", "error", "job", "created_at",
            "trained_at", "promoted_at",
        ]  # fmt: skip

    def get_sample_grid_url(self, version) -> str | None:
        return version.sample_grid.url if version.sample_grid else None

    def get_properties_plot_url(self, version) -> str | None:
        return version.properties_plot.url if version.properties_plot else None

    def get_loss_plot_url(self, version) -> str | None:
        return version.loss_plot.url if version.loss_plot else None


class TrainSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=100, help_text="survey name or id")
    preset = serializers.ChoiceField(choices=list(PRESETS), default="cpu")
    epochs = serializers.IntegerField(min_value=1, max_value=100_000, required=False, allow_null=True, default=None)
    classes = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, allow_empty=False, max_length=50, default=None
    )


class GenerateSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=100, help_text="survey name or id")
    per_class = serializers.IntegerField(min_value=1, max_value=MAX_PER_CLASS)
    guidance = serializers.FloatField(min_value=0, max_value=20, required=False, allow_null=True, default=None)
    seed = serializers.IntegerField(
        min_value=0,
        max_value=MAX_SEED,
        required=False,
        allow_null=True,
        default=None,
        help_text="fixes the samples drawn; default: the version's next unused seed (each request renders new ones)",
    )


class SampleSerializer(serializers.ModelSerializer):
    cutout = serializers.IntegerField(source="cutout_id")
    image_url = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="version.number")

    class Meta:
        model = GeneratedSample
        fields = [
            "id",
            "cutout",
            "image_url",
            "version",
            "requested_class",
            "seed",
            "guidance",
            "review",
            "reviewed_at",
        ]

    def get_image_url(self, sample) -> str:
        return sample.cutout.image.url


class ReviewSerializer(serializers.Serializer):
    survey = serializers.CharField(max_length=100, help_text="survey name or id")
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), min_length=1, max_length=1000)
    review = serializers.ChoiceField(choices=[GeneratedSample.Review.APPROVED, GeneratedSample.Review.REJECTED])


class ReviewResultSerializer(serializers.Serializer):
    reviewed = serializers.IntegerField()
    review = serializers.CharField()


class JobStartedSerializer(serializers.Serializer):
    job = serializers.UUIDField()
    url = serializers.CharField()


class ComparisonRowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    a = serializers.FloatField(allow_null=True)
    b = serializers.FloatField(allow_null=True)
    diff = serializers.FloatField(allow_null=True)


class ComparisonSerializer(serializers.Serializer):
    a = GeneratorVersionSerializer()
    b = GeneratorVersionSerializer()
    rows = ComparisonRowSerializer(many=True)
