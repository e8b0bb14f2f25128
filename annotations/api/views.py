"""REST API views: thin, input serializer -> one service or selector -> output serializer."""

import functools

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import selectors, services
from annotations.acquisition import gold_feedback
from annotations.blinding import blind_ids, subject_position
from annotations.client_address import client_address
from annotations.queue import QUEUE_MAX_BATCH, queue_next_subjects, queue_retry_after
from annotations.roles import volunteer_from_request
from annotations.synthetic import realism_question_asked, synthetic_notice, synthetic_subjects_exist
from core.api.params import bool_param, int_param
from core.errors import InvalidInput
from core.permissions import IsAstronomer
from core.roles import is_astronomer
from jobs.dispatch import job_start
from jobs.serializers import JobSerializer

from .permissions import SubmitThrottle
from .queue_serializers import (
    ClassificationCreateSerializer,
    ClassificationSerializer,
    ClassificationStoredSerializer,
    QueueNextSerializer,
    classification_stored_body,
)
from .serializers import (
    CutoutSerializer,
    JobCreateSerializer,
    RetireSerializer,
    SubjectStatusSerializer,
    SurveySerializer,
    WorkflowCreateSerializer,
    WorkflowSerializer,
)


@functools.cache
def _idempotency_key_field():
    return ClassificationCreateSerializer().fields["idempotency_key"]  # built once: it holds no request state


def _idempotency_header(request) -> str | None:
    """The Idempotency-Key header, held to the same rules as the body's idempotency_key."""
    value = request.headers.get("Idempotency-Key")
    if not value:
        return None
    field = _idempotency_key_field()
    try:
        return field.run_validation(value)
    except ValidationError as exc:
        raise InvalidInput(f"Idempotency-Key: {' '.join(str(m) for m in exc.detail)}", field="Idempotency-Key")


class QueueNextView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", int, required=True, description="workflow id"),
            OpenApiParameter(
                "n",
                int,
                description=f"how many subjects to hold (1-{QUEUE_MAX_BATCH}, default 1): the ones this volunteer "
                "already holds first, then new leases",
            ),
        ],
        responses=QueueNextSerializer,
        summary="The next subjects for this volunteer (each leased to them until classified or expired)",
    )
    def get(self, request):
        workflow_id = int_param(request, "workflow", required=True)
        n = int_param(request, "n")
        volunteer = volunteer_from_request(request)
        batch = queue_next_subjects(
            workflow_id=workflow_id, volunteer=volunteer, address=client_address(request), n=1 if n is None else n
        )
        workflow = batch[0].workflow if batch else selectors.workflow_get(workflow_id=workflow_id)
        body = {"workflow": workflow.pk, "workflow_version": workflow.version_label}
        if batch:
            present = synthetic_subjects_exist(workflow=workflow)
            # One list serializer for the batch: its fields are built once, not once a subject.
            cutouts = [row.subject for row in batch]
            withheld = blind_ids(cutouts, queue_has_generated=present)  # the queue serves none already answered
            subjects = CutoutSerializer(cutouts, many=True, context={"request": request, "withheld": withheld}).data
            items = [
                {
                    "subject": subject,
                    "classification_count": row.classification_count,
                    "lease_expires_at": row.lease_expires_at,
                    "realism_question": realism_question_asked(
                        workflow=workflow, subject=row.subject, volunteer=volunteer, synthetic_present=present
                    ),
                }
                for row, subject in zip(batch, subjects, strict=True)
            ]
            body.update(
                subject=items[0]["subject"],
                classification_count=batch[0].classification_count,
                realism_question=items[0]["realism_question"],
            )
            body["subjects"] = items
            return Response(body)
        body["subjects"] = []
        retry_after = queue_retry_after(workflow_id=workflow.pk, volunteer=volunteer)
        if retry_after is None:
            body.update(subject=None, classification_count=None, detail="No subjects left for you in this workflow.")
            return Response(body)
        body.update(
            subject=None,
            classification_count=None,
            retry_after=retry_after,
            detail=f"The subjects left are being classified by other volunteers; try again in {retry_after} seconds.",
        )
        return Response(body, headers={"Retry-After": str(retry_after)})


class ClassificationListCreateView(generics.GenericAPIView):
    serializer_class = ClassificationSerializer
    throttle_classes = [SubmitThrottle]

    def get_throttles(self):
        return super().get_throttles() if self.request.method == "POST" else []

    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", int),
            OpenApiParameter("subject", int),
            OpenApiParameter("mine", bool, description="only this volunteer's (default for non-astronomers)"),
        ],
        responses=ClassificationSerializer(many=True),
    )
    def get(self, request):
        only_mine = not is_astronomer(request.user) or bool_param(request, "mine")
        rows = selectors.classification_list(
            volunteer_key=volunteer_from_request(request).key if only_mine else None,
            workflow=int_param(request, "workflow"),
            subject=int_param(request, "subject"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ClassificationSerializer(page, many=True).data)

    @extend_schema(
        request=ClassificationCreateSerializer,
        responses={201: ClassificationStoredSerializer, 200: ClassificationStoredSerializer},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                description="retries with the same key store nothing new",
            )
        ],
        summary="Submit a classification (stored exactly once per idempotency key)",
    )
    def post(self, request):
        payload = ClassificationCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        classification, created = services.classification_create(
            workflow_id=data["workflow"],
            subject_id=data["subject"],
            volunteer=volunteer_from_request(request),
            annotations=data["annotations"],
            workflow_version=data.get("workflow_version"),
            started_at=data.get("started_at"),
            finished_at=data.get("finished_at"),
            user_agent=request.headers.get("User-Agent", ""),
            metadata=data.get("metadata") or {},
            idempotency_key=_idempotency_header(request) or data.get("idempotency_key"),
            # Astronomers may classify any subject (expert labels); volunteers only those served to them.
            require_served=not is_astronomer(request.user),
            realism=data.get("realism"),
        )
        body = classification_stored_body(classification)
        body["gold_feedback"] = gold_feedback(classification=classification)
        body["synthetic_notice"] = synthetic_notice(classification=classification)
        body["subject_position"] = subject_position(classification.subject)
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SurveyListCreateView(generics.ListAPIView):
    serializer_class = SurveySerializer

    def get_permissions(self):
        return [IsAstronomer()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        return selectors.survey_list()

    @extend_schema(request=SurveySerializer, responses={201: SurveySerializer})
    def post(self, request):
        payload = SurveySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        survey = services.survey_create(**payload.validated_data)
        return Response(SurveySerializer(survey).data, status=201)


class WorkflowListCreateView(APIView):
    def get_permissions(self):
        return [IsAstronomer()] if self.request.method == "POST" else [AllowAny()]

    @extend_schema(responses=WorkflowSerializer(many=True))
    def get(self, request):
        return Response(WorkflowSerializer(selectors.workflow_list(active=True), many=True).data)

    @extend_schema(request=WorkflowCreateSerializer, responses={201: WorkflowSerializer})
    def post(self, request):
        payload = WorkflowCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        workflow = services.workflow_create_with_subject_sets(
            display_name=data["display_name"],
            description=data["description"],
            tasks=data["tasks"],
            strings=data["strings"],
            retirement_count=data["retirement_count"],
            subject_set_ids=data["subject_sets"],
        )
        return Response(WorkflowSerializer(workflow).data, status=201)


class WorkflowDetailView(APIView):
    @extend_schema(responses=WorkflowSerializer)
    def get(self, request, pk):
        return Response(WorkflowSerializer(selectors.workflow_get(workflow_id=pk)).data)


class SubjectStatusListView(generics.ListAPIView):
    serializer_class = SubjectStatusSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("workflow", int),
            OpenApiParameter("subject", int),
            OpenApiParameter("retired", bool),
        ]
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.subject_status_list(
            workflow=int_param(self.request, "workflow"),
            subject=int_param(self.request, "subject"),
            retired=bool_param(self.request, "retired"),
        )


class WorkflowRetireView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(request=RetireSerializer, responses=SubjectStatusSerializer, summary="Retire a subject by hand")
    def post(self, request, pk):
        payload = RetireSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = selectors.workflow_get(workflow_id=pk)
        subject = selectors.cutout_get(cutout_id=payload.validated_data["subject"])
        status_row = services.subject_retire(
            workflow=workflow, subject=subject, reason=payload.validated_data["reason"]
        )
        return Response(SubjectStatusSerializer(status_row).data)


class JobCreateView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=JobCreateSerializer,
        responses={202: JobSerializer},
        summary="Start an ingestion job on a worker (paths must be readable by the workers)",
    )
    def post(self, request):
        payload = JobCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = job_start(
            kind=payload.validated_data["kind"], parameters=payload.validated_data["parameters"], user=request.user
        )
        return Response(JobSerializer(job).data, status=202)
