"""How realistic volunteers judge a generator version's samples, against a blinded control (API)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import IsAstronomer
from generative.realism import version_realism
from generative.selectors import version_get


class ShareSerializer(serializers.Serializer):
    n = serializers.IntegerField(help_text="answers")
    k = serializers.IntegerField(help_text="answers that count (looks real / names the class)")
    share = serializers.FloatField(allow_null=True, help_text="k / n; null without answers")
    low = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval, lower end")
    high = serializers.FloatField(allow_null=True, help_text="95 % Wilson interval, upper end")


class MeasuresSerializer(serializers.Serializer):
    judged_real = ShareSerializer(help_text="share of 'real or generated?' answers that said 'looks real'")
    class_agreement = ShareSerializer(help_text="share of first-question answers naming the class")


class SidesSerializer(serializers.Serializer):
    generated = MeasuresSerializer(help_text="on the version's generated subjects (class asked for)")
    real = MeasuresSerializer(help_text="on real labelled subjects of the same workflows (the blinded control)")


class ClassRealismSerializer(SidesSerializer):
    def get_fields(self):
        # "class" is a Python keyword, so the field is declared here rather than as an attribute;
        # the schema and the response then both name it "class"
        fields = super().get_fields()
        fields["class"] = serializers.CharField(help_text="the class asked for")
        return fields


class RealismSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    number = serializers.IntegerField()
    survey = serializers.CharField()
    workflows = serializers.ListField(child=serializers.IntegerField(), help_text="where its samples were answered")
    classes = ClassRealismSerializer(many=True)
    overall = SidesSerializer()


class VersionRealismView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        responses=RealismSerializer,
        summary="Realism of a generator version as volunteers judge it, per class, against real subjects",
        description="Judged real: the share of answers to the optional blinded question 'does this look like a "
        "real observation?' that said real, on the version's generated subjects and on real subjects that carried "
        "the same question. Class agreement: the share of volunteers' answers naming the class the generator was "
        "asked for, beside the same on real subjects labelled with that class. Counts and 95 % Wilson intervals.",
    )
    def get(self, request, pk):
        return Response(RealismSerializer(version_realism(version=version_get(version_id=pk))).data)
