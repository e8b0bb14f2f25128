"""Shapes of "more like this", the novelty gallery's items and sending a cutout to a queue."""

from rest_framework import serializers


class NeighbourCutoutSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="cutout.pk")
    name = serializers.CharField(source="cutout.name")
    survey = serializers.CharField(source="cutout.survey.name")
    image_url = serializers.SerializerMethodField()
    distance = serializers.FloatField(help_text="Euclidean distance in the feature space")

    def get_image_url(self, item) -> str:
        request = self.context.get("request")
        url = item.cutout.image.url
        return request.build_absolute_uri(url) if request else url


class SimilarCutoutsSerializer(serializers.Serializer):
    cutout = serializers.IntegerField(source="cutout.pk")
    feature_version = serializers.CharField(
        help_text="what spans the space: a classifier version's penultimate layer (<task>:v<n>) or a survey "
        "encoder (encoder:<survey>:v<n>)"
    )
    space = serializers.CharField(help_text="classifier or encoder")
    neighbours = NeighbourCutoutSerializer(many=True, help_text="nearest first, across every survey")


class SendToQueueSerializer(serializers.Serializer):
    subject = serializers.IntegerField(help_text="cutout id")


class SentToQueueSerializer(serializers.Serializer):
    workflow = serializers.IntegerField(source="workflow_id")
    subject = serializers.IntegerField(source="subject_id")
    priority = serializers.FloatField()
