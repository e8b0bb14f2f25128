"""Classifier tasks, model versions, retraining, promotion and explanations (API)."""

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from classifiers import explanations, promotion, selectors, services
from classifiers.learning_curve import learning_curve
from core.errors import InvalidInput
from core.permissions import IsAdmin, IsAstronomer

from .serializers import (
    ClassifierTaskCreateSerializer,
    ClassifierTaskSerializer,
    CompareSerializer,
    ExplanationPendingSerializer,
    ExplanationSerializer,
    LearningCurveSerializer,
    ModelVersionListSerializer,
    ModelVersionSerializer,
    PromoteSerializer,
    RetrainSerializer,
)


class TaskListCreateView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = ClassifierTaskSerializer

    def get_queryset(self):
        return selectors.task_list()

    @extend_schema(request=ClassifierTaskCreateSerializer, responses={201: ClassifierTaskSerializer})
    def post(self, request):
        if not IsAdmin().has_permission(request, self):
            self.permission_denied(request, message=IsAdmin.message)
        payload = ClassifierTaskCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        task = services.classifier_task_create(
            name=data["name"],
            survey=annotation_selectors.survey_get(name=data["survey"]),
            workflow=annotation_selectors.workflow_get(workflow_id=data["workflow"]),
            question=data["question"],
            classes=data["classes"],
            min_agreement=data["min_agreement"],
            min_votes=data["min_votes"],
            consensus_method=data["consensus_method"],
            retrain_after_new_labels=data.get("retrain_after_new_labels"),
        )
        return Response(ClassifierTaskSerializer(task).data, status=status.HTTP_201_CREATED)


class TaskVersionsView(generics.ListAPIView):
    permission_classes = [IsAstronomer]
    serializer_class = ModelVersionListSerializer

    def get_queryset(self):
        return selectors.version_list(task=selectors.task_get(name=self.kwargs["name"]))


class LearningCurveView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        responses={200: LearningCurveSerializer},
        summary="The task's learning curve: test accuracy of each version against the labels it was trained on",
        description="With the survey's newest active-learning round (its job's status and progress), so that "
        "a page can follow a round and redraw the curve when it ends.",
    )
    def get(self, request, name):
        curve = learning_curve(task=selectors.task_get(name=name))
        return Response(LearningCurveSerializer(curve).data)


class RetrainView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=RetrainSerializer,
        responses={202: ModelVersionSerializer},
        summary="Start training a new version on the training queue (progress on the version and its job)",
    )
    def post(self, request, name):
        payload = RetrainSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        task = services.classifier_task_for_name(name=name)
        version = services.training_start(
            task=task,
            epochs=data.get("epochs"),
            labels=data["labels"],
            method=data["method"],
            overrides=data.get("config"),
            augment_synthetic=data["augment_synthetic"],
            architecture=data.get("architecture"),
            user=request.user,
        )
        version = selectors.version_get(version_id=version.pk)
        body = ModelVersionSerializer(version, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class RollbackView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=None, responses={200: ModelVersionSerializer}, summary="Re-activate the previous version")
    def post(self, request, name):
        version = promotion.version_rollback(task=selectors.task_get(name=name), user=request.user)
        return Response(ModelVersionSerializer(version, context={"request": request}).data)


class VersionDetailView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses={200: ModelVersionSerializer})
    def get(self, request, pk):
        version = selectors.version_get(version_id=pk)
        return Response(ModelVersionSerializer(version, context={"request": request}).data)


class PromoteView(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(
        request=PromoteSerializer,
        responses={200: ModelVersionSerializer},
        summary=(
            "Make this evaluated version the active one (atomic), then score every cutout; a degenerate "
            "version (its warnings) is refused with a 409 unless force=true"
        ),
    )
    def post(self, request, pk):
        payload = PromoteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = promotion.version_promote_confirmed(
            version=selectors.version_get(version_id=pk), force=payload.validated_data["force"], user=request.user
        )
        return Response(ModelVersionSerializer(version, context={"request": request}).data)


class CompareView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("a", int, required=True), OpenApiParameter("b", int, required=True)],
        responses={200: CompareSerializer},
        summary="Two versions side by side; differences are b minus a",
    )
    def get(self, request):
        ids = [request.query_params.get(k) for k in ("a", "b")]
        if not all(ids):
            raise InvalidInput("give two version ids as ?a=...&b=...")
        a, b = (selectors.version_get(version_id=v) for v in ids)
        if a.task_id != b.task_id:
            raise InvalidInput(f"versions {a.pk} and {b.pk} belong to different tasks")
        body = {"a": a, "b": b, "differences": selectors.version_differences(a=a, b=b)}
        return Response(CompareSerializer(body, context={"request": request}).data)


class ExplanationView(APIView):
    permission_classes = [IsAstronomer]
    task_parameter = OpenApiParameter("task", str, description="classifier task name (default: the default task)")

    @extend_schema(
        parameters=[task_parameter],
        responses={200: ExplanationSerializer, 202: ExplanationPendingSerializer},
        summary="LIME explanation (superpixels) of the active version's prediction for a cutout",
        description="200 with the explanation when it is made; 202 with the job while a worker makes it "
        "(follow job_url, then ask again); 404 when nobody asked for it yet (POST asks).",
    )
    def get(self, request, pk):
        result, job = explanations.explanation_lookup(task=self._task(request), cutout_id=pk)
        return self._answer(result, job)

    @extend_schema(
        parameters=[task_parameter],
        request=None,
        responses={200: ExplanationSerializer, 202: ExplanationPendingSerializer},
        summary="Ask for the LIME explanation of a cutout: made by a job on a worker (a few seconds) "
        "unless it is made or being made already",
    )
    def post(self, request, pk):
        result, job = explanations.explanation_request(task=self._task(request), cutout_id=pk, user=request.user)
        return self._answer(result, job)

    @staticmethod
    def _task(request):
        return selectors.task_get(name=request.query_params.get("task") or settings.RGZ_CLASSIFIER_DEFAULT_TASK)

    @staticmethod
    def _answer(result, job):
        if result is not None:
            return Response(ExplanationSerializer(result).data)
        url = reverse("api-job", args=[job.pk])
        body = {
            "status": job.status,
            "job": job.pk,
            "job_url": url,
            "detail": "the explanation is being made on a worker; follow job_url, then ask again",
        }
        return Response(
            ExplanationPendingSerializer(body).data, status=status.HTTP_202_ACCEPTED, headers={"Location": url}
        )
