"""Writes: workflows, surveys, subject sets and queue order (classifications and retirement: submit.py,
re-exported here)."""

from __future__ import annotations

import time

from django.conf import settings
from django.db import connection, transaction

from core.errors import InvalidInput

from .models import (
    UNRANKED,
    Cutout,
    SubjectSet,
    SubjectWorkflowStatus,
    Survey,
    Workflow,
    WorkflowVersion,
)
from .submit import classification_create, expert_classification_create, subject_retire
from .task_definitions import validate_task_definitions
from .workflow_versions import parse_version_label, resolve_version

# Callers import these from here; they live in submit.py and workflow_versions.py.
__all__ = [
    "classification_create",
    "cutout_set_priority",
    "expert_classification_create",
    "parse_version_label",
    "queue_priority",
    "queue_statuses_rewrite",
    "resolve_version",
    "subject_retire",
    "subject_set_get_or_create",
    "subject_statuses_ensure",
    "survey_create",
    "workflow_create",
    "workflow_create_with_subject_sets",
    "workflow_current_versions_repair",
    "workflow_link_subject_set",
    "workflow_update_tasks",
]


@transaction.atomic
def workflow_create(
    *,
    display_name: str,
    tasks: dict,
    strings: dict,
    first_task: str = "T0",
    retirement_count: int | None = None,
    description: str = "",
    prioritized: bool = True,
) -> Workflow:
    validate_task_definitions(tasks, strings)
    if retirement_count is None:
        retirement_count = settings.RGZ_DEFAULT_RETIREMENT_COUNT
    if retirement_count < 1:
        raise InvalidInput("the retirement count must be at least 1")
    workflow = Workflow.objects.create(
        display_name=display_name,
        description=description,
        prioritized=prioritized,
        retirement={"criteria": "classification_count", "options": {"count": retirement_count}},
    )
    WorkflowVersion.objects.create(
        workflow=workflow, major=1, minor=1, first_task=first_task, tasks=tasks, strings=strings
    )
    return workflow


@transaction.atomic
def workflow_create_with_subject_sets(
    *,
    display_name: str,
    tasks: dict,
    strings: dict,
    subject_set_ids: list[int],
    retirement_count: int = 15,
    description: str = "",
) -> Workflow:
    """A new workflow with the given subject sets linked and their subjects queued; an unknown
    subject set refuses the whole request (nothing is stored)."""
    workflow = workflow_create(
        display_name=display_name,
        description=description,
        tasks=tasks,
        strings=strings,
        retirement_count=retirement_count,
    )
    for subject_set_id in subject_set_ids:
        subject_set = SubjectSet.objects.filter(pk=subject_set_id).first()
        if subject_set is None:
            raise InvalidInput(f"subject set {subject_set_id} does not exist", field="subject_sets")
        workflow_link_subject_set(workflow=workflow, subject_set=subject_set)
    return workflow


@transaction.atomic
def survey_create(
    *,
    name: str,
    telescope: str = "",
    frequency_mhz: float | None = None,
    beam_arcsec: float | None = None,
    pixel_scale_arcsec: float | None = None,
    description: str = "",
) -> Survey:
    return Survey.objects.create(
        name=name,
        telescope=telescope,
        frequency_mhz=frequency_mhz,
        beam_arcsec=beam_arcsec,
        pixel_scale_arcsec=pixel_scale_arcsec,
        description=description,
    )


@transaction.atomic
def workflow_update_tasks(*, workflow: Workflow, tasks: dict, strings: dict) -> WorkflowVersion:
    """New version: major when the tasks change, minor when only the wording does."""
    validate_task_definitions(tasks, strings)
    workflow = Workflow.objects.select_for_update().get(pk=workflow.pk)
    current = WorkflowVersion.objects.get(workflow=workflow, major=workflow.version_major, minor=workflow.version_minor)
    if current.tasks != tasks:
        workflow.version_major += 1
        workflow.version_minor = 1
    elif current.strings != strings:
        workflow.version_minor += 1
    else:
        return current
    workflow.save(update_fields=["version_major", "version_minor"])
    return WorkflowVersion.objects.create(
        workflow=workflow,
        major=workflow.version_major,
        minor=workflow.version_minor,
        first_task=current.first_task,
        tasks=tasks,
        strings=strings,
    )


@transaction.atomic
def workflow_current_versions_repair(*, workflow_ids) -> list[int]:
    """Point each workflow whose current version does not exist at its highest stored version (an
    empty one at the current number when it has none); returns the workflows changed.

    Imports create versions from what an export names, so a new workflow's default current number
    may not be among them; every page and endpoint reads the current version.
    """
    changed = []
    for workflow in Workflow.objects.select_for_update().filter(pk__in=list(workflow_ids)):
        versions = WorkflowVersion.objects.filter(workflow=workflow)
        if versions.filter(major=workflow.version_major, minor=workflow.version_minor).exists():
            continue
        latest = versions.order_by("-major", "-minor").first()
        if latest is None:
            WorkflowVersion.objects.create(
                workflow=workflow, major=workflow.version_major, minor=workflow.version_minor, tasks={}, strings={}
            )
        else:
            Workflow.objects.filter(pk=workflow.pk).update(version_major=latest.major, version_minor=latest.minor)
        changed.append(workflow.pk)
    return changed


@transaction.atomic
def subject_set_get_or_create(*, survey: Survey, display_name: str) -> SubjectSet:
    subject_set, _ = SubjectSet.objects.get_or_create(survey=survey, display_name=display_name)
    return subject_set


@transaction.atomic
def workflow_link_subject_set(*, workflow: Workflow, subject_set: SubjectSet) -> int:
    """Link a subject set and queue its subjects; returns how many subjects joined the queue."""
    workflow.subject_sets.add(subject_set)
    return subject_statuses_ensure(workflow=workflow, cutouts=subject_set.cutouts.all())


def subject_statuses_ensure(*, workflow: Workflow, cutouts) -> int:
    existing = set(SubjectWorkflowStatus.objects.filter(workflow=workflow).values_list("subject_id", flat=True))
    new = [
        SubjectWorkflowStatus(workflow=workflow, subject_id=c.pk, priority=queue_priority(c.priority))
        for c in cutouts.only("pk", "priority")
        if c.pk not in existing
    ]
    SubjectWorkflowStatus.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


@transaction.atomic
def cutout_set_priority(*, cutout: Cutout, priority: float | None) -> None:
    """Set a subject's queue priority (higher is served first); None returns it to random order."""
    Cutout.objects.filter(pk=cutout.pk).update(priority=priority)
    SubjectWorkflowStatus.objects.filter(subject=cutout).update(priority=queue_priority(priority))


STATUS_WRITE_CHUNK = 1000


def queue_statuses_rewrite(*, statuses: list[SubjectWorkflowStatus], fields: list[str], passes: int = 3) -> int:
    """Write ``fields`` of these status rows (a re-rank) without ever waiting for a row lock.

    The queue locks status rows while it serves and stores (FOR UPDATE, partly in priority order);
    a re-rank that waited for those locks while holding others could deadlock with a volunteer's
    request, and the database would abort one of them. Each chunk takes only the rows that are
    free (SKIP LOCKED), in id order; rows busy in every pass keep their old values until the next
    re-rank. Returns how many rows were left.
    """
    pending = {status.pk: status for status in statuses}
    skip = connection.features.has_select_for_update_skip_locked
    for attempt in range(passes):
        ids = sorted(pending)
        for start in range(0, len(ids), STATUS_WRITE_CHUNK):
            chunk = ids[start : start + STATUS_WRITE_CHUNK]
            with transaction.atomic():
                rows = SubjectWorkflowStatus.objects.filter(pk__in=chunk).order_by("pk")
                free = list((rows.select_for_update(skip_locked=True) if skip else rows).values_list("pk", flat=True))
                SubjectWorkflowStatus.objects.bulk_update([pending[pk] for pk in free], fields)
            for pk in free:
                del pending[pk]
        if not pending:
            break
        time.sleep(0.05 * (attempt + 1))  # the requests holding them finish in milliseconds
    return len(pending)


def queue_priority(priority: float | None) -> float:
    return UNRANKED if priority is None else float(priority)
