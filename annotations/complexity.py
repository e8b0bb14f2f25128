"""Coarse-grained complexity of cutouts: scores, percentiles within a survey, queue priority."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from . import ml
from .errors import InvalidInput
from .models import Cutout, SubjectWorkflowStatus, Survey
from .reports import IngestReport
from .services import queue_priority

BATCH = 200


@transaction.atomic
def complexity_percentiles_update(*, survey: Survey, set_priority: bool = False) -> int:
    """Store each cutout's complexity percentile within its survey (and optionally make it the
    queue priority, so the most complex cutouts are served first); returns how many were ranked."""
    rows = list(Cutout.objects.filter(survey=survey, complexity__isnull=False).values_list("pk", "complexity"))
    if not rows:
        return 0
    ranked = ml.ranks([score for _, score in rows])
    cutouts = [Cutout(pk=pk, complexity_percentile=rank) for (pk, _), rank in zip(rows, ranked, strict=True)]
    Cutout.objects.bulk_update(cutouts, ["complexity_percentile"], batch_size=1000)
    if set_priority:
        for cutout in cutouts:
            cutout.priority = cutout.complexity_percentile
        Cutout.objects.bulk_update(cutouts, ["priority"], batch_size=1000)
        statuses = list(SubjectWorkflowStatus.objects.filter(subject__survey=survey).only("pk", "subject_id"))
        by_cutout = {c.pk: queue_priority(c.priority) for c in cutouts}
        for status in statuses:
            status.priority = by_cutout.get(status.subject_id, status.priority)
        SubjectWorkflowStatus.objects.bulk_update(statuses, ["priority"], batch_size=1000)
    return len(rows)


def score_survey_complexity(
    *, survey_name: str, set_priority: bool = False, progress: Callable[[int, int, str], None] = lambda *a: None
) -> IngestReport:
    """(Re)score every cutout of a survey from its stored source file, in batches, with progress."""
    survey = Survey.objects.filter(name=survey_name).first()
    if survey is None:
        raise InvalidInput(f"no survey named {survey_name!r}")
    ids = list(Cutout.objects.filter(survey=survey).order_by("pk").values_list("pk", flat=True))
    report = IngestReport()
    progress(0, len(ids), f"scoring {len(ids)} cutouts of {survey.name}")
    for start in range(0, len(ids), BATCH):
        batch = list(Cutout.objects.filter(pk__in=ids[start : start + BATCH]).only("pk", "name", "source_file"))
        scored = []
        for cutout in batch:
            try:
                with cutout.source_file.open("rb") as handle:
                    image = ml.read_cutout_image(handle.read())
                cutout.complexity = ml.cutout_complexity(image, survey.pixel_scale_arcsec)
                scored.append(cutout)
                report.created += 1
            except (ml.ImageReadError, OSError) as exc:
                report.failed += 1
                report.errors.append(f"{cutout.name}: {exc}")
        Cutout.objects.bulk_update(scored, ["complexity"])
        progress(min(start + BATCH, len(ids)), len(ids), batch[-1].name if batch else "")
    complexity_percentiles_update(survey=survey, set_priority=set_priority)
    return report
