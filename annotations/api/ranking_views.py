"""How a survey's labelling queue is ordered: read it, or choose a ranking and apply it."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations.models import Survey
from annotations.ranking import queue_ranking_get, queue_ranking_set
from annotations.selectors import survey_get
from core.permissions import IsAstronomer


class QueueRankingRequestSerializer(serializers.Serializer):
    by = serializers.CharField(help_text=f"one of: {', '.join(Survey.QueueRanking.values)}")
    task = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="classifier task whose entropy ranks (uncertainty)"
    )


class QueueRankingSerializer(serializers.Serializer):
    survey = serializers.CharField()
    by = serializers.ChoiceField(choices=Survey.QueueRanking.values)
    task = serializers.CharField(allow_blank=True)
    ranked = serializers.IntegerField(help_text="cutouts with a priority")
    unranked = serializers.IntegerField(help_text="cutouts without one (served after the ranked, at random)")


class SurveyQueueRankingView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=QueueRankingSerializer, summary="How the survey's labelling queue is ordered")
    def get(self, request, pk):
        survey = survey_get(survey_id=pk)
        report = queue_ranking_get(survey=survey)
        return Response(QueueRankingSerializer(report.as_dict()).data)

    @extend_schema(
        request=QueueRankingRequestSerializer,
        responses=QueueRankingSerializer,
        summary="Order the survey's labelling queue by complexity, a classifier's uncertainty or both",
        description="The priority is the mean of the cutout's complexity and entropy percentiles within the "
        "survey; it is kept up to date as complexity and classifier scores arrive. 'manual' leaves "
        "priorities as they are set. 400 when the chosen scores do not exist yet (nothing changes).",
    )
    def put(self, request, pk):
        survey = survey_get(survey_id=pk)
        payload = QueueRankingRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        report = queue_ranking_set(survey=survey, by=data["by"], task_name=data["task"])
        return Response(QueueRankingSerializer(report.as_dict()).data)
