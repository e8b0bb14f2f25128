"""Ranking a survey's labelling queue: by coarse-grained complexity, by a classifier's uncertainty
(predictive entropy), or by both. A cutout's priority is the mean of its percentiles within the
survey (0-100, higher is served first); a cutout with neither score stays unranked (served after
the ranked ones, at random)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db import transaction

from core.errors import InvalidInput

from . import ml
from .models import AcquisitionPolicy, Cutout, SubjectWorkflowStatus, Survey
from .services import queue_priority, queue_statuses_rewrite

Ranking = Survey.QueueRanking
USES_COMPLEXITY = {Ranking.COMPLEXITY, Ranking.BOTH}
USES_UNCERTAINTY = {Ranking.UNCERTAINTY, Ranking.BOTH}


@dataclass
class RankingReport:
    survey: str
    by: str
    task: str
    ranked: int = 0
    unranked: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


def queue_ranking_set(*, survey: Survey, by: str, task_name: str = "") -> RankingReport:
    """Choose how the survey's queue is ordered and rank it now; bad input changes nothing."""
    if by not in Ranking.values:
        raise InvalidInput(f"queue ranking must be one of {', '.join(Ranking.values)}, not {by!r}", field="by")
    task_name = (task_name or "").strip()
    if by in USES_UNCERTAINTY and not task_name:
        raise InvalidInput("name the classifier task whose uncertainty ranks the queue", field="task")
    with transaction.atomic():
        survey = Survey.objects.select_for_update().get(pk=survey.pk)
        survey.queue_ranking = by
        survey.queue_ranking_task = task_name if by in USES_UNCERTAINTY else ""
        report = _rank(survey, strict=True)  # raises before anything is saved when scores are missing
        survey.save(update_fields=["queue_ranking", "queue_ranking_task"])
    return report


def queue_rank(*, survey: Survey) -> RankingReport:
    """Apply the survey's stored ranking again (new cutouts, new complexity or classifier
    scores); a manual ranking changes nothing."""
    survey = Survey.objects.get(pk=survey.pk)
    with transaction.atomic():
        return _rank(survey, strict=False)


def queue_rerank_after_scores(*, survey: Survey, complexity: bool = False, task_name: str = "") -> RankingReport | None:
    """Re-rank the survey's queue when new complexity scores (``complexity``) or new scores of
    the classifier task ``task_name`` are what its stored ranking uses; None when they are not."""
    ranking, ranking_task = Survey.objects.values_list("queue_ranking", "queue_ranking_task").get(pk=survey.pk)
    uses = (complexity and ranking in USES_COMPLEXITY) or (
        bool(task_name) and ranking in USES_UNCERTAINTY and ranking_task == task_name
    )
    return queue_rank(survey=survey) if uses else None


def queue_ranking_get(*, survey: Survey) -> RankingReport:
    """The survey's ranking and how many of its cutouts have a priority now (reads only)."""
    report = RankingReport(survey=survey.name, by=survey.queue_ranking, task=survey.queue_ranking_task)
    cutouts = Cutout.objects.filter(survey=survey)
    report.ranked = cutouts.filter(priority__isnull=False).count()
    report.unranked = cutouts.count() - report.ranked
    return report


def _rank(survey: Survey, *, strict: bool) -> RankingReport:
    if survey.queue_ranking == Ranking.MANUAL:
        return queue_ranking_get(survey=survey)
    report = RankingReport(survey=survey.name, by=survey.queue_ranking, task=survey.queue_ranking_task)
    rows = list(Cutout.objects.filter(survey=survey).values_list("pk", "complexity_percentile", "model_scores"))
    parts: list[dict[int, float]] = []
    if survey.queue_ranking in USES_COMPLEXITY:
        complexity = {pk: pct for pk, pct, _ in rows if pct is not None}
        if strict and not complexity:
            raise InvalidInput(
                f"no cutout of {survey.name} has a complexity score yet: run score_complexity --survey first",
                field="by",
            )
        parts.append(complexity)
    if survey.queue_ranking in USES_UNCERTAINTY:
        entropy = {pk: _entropy(scores, survey.queue_ranking_task) for pk, _, scores in rows}
        entropy = {pk: value for pk, value in entropy.items() if value is not None}
        if strict and not entropy:
            raise InvalidInput(
                f"no cutout of {survey.name} has scores of the classifier task {survey.queue_ranking_task!r} "
                "yet: promote a version of it first",
                field="task",
            )
        parts.append(dict(zip(entropy, ml.ranks(list(entropy.values())), strict=True)))
    priorities: dict[int, float | None] = {}
    for pk, _, _ in rows:
        values = [part[pk] for part in parts if pk in part]
        priorities[pk] = sum(values) / len(values) if values else None
    _write(survey, priorities)
    report.ranked = sum(1 for value in priorities.values() if value is not None)
    report.unranked = len(priorities) - report.ranked
    return report


def _entropy(scores: dict | None, task_name: str) -> float | None:
    entry = (scores or {}).get(task_name) or {}
    value = entry.get("entropy")
    return float(value) if isinstance(value, int | float) else None


def _write(survey: Survey, priorities: dict[int, float | None]) -> None:
    cutouts = [Cutout(pk=pk, priority=priority) for pk, priority in priorities.items()]
    Cutout.objects.bulk_update(cutouts, ["priority"], batch_size=1000)
    # A workflow with an acquisition policy keeps the order its policy gives (classifiers.acquisition).
    by_policy = AcquisitionPolicy.objects.filter(active=True).values("workflow_id")
    statuses = list(
        SubjectWorkflowStatus.objects.filter(subject__survey=survey)
        .exclude(workflow_id__in=by_policy)
        .only("pk", "subject_id")
    )
    for status in statuses:
        status.priority = queue_priority(priorities.get(status.subject_id))
    queue_statuses_rewrite(statuses=statuses, fields=["priority"])
