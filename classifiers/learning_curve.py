"""Reads: a task's learning curve (test accuracy of each evaluated version against the number of
labels it was trained on) and the survey's newest active-learning round, for the classifier page."""

from __future__ import annotations

from dataclasses import dataclass, field

from jobs.models import Job

from .active_loop import ROUND_JOB, loop_threshold
from .models import ClassifierTask, ModelVersion


@dataclass
class CurvePoint:
    version: int  # id
    number: int
    status: str
    labels: int  # labelled training images it was trained on
    accuracy: float
    split: str  # the split the accuracy was measured on (test, else val, else train)
    trained_at: object
    warm_start_from: int | None  # version number it was warm-started from (a round's), else None


@dataclass
class LearningCurve:
    task: str
    survey: str
    threshold: int  # new consensus labels that start a round (0: the loop is off)
    points: list[CurvePoint] = field(default_factory=list)
    round: Job | None = None  # the survey's newest round


def learning_curve(*, task: ClassifierTask) -> LearningCurve:
    """Every evaluated version of the task (ready or active), oldest first."""
    versions = (
        ModelVersion.objects.filter(task=task, status__in=[ModelVersion.Status.READY, ModelVersion.Status.ACTIVE])
        .select_related("warm_start_from")
        .order_by("number")
    )
    curve = LearningCurve(task=task.name, survey=task.survey.name, threshold=loop_threshold(survey=task.survey))
    for version in versions:
        metrics = version.metrics or {}
        if metrics.get("accuracy") is None:
            continue
        labels = metrics.get("n_train")
        if labels is None:  # versions evaluated before the count was kept
            labels = len((version.training_data or {}).get("train") or [])
        curve.points.append(
            CurvePoint(
                version=version.pk,
                number=version.number,
                status=version.status,
                labels=int(labels),
                accuracy=float(metrics["accuracy"]),
                split=metrics.get("split", "test"),
                trained_at=version.trained_at,
                warm_start_from=version.warm_start_from.number if version.warm_start_from else None,
            )
        )
    curve.round = (
        Job.objects.filter(kind=ROUND_JOB, parameters__survey_id=task.survey_id).order_by("-created_at").first()
    )
    return curve
