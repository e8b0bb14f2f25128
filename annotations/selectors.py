"""Reads: lists and lookups for pages and the API."""

from __future__ import annotations

import uuid

from django.db.models import Exists, OuterRef, QuerySet

from .errors import InvalidInput, NotFound
from .models import Classification, Cutout, Job, SubjectWorkflowStatus, Workflow, WorkflowVersion


def workflow_get(*, workflow_id) -> Workflow:
    try:
        workflow = Workflow.objects.filter(pk=int(workflow_id)).first()
    except (TypeError, ValueError):
        raise InvalidInput(f"workflow must be an integer id, not {workflow_id!r}", field="workflow")
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} does not exist", field="workflow")
    return workflow


def workflow_current_version(*, workflow: Workflow) -> WorkflowVersion:
    return workflow.versions.get(major=workflow.version_major, minor=workflow.version_minor)


def cutout_list(
    *,
    survey: str | None = None,
    workflow: int | None = None,
    retired: bool | None = None,
    synthetic: bool | None = None,
) -> QuerySet[Cutout]:
    """Cutouts filtered by survey name or id, synthetic flag, and retirement (in one or any workflow)."""
    rows = Cutout.objects.select_related("survey").order_by("id")
    if survey:
        rows = rows.filter(survey__pk=int(survey)) if str(survey).isdigit() else rows.filter(survey__name=survey)
    if synthetic is not None:
        rows = rows.filter(synthetic=synthetic)
    if retired is not None:
        statuses = SubjectWorkflowStatus.objects.filter(subject=OuterRef("pk"), retired_at__isnull=False)
        if workflow is not None:
            statuses = statuses.filter(workflow_id=workflow)
        rows = rows.filter(Exists(statuses)) if retired else rows.exclude(Exists(statuses))
    elif workflow is not None:
        rows = rows.filter(workflow_statuses__workflow_id=workflow)
    return rows


def cutout_get(*, cutout_id) -> Cutout:
    cutout = Cutout.objects.select_related("survey").filter(pk=cutout_id).first()
    if cutout is None:
        raise NotFound(f"cutout {cutout_id} does not exist")
    return cutout


def volunteer_classification_count(*, volunteer_key: str, workflow: Workflow | None = None) -> int:
    rows = Classification.objects.filter(volunteer_key=volunteer_key)
    if workflow is not None:
        rows = rows.filter(workflow=workflow)
    return rows.count()


def field_guide(*, workflow: Workflow, per_answer: int = 3) -> list[dict]:
    """Example cutouts for each answer of the workflow's first question, from expert labels."""
    version = workflow_current_version(workflow=workflow)
    task = version.tasks.get(version.first_task, {})
    guide = []
    for answer in task.get("answers", []):
        value = answer.get("value")
        examples = (
            list(
                Cutout.objects.filter(metadata__label=value, workflow_statuses__workflow=workflow).order_by("id")[
                    :per_answer
                ]
            )
            if value
            else []
        )
        guide.append({"label": version.strings.get(answer["label"], answer["label"]), "examples": examples})
    return guide


def workflow_progress(*, workflow: Workflow) -> dict:
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow)
    return {
        "subjects": statuses.count(),
        "retired": statuses.filter(retired_at__isnull=False).count(),
        "classifications": Classification.objects.filter(workflow=workflow, expert=False).count(),
    }


def job_get(*, job_id) -> Job:
    try:
        job_id = uuid.UUID(str(job_id))
    except ValueError:
        raise NotFound(f"job {job_id} does not exist")
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id} does not exist")
    return job
