"""Coarse-grained complexity of cutouts: scores, percentiles within a survey, queue priority."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction

from core.errors import InvalidInput
from jobs.reports import JobReport

from . import ml
from .models import Cutout, Survey
from .ranking import queue_ranking_set, queue_rerank_after_scores

BATCH = 200


@transaction.atomic
def complexity_percentiles_update(*, survey: Survey, set_priority: bool = False) -> int:
    """Store each cutout's complexity percentile within its survey and re-rank the survey's queue
    when its ranking uses complexity; ``set_priority`` makes complexity the survey's ranking (the
    most complex cutouts are served first). Returns how many cutouts have a percentile."""
    rows = list(
        Cutout.objects.filter(survey=survey, complexity__isnull=False).values_list("pk", "complexity", "synthetic")
    )
    if not rows:
        return 0
    # percentiles among the survey's real cutouts: generated ones are placed on that scale but do not move it
    real = [score for _, score, synthetic in rows if not synthetic]
    ranked = ml.ranks([score for _, score, _ in rows], reference=real or None)
    cutouts = [Cutout(pk=pk, complexity_percentile=rank) for (pk, _, _), rank in zip(rows, ranked, strict=True)]
    Cutout.objects.bulk_update(cutouts, ["complexity_percentile"], batch_size=1000)
    if set_priority:
        queue_ranking_set(survey=survey, by=Survey.QueueRanking.COMPLEXITY)
    else:
        queue_rerank_after_scores(survey=survey, complexity=True)
    return len(rows)


def score_survey_complexity(
    *, survey_name: str, set_priority: bool = False, progress: Callable[[int, int, str], None] = lambda *a: None
) -> JobReport:
    """(Re)score every cutout of a survey from its stored source file, in batches, with progress."""
    survey = Survey.objects.filter(name=survey_name).first()
    if survey is None:
        raise InvalidInput(f"no survey named {survey_name!r}")
    ids = list(Cutout.objects.filter(survey=survey).order_by("pk").values_list("pk", flat=True))
    report = JobReport()
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
