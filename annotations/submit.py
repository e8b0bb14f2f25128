"""Writes: storing classifications (volunteers, imports, experts) and retiring subjects.

A volunteer's submit is the platform's hot path. Inside one transaction it costs four
statements whatever the workflow: one ``SELECT ... FOR UPDATE`` of the subject's status row
that also reads the workflow, this volunteer's earlier answer (for idempotent retries) and
whether the queue served them the subject; the ``INSERT``; one ``DELETE ... RETURNING`` of the
lease; one ``UPDATE`` of the counts (and retirement). The workflow version's definition is read
once per process and kept VERSION_CACHE_SECONDS. Work that needs no answer before the 201 (the
taxonomy's tagging of descriptions and tag picks) is queued after the commit through the jobs
outbox, which keeps it in the database while the broker is down. Retirement rules in force
(consensus, "nothing here") still run in the request, so a subject they retire is never served
again.
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from core.errors import Conflict, InvalidInput, NotFound, NotServed

from .compiled_query import CompiledQuery
from .drawing import SubjectFrame, has_marks
from .leases import lease_release
from .models import Classification, Cutout, QueueLease, RetirementReason, SubjectWorkflowStatus, Workflow
from .retirement import retirement_apply
from .roles import Volunteer
from .synthetic import realism_clean
from .task_definitions import validate_annotations
from .workflow_versions import resolve_version, workflow_version_cached


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


def _subject_frame(tasks: dict, subject_id) -> SubjectFrame | None:
    """The subject's image size and contour components, read only when a task takes marks."""
    if not has_marks(tasks):
        return None
    cutout = Cutout.objects.filter(pk=subject_id).only("width", "height", "contours").first()
    return SubjectFrame.of(cutout) if cutout is not None else None


# Cutout columns a submit never reads (its synthetic flag is read, for the notice after the answer).
SUBJECT_FIELDS_UNREAD = ("pixels", "contours", "wcs_header", "metadata", "ingest_notes", "model_scores", "image")


def _status_query(workflow_id: int, subject_id: int, volunteer_key: str):
    previous = Classification.objects.filter(
        workflow_id=workflow_id, subject_id=subject_id, volunteer_key=volunteer_key
    ).order_by()
    return (
        SubjectWorkflowStatus.objects.select_for_update(of=("self",))
        .select_related("workflow", "subject")
        .defer(*(f"subject__{name}" for name in SUBJECT_FIELDS_UNREAD))
        .filter(workflow_id=workflow_id, subject_id=subject_id)
        .annotate(
            previous_id=Subquery(previous.values("pk")[:1]),
            previous_key=Subquery(previous.values("idempotency_key")[:1]),
            served=Exists(QueueLease.objects.filter(status=OuterRef("pk"), volunteer_key=volunteer_key)),
        )
    )


# Built and compiled once per process: building and compiling it cost more CPU than running it.
_STATUS_LOCKED = CompiledQuery(
    _status_query, {"workflow_id": -9_000_001, "subject_id": -9_000_002, "volunteer_key": "placeholder:volunteer"}
)


def _status_locked(workflow_id: int, subject_id: int, volunteer_key: str) -> SubjectWorkflowStatus | None:
    """The subject's status row, locked, with its workflow, this volunteer's earlier answer
    (``previous_id``, ``previous_key``) and whether the queue served it to them (``served``)."""
    return _STATUS_LOCKED.first(workflow_id=workflow_id, subject_id=subject_id, volunteer_key=volunteer_key)


def _missing(workflow_id: int, subject_id: int):
    """Why there is no status row (an error path: its statements do not count)."""
    if not Workflow.objects.filter(pk=workflow_id).exists():
        return NotFound(f"workflow {workflow_id} does not exist", field="workflow")
    if Cutout.objects.filter(pk=subject_id).exists():
        return InvalidInput(f"subject {subject_id} is not in workflow {workflow_id}", field="subject")
    return NotFound(f"subject {subject_id} does not exist", field="subject")


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
    status = _status_locked(workflow_id, subject_id, volunteer.key)
    if status is None:
        raise _missing(workflow_id, subject_id)
    workflow = status.workflow
    version = workflow_version_cached(workflow, workflow_version)
    cleaned = validate_annotations(annotations, version.tasks, _subject_frame(version.tasks, subject_id))
    if status.previous_id is not None:
        if idempotency_key and status.previous_key == idempotency_key:
            return Classification.objects.get(pk=status.previous_id), False  # a retry of a stored request
        raise Conflict("this volunteer has already classified this subject")
    if status.retired_at is not None:
        raise Conflict(
            f"subject {subject_id} is retired ({status.retirement_reason}); its classification was not stored"
        )
    if require_served and not status.served:
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
    classification.subject = status.subject  # read with the status row: no second query
    released = lease_release(status=status, volunteer_key=volunteer.key) if status.served else 0
    count = status.classification_count + 1
    updates = {"classification_count": count}
    if released:
        updates["leased_count"] = F("leased_count") - released
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
