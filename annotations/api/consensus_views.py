"""Consensus, volunteer skill, retirement rules and descriptions: what astronomers read and tune."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from annotations import retirement, selectors
from annotations.consensus import question_consensus
from annotations.posterior_consensus import CONSENSUS_METHODS, posterior_consensus
from annotations.skill import DEFAULT_COUNT_THRESHOLD, skill_weights, volunteer_skills
from core.api.params import bool_param, int_param
from core.errors import InvalidInput
from core.permissions import IsAstronomer

from .consensus_serializers import (
    ConsensusPageSerializer,
    RetirementPreviewResultSerializer,
    RetirementPreviewSerializer,
    RetirementUpdateResultSerializer,
    RetirementUpdateSerializer,
    SubjectDescriptionsSerializer,
    WorkflowRetirementSerializer,
    WorkflowSkillSerializer,
)


def _task_param(request, workflow) -> str | None:
    task = request.query_params.get("task") or None
    if task is not None:
        version = selectors.workflow_current_version(workflow=workflow)
        if task not in version.tasks:
            raise InvalidInput(f"workflow {workflow.pk} has no task {task!r}", field="task")
    return task


class WorkflowConsensusView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[
            OpenApiParameter("task", str, description="only this question task"),
            OpenApiParameter("subject", int, description="only this subject"),
            OpenApiParameter("weighted", bool, description="weight votes by volunteer skill (needs task)"),
            OpenApiParameter(
                "method",
                str,
                enum=list(CONSENSUS_METHODS),
                description="votes (default): the most voted answer; posterior: the answer most probable given the "
                "votes and the crowd's confusion on gold-standard subjects (needs task, a single-answer question)",
            ),
            OpenApiParameter("page", int),
        ],
        responses=ConsensusPageSerializer,
        summary="Vote counts, fractions, most likely answer and agreement per subject and question task",
    )
    def get(self, request, pk):
        workflow = selectors.workflow_get(workflow_id=pk)
        task = _task_param(request, workflow)
        subject = int_param(request, "subject")
        weighted = bool(bool_param(request, "weighted"))
        method = request.query_params.get("method") or "votes"
        if method not in CONSENSUS_METHODS:
            raise InvalidInput(f"method must be one of {', '.join(CONSENSUS_METHODS)}, not {method!r}", field="method")
        if (weighted or method == "posterior") and task is None:
            raise InvalidInput(f"{'weighted' if weighted else method} consensus needs a task", field="task")
        subject_ids = [subject] if subject is not None else None
        if method == "posterior":
            if weighted:
                raise InvalidInput(
                    "posterior consensus reads each vote through the confusion; not weighted", field="weighted"
                )
            results = posterior_consensus(workflow=workflow, task=task, subject_ids=subject_ids)
        else:
            weights, default = skill_weights(workflow=workflow, task=task) if weighted else (None, 1.0)
            results = question_consensus(
                workflow=workflow,
                subject_ids=subject_ids,
                weights=weights,
                default_weight=default,
                include_expert=not weighted,
            )
        rows = [value.as_dict() for key, value in sorted(results.items()) if task is None or key[1] == task]
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        body = {
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": page,
            "weighted": weighted,
            "method": method,
        }
        return Response(ConsensusPageSerializer(body).data)


class WorkflowSkillView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[
            OpenApiParameter("task", str, required=True),
            OpenApiParameter(
                "count_threshold", int, description=f"gold classifications needed (default {DEFAULT_COUNT_THRESHOLD})"
            ),
        ],
        responses=WorkflowSkillSerializer,
        summary="Each volunteer's confusion matrix and skill on the gold-standard (expert-labelled) subjects",
    )
    def get(self, request, pk):
        workflow = selectors.workflow_get(workflow_id=pk)
        task = _task_param(request, workflow)
        if task is None:
            raise InvalidInput("the task query parameter is required", field="task")
        threshold = int_param(request, "count_threshold")
        threshold = DEFAULT_COUNT_THRESHOLD if threshold is None else threshold
        skills = volunteer_skills(workflow=workflow, task=task)
        rows = [record.as_dict(count_threshold=threshold) for record in skills.values()]
        rows.sort(key=lambda row: (-row["gold_classifications"], row["volunteer"]))
        body = {"task": task, "count_threshold": threshold, "volunteers": rows}
        return Response(WorkflowSkillSerializer(body).data)


class WorkflowRetirementView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(responses=WorkflowRetirementSerializer, summary="The workflow's retirement settings and rules")
    def get(self, request, pk):
        workflow = selectors.workflow_get(workflow_id=pk)
        rules = retirement.workflow_rules(workflow)
        body = {
            "retirement": workflow.retirement or {},
            "descriptions": [rule.describe() for rule in rules],
            "progress": selectors.workflow_progress(workflow=workflow),
        }
        return Response(WorkflowRetirementSerializer(body).data)

    @extend_schema(
        request=RetirementUpdateSerializer,
        responses=RetirementUpdateResultSerializer,
        summary="Replace the retirement settings (no classification is ever removed)",
    )
    def put(self, request, pk):
        payload = RetirementUpdateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = selectors.workflow_get(workflow_id=pk)
        result = retirement.workflow_retirement_update(
            workflow=workflow,
            retirement=payload.validated_data["retirement"],
            apply_now=payload.validated_data["apply_now"],
        )
        return Response(RetirementUpdateResultSerializer(result).data)


class WorkflowRetirementPreviewView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        request=RetirementPreviewSerializer,
        responses=RetirementPreviewResultSerializer,
        summary="How many open subjects each rule would retire now (nothing is changed)",
    )
    def post(self, request, pk):
        payload = RetirementPreviewSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        workflow = selectors.workflow_get(workflow_id=pk)
        preview = retirement.retirement_preview(workflow=workflow, retirement=payload.validated_data["retirement"])
        return Response(RetirementPreviewResultSerializer(preview).data)


class SubjectDescriptionsView(APIView):
    permission_classes = [IsAstronomer]

    @extend_schema(
        parameters=[OpenApiParameter("workflow", int, description="only this workflow's descriptions")],
        responses=SubjectDescriptionsSerializer,
        summary="Every free-text description of a subject with its (pseudonymous) author",
    )
    def get(self, request, pk):
        cutout = selectors.cutout_get(cutout_id=pk)
        workflow_id = int_param(request, "workflow")
        workflow = selectors.workflow_get(workflow_id=workflow_id) if workflow_id is not None else None
        answers = selectors.subject_descriptions(subject_id=cutout.pk, workflow=workflow)
        return Response(SubjectDescriptionsSerializer({"subject": cutout.pk, "descriptions": answers}).data)
