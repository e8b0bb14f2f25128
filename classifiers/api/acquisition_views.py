"""A workflow's acquisition policy (read, save, roll back), its preview, and its gold standard (API)."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors as annotation_selectors
from annotations.acquisition import gold_subjects_count, gold_subjects_mark, policy_active, policy_history
from classifiers import services
from classifiers.acquisition_preview import policy_preview, policy_settings_default
from core.api.params import int_param
from core.errors import InvalidInput
from core.permissions import IsAstronomer

from .acquisition_serializers import (
    AcquisitionSerializer,
    GoldMarkSerializer,
    GoldReportSerializer,
    PolicyPreviewRequestSerializer,
    PolicyRollbackSerializer,
    PolicySaveSerializer,
    PreviewSerializer,
)


def _acquisition_body(workflow, job=None) -> dict:
    return AcquisitionSerializer(
        {
            "workflow": workflow.pk,
            "active": policy_active(workflow=workflow),
            "history": list(policy_history(workflow=workflow)),
            "defaults": policy_settings_default(),
            "job": job.pk if job is not None else None,
        }
    ).data


class WorkflowAcquisitionView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=AcquisitionSerializer, summary="The workflow's acquisition policy and its history")
    def get(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        return Response(_acquisition_body(workflow))

    @extend_schema(
        request=PolicySaveSerializer,
        responses=AcquisitionSerializer,
        summary="Save a new acquisition policy (a new version); a job ranks the queue by it",
        description="Weights of the scores, exploration share, diversity and the gold-standard schedule. "
        "The answer carries the stored policy and the id of the ranking job (`/api/jobs/ID/`: its result's "
        "`rank` says how many subjects were ranked and why others are served at random). "
        "400 with the reason for negative or all-zero weights, a share outside 0-1 or an unknown "
        "classifier task; nothing changes then.",
    )
    def put(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        payload = PolicySaveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        _, job = services.acquisition_policy_set(
            workflow=workflow, values=data["policy"], task_name=data["task"], note=data["note"], user=request.user
        )
        return Response(_acquisition_body(workflow, job))


class WorkflowAcquisitionRollbackView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=PolicyRollbackSerializer,
        responses=AcquisitionSerializer,
        summary="Make an earlier acquisition policy the active one again; a job ranks the queue by it",
    )
    def post(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        payload = PolicyRollbackSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _, job = services.acquisition_policy_rollback(
            workflow=workflow, policy_id=payload.validated_data["policy"], user=request.user
        )
        return Response(_acquisition_body(workflow, job))


def _preview_count(n: int) -> int:
    bound = settings.RGZ_ACQUISITION_PREVIEW_MAX
    if not 1 <= n <= bound:
        raise InvalidInput(f"n must lie between 1 and {bound}, not {n}", field="n")
    return n


class WorkflowAcquisitionPreviewView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[
            OpenApiParameter("n", int, description="how many subjects (default 20)"),
            OpenApiParameter("answered", int, description="classifications of the volunteer served (gold rate)"),
            OpenApiParameter("seed", int, description="seed of the random draws (exploration, gold)"),
        ],
        responses=PreviewSerializer,
        summary="The next subjects the active policy would serve, with the score breakdown and the reason",
    )
    def get(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        policy_row = policy_active(workflow=workflow)
        preview = policy_preview(
            workflow=workflow,
            values=policy_row.policy if policy_row else policy_settings_default(),
            task_name=policy_row.task_name if policy_row else "",
            n=_preview_count(20 if int_param(request, "n") is None else int_param(request, "n")),
            answered=max(0, int_param(request, "answered") or 0),
            seed=int_param(request, "seed") or 0,
        )
        if policy_row is None:
            preview.notes.insert(0, "no policy saved yet: this previews the default settings")
        return Response(PreviewSerializer(preview, context={"request": request}).data)

    @extend_schema(
        request=PolicyPreviewRequestSerializer,
        responses=PreviewSerializer,
        summary="The next subjects an unsaved policy would serve (nothing is stored)",
    )
    def post(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        payload = PolicyPreviewRequestSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        preview = policy_preview(
            workflow=workflow,
            values=data["policy"],
            task_name=data["task"],
            n=_preview_count(data["n"]),
            answered=data["answered"],
            seed=data["seed"],
        )
        return Response(PreviewSerializer(preview, context={"request": request}).data)


class WorkflowGoldView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=GoldMarkSerializer,
        responses=GoldReportSerializer,
        summary="Flag expert-labelled subjects as the workflow's gold standard",
        description="Gold subjects are served at the policy's gold rate, never retire, and feed volunteer "
        "skill; a subject without an expert answer is a 400.",
    )
    def post(self, request, pk):
        workflow = annotation_selectors.workflow_get(workflow_id=pk)
        payload = GoldMarkSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        marked = gold_subjects_mark(workflow=workflow, subject_ids=payload.validated_data["subjects"])
        return Response(
            GoldReportSerializer({"marked": marked, "gold_subjects": gold_subjects_count(workflow=workflow)}).data
        )
