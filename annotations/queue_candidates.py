"""The queue's candidate subjects for one volunteer: open, under the retirement limit counting
live leases, not answered or leased by them, in serving order, locked (SKIP LOCKED) for the
lease. Every lease request runs it; its usual shapes are built and compiled to SQL once per
process (``compiled_query``), the rare ones (a list of subjects to leave out) each time."""

from __future__ import annotations

from django.db import connection
from django.db.models import Exists, F, OuterRef

from .compiled_query import CompiledQuery
from .models import Classification, QueueLease, SubjectWorkflowStatus

# Large cutout columns that serving a subject never reads (contours have their own endpoint; the
# WCS header is read, for the subject's sky mapping).
HEAVY_CUTOUT_FIELDS = ("contours", "ingest_notes", "model_scores")
PLACEHOLDERS = {"workflow_id": -9_100_001, "volunteer_key": "placeholder:volunteer", "limit": -9_100_002}
_compiled: dict[tuple, CompiledQuery] = {}


def _build(*, workflow_id, volunteer_key, limit, shape, exclude=()):
    has_limit, skip_locked, gold, explore, real_only, prioritized, count = shape
    already = Classification.objects.filter(
        workflow_id=workflow_id, subject=OuterRef("subject"), volunteer_key=volunteer_key
    )
    # Any lease of mine on a subject, live or expired and not yet swept, rules it out.
    mine = QueueLease.objects.filter(status=OuterRef("pk"), volunteer_key=volunteer_key)
    rows = (
        SubjectWorkflowStatus.objects.select_related("subject__survey")
        .prefetch_related("subject__layers")  # one query for the batch, not one a subject
        .defer(*(f"subject__{name}" for name in HEAVY_CUTOUT_FIELDS))
        .filter(workflow_id=workflow_id, retired_at__isnull=True, gold=gold)
    )
    if has_limit:
        rows = rows.filter(classification_count__lt=limit - F("leased_count"))
    if exclude:
        rows = rows.exclude(pk__in=list(exclude))
    if real_only:
        rows = rows.filter(subject__synthetic=False)
    rows = rows.filter(~Exists(already), ~Exists(mine))
    rows = rows.order_by(*(["-priority", "random_key"] if prioritized and not explore else ["random_key"]))
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=skip_locked, of=("self",))
    return rows[:count]


def candidates(
    workflow,
    volunteer,
    limit,
    *,
    skip_locked: bool,
    count: int,
    gold: bool = False,
    explore: bool = False,
    exclude=(),
    real_only: bool = False,
) -> list[SubjectWorkflowStatus]:
    shape = (limit is not None, skip_locked, gold, explore, real_only, workflow.prioritized, count)
    arguments = {"workflow_id": workflow.pk, "volunteer_key": volunteer.key, "limit": limit}
    if exclude:
        return list(_build(**arguments, shape=shape, exclude=exclude))
    query = _compiled.get(shape)
    if query is None:
        query = _compiled.setdefault(
            shape, CompiledQuery(lambda **values: _build(**values, shape=shape), PLACEHOLDERS, first=False)
        )
    return query.all(**arguments)
