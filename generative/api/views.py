"""Generator versions, training, promotion, roll-back, sample generation and review (API)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.params import int_param
from core.permissions import IsAdmin, IsAstronomer
from generative import selectors, services

from .serializers import (
    ComparisonSerializer,
    GenerateSerializer,
    GeneratorVersionSerializer,
    JobStartedSerializer,
    ReviewResultSerializer,
    ReviewSerializer,
    SampleSerializer,
    TrainSerializer,
)


class VersionListView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("survey", str, description="survey name or id")],
        responses=GeneratorVersionSerializer(many=True),
    )
    def get(self, request):
        survey = request.query_params.get("survey")
        rows = selectors.version_list(survey=selectors.survey_get(survey=survey) if survey else None)
        return Response(GeneratorVersionSerializer(rows, many=True).data)


class TrainView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=TrainSerializer, responses={202: GeneratorVersionSerializer}, summary="Train a new generator version"
    )
    def post(self, request):
        payload = TrainSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        version = services.generator_training_start(
            survey=selectors.survey_get(survey=data["survey"]),
            preset=data["preset"],
            epochs=data["epochs"],
            classes=data["classes"],
            user=request.user,
        )
        return Response(GeneratorVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class VersionDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=GeneratorVersionSerializer)
    def get(self, request, pk):
        return Response(GeneratorVersionSerializer(selectors.version_get(version_id=pk)).data)


class PromoteView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=GeneratorVersionSerializer, summary="Make an evaluated version active")
    def post(self, request, pk):
        version = services.version_promote(version=selectors.version_get(version_id=pk))
        return Response(GeneratorVersionSerializer(version).data)


class EvaluateView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=None,
        responses={202: JobStartedSerializer},
        summary="Measure a trained version again with the survey's active classifier",
    )
    def post(self, request, pk):
        job = services.generator_evaluation_start(version=selectors.version_get(version_id=pk), user=request.user)
        body = JobStartedSerializer({"job": job.pk, "url": f"/jobs/{job.pk}/"}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class RollbackView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses=GeneratorVersionSerializer, summary="Re-activate the previous version")
    def post(self, request, survey_id):
        version = services.version_rollback(survey=selectors.survey_get(survey=survey_id))
        return Response(GeneratorVersionSerializer(version).data)


class GenerateView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=GenerateSerializer, responses={202: JobStartedSerializer}, summary="Render samples per class"
    )
    def post(self, request):
        payload = GenerateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        job = services.samples_generate_start(
            survey=selectors.survey_get(survey=data["survey"]),
            per_class=data["per_class"],
            guidance=data["guidance"],
            seed=data["seed"],
            user=request.user,
        )
        body = JobStartedSerializer({"job": job.pk, "url": f"/jobs/{job.pk}/"}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class SampleListView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[
            OpenApiParameter("survey", str, required=True, description="survey name or id"),
            OpenApiParameter("class", str, description="the class asked for"),
            OpenApiParameter("review", str, description="pending, approved or rejected"),
            OpenApiParameter("limit", int, description="at most this many (default 200)"),
        ],
        responses=SampleSerializer(many=True),
    )
    def get(self, request):
        survey = selectors.survey_get(survey=request.query_params.get("survey", ""))
        limit = min(int_param(request, "limit") or 200, 1000)
        rows = selectors.sample_list(
            survey=survey,
            requested_class=request.query_params.get("class"),
            review=request.query_params.get("review"),
        )[: max(limit, 1)]
        return Response(SampleSerializer(rows, many=True).data)


class ReviewView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(request=ReviewSerializer, responses=ReviewResultSerializer, summary="Approve or reject samples")
    def post(self, request):
        payload = ReviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        count = services.samples_review(
            survey=selectors.survey_get(survey=data["survey"]),
            sample_ids=data["ids"],
            review=data["review"],
            user=request.user,
        )
        return Response(ReviewResultSerializer({"reviewed": count, "review": data["review"]}).data)


class CompareView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True)],
        responses=ComparisonSerializer,
        summary="Two generator versions' evaluations side by side",
    )
    def get(self, request):
        a = selectors.version_get(version_id=int_param(request, "a", required=True))
        b = selectors.version_get(version_id=int_param(request, "b", required=True))
        body = {"a": a, "b": b, "rows": selectors.version_comparison(a=a, b=b)}
        return Response(ComparisonSerializer(body).data)
