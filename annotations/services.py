"""Writes: workflows, subject sets, classifications and retirement."""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound, NotServed

from .drawing import SubjectFrame, has_marks
from .models import (
    UNRANKED,
    Classification,
    Cutout,
    RetirementReason,
    SubjectSet,
    SubjectWorkflowStatus,
    Survey,
    Workflow,
    WorkflowVersion,
)
from .queue import lease_release, lease_served
from .retirement import retirement_apply
from .roles import Volunteer
from .synthetic import realism_clean
from .task_definitions import validate_annotations, validate_task_definitions


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


def parse_version_label(label: str) -> tuple[int, int]:
    try:
        major_text, minor_text = str(label).split(".")
        return int(major_text), int(minor_text)
    except ValueError:
        raise InvalidInput(f"workflow_version must look like 'major.minor', not {label!r}", field="workflow_version")


def resolve_version(workflow: Workflow, label: str | None) -> WorkflowVersion:
    """The version a classification was made with ("major.minor"); the current one when omitted."""
    if not label:
        major, minor = workflow.version_major, workflow.version_minor
    else:
        major, minor = parse_version_label(label)
    version = WorkflowVersion.objects.filter(workflow=workflow, major=major, minor=minor).first()
    if version is None:
        raise InvalidInput(f"workflow {workflow.pk} has no version {major}.{minor}", field="workflow_version")
    return version


def classification_create(
    *,
    workflow_id: int,
    subject_id: int,
    volunteer: Volunteer,
    annotations,
    workflow_version: str | None = None,
    started_at: datetime | None = None,
    finished_at: datetime | None = None,
    user_agent: str = "",
    metadata: dict | None = None,
    idempotency_key: str | None = None,
    require_served: bool = False,
    realism: str | None = None,
) -> tuple[Classification, bool]:
    """Store one classification exactly once; returns it and whether it is new.

    A retried request with the same idempotency key returns the stored row, even after the
    subject retired. The subject's status row is locked while counting, so no subject takes
    more classifications than its workflow's retirement limit, whatever the concurrency.
    With ``require_served`` (volunteers through the API) only a subject the queue served to this
    volunteer is accepted, so nobody can pick the subjects they answer. ``realism`` is the answer to
    the optional blinded question "real or generated?" (``annotations.synthetic``).
    """
    try:
        return _classification_insert(
            workflow_id=workflow_id,
            subject_id=subject_id,
            volunteer=volunteer,
            annotations=annotations,
            workflow_version=workflow_version,
            started_at=started_at,
            finished_at=finished_at,
            user_agent=user_agent,
            metadata=metadata or {},
            idempotency_key=idempotency_key,
            require_served=require_served,
            realism=realism_clean(realism),
        )
    except IntegrityError:
        # The key is taken by another classification (or a concurrent twin won the race).
        stored = Classification.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if stored is None:
            raise Conflict("this volunteer has already classified this subject")
        if stored.volunteer_key != volunteer.key or stored.subject_id != subject_id:
            raise Conflict("this idempotency key was already used for a different classification")
        return stored, False


def _workflow_and_version(workflow_id: int, label: str | None) -> tuple[Workflow, WorkflowVersion]:
    """One query when the version is given (the usual case), two otherwise."""
    if label:
        major, minor = parse_version_label(label)
        version = (
            WorkflowVersion.objects.select_related("workflow")
            .filter(workflow_id=workflow_id, major=major, minor=minor)
            .first()
        )
        if version is not None:
            return version.workflow, version
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(f"workflow {workflow_id} does not exist", field="workflow")
    return workflow, resolve_version(workflow, label)


def _subject_frame(tasks: dict, subject_id) -> SubjectFrame | None:
    """The subject's image size and contour components, read only when a task takes marks."""
    if not has_marks(tasks):
        return None
    cutout = Cutout.objects.filter(pk=subject_id).only("width", "height", "contours").first()
    return SubjectFrame.of(cutout) if cutout is not None else None


@transaction.atomic
def _classification_insert(
    *,
    workflow_id,
    subject_id,
    volunteer,
    annotations,
    workflow_version,
    started_at,
    finished_at,
    user_agent,
    metadata,
    idempotency_key,
    require_served,
    realism="",
) -> tuple[Classification, bool]:
    workflow, version = _workflow_and_version(workflow_id, workflow_version)
    cleaned = validate_annotations(annotations, version.tasks, _subject_frame(version.tasks, subject_id))
    status = SubjectWorkflowStatus.objects.select_for_update().filter(workflow=workflow, subject_id=subject_id).first()
    if status is None:
        if Cutout.objects.filter(pk=subject_id).exists():
            raise InvalidInput(f"subject {subject_id} is not in workflow {workflow_id}", field="subject")
        raise NotFound(f"subject {subject_id} does not exist", field="subject")
    previous = Classification.objects.filter(
        workflow=workflow, subject_id=subject_id, volunteer_key=volunteer.key
    ).first()
    if previous is not None:
        if idempotency_key and previous.idempotency_key == idempotency_key:
            return previous, False  # a retry of a request that was stored
        raise Conflict("this volunteer has already classified this subject")
    if status.retired_at is not None:
        raise Conflict(
            f"subject {subject_id} is retired ({status.retirement_reason}); its classification was not stored"
        )
    if require_served and not lease_served(status=status, volunteer_key=volunteer.key):
        raise NotServed(
            f"subject {subject_id} was not served to you: classify the subjects GET /api/queue/next/ gives you",
            field="subject",
        )
    classification = Classification.objects.create(
        workflow=workflow,
        workflow_version=version,
        subject_id=subject_id,
        user_id=volunteer.user_id,
        session_key=volunteer.session_key,
        volunteer_key=volunteer.key,
        annotations=cleaned,
        metadata=metadata,
        started_at=started_at,
        finished_at=finished_at or timezone.now(),
        user_agent=(user_agent or "")[:512],
        idempotency_key=idempotency_key or None,
        gold_standard=status.gold,  # as Zooniverse flags answers to gold-standard subjects
        realism=realism,
    )
    released = lease_release(status=status, volunteer_key=volunteer.key)
    count = status.classification_count + 1
    updates = {"classification_count": count, "leased_count": F("leased_count") - released}
    # A gold-standard subject never retires: its answers measure volunteers, not the subject.
    limit = None if status.gold else workflow.retirement_limit
    if limit is not None and count >= limit:
        updates.update(retired_at=timezone.now(), retirement_reason=RetirementReason.CLASSIFICATION_COUNT)
    SubjectWorkflowStatus.objects.filter(pk=status.pk).update(**updates)
    if not status.gold and "retired_at" not in updates and (workflow.retirement or {}).get("rules"):
        retirement_apply(workflow=workflow, subject_ids=[subject_id])
    return classification, True


@transaction.atomic
def subject_retire(
    *, workflow: Workflow, subject: Cutout, reason: str = RetirementReason.HUMAN
) -> SubjectWorkflowStatus:
    if reason not in RetirementReason.values:
        raise InvalidInput(f"unknown retirement reason {reason!r}")
    status = SubjectWorkflowStatus.objects.select_for_update().filter(workflow=workflow, subject=subject).first()
    if status is None:
        raise NotFound(f"subject {subject.pk} is not in workflow {workflow.pk}")
    if status.retired_at is None:
        status.retired_at = timezone.now()
        status.retirement_reason = reason
        status.save(update_fields=["retired_at", "retirement_reason"])
    return status


@transaction.atomic
def expert_classification_create(*, workflow: Workflow, subject: Cutout, annotations: list, source: str) -> bool:
    """A label from the literature or an expert: stored and flagged, not counted towards retirement."""
    version = resolve_version(workflow, None)
    _, created = Classification.objects.get_or_create(
        workflow=workflow,
        subject=subject,
        volunteer_key=f"expert:{source}"[:64],
        defaults={
            "workflow_version": version,
            "annotations": validate_annotations(annotations, version.tasks, SubjectFrame.of(subject)),
            "expert": True,
            "gold_standard": True,
            "finished_at": timezone.now(),
            "metadata": {"source": source},
        },
    )
    return created
