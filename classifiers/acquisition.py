"""Ranking a workflow's queue by its acquisition policy, and previewing what the policy would serve.

Scores come from the active version of the policy's classifier task (``Cutout.model_scores``) and
its feature vectors (novelty, diversity). A subject whose scores come from another version than the
active one, from no model at all, or from a model of another survey has no model score: when the
policy weighs a model score, the subject falls back to exploration (served at random, never by a
stale rank) and the reason says so. Ranks are stored with the model and feature versions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from annotations.acquisition import SENT_TO_FRONT, policy_active
from annotations.models import UNRANKED, AcquisitionPolicy, SubjectWorkflowStatus, Workflow
from annotations.services import queue_statuses_rewrite
from core.errors import InvalidInput, NotFound
from jobs.reports import JobReport

from . import ml
from .models import ClassifierTask, ModelVersion
from .selectors import active_version, feature_matrix, feature_version_of

MODEL_SCORES = ("entropy", "margin", "bald", "novelty")
RANK_JOB = "acquisition_rank"  # registered in ClassifiersConfig.ready()
NOVELTY_NEIGHBOURS = 10


@dataclass
class ScoreTable:
    """The open (unretired, non-gold) subjects of a workflow and what the policy knows of each."""

    status_ids: list[int]
    subject_ids: list[int]
    scores: dict[str, np.ndarray]  # score name -> (N,), NaN where unknown
    features: np.ndarray | None  # (N, D) float32, NaN rows where missing; None without any
    fallbacks: list[str]  # per row: why it falls back to exploration ("" when it does not)
    task: ClassifierTask | None = None
    version: ModelVersion | None = None
    feature_version: str = ""
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.status_ids)


def policy_task(*, workflow: Workflow, task_name: str) -> ClassifierTask | None:
    """The classifier task whose scores rank: the one named, else the workflow's first."""
    if task_name:
        task = ClassifierTask.objects.filter(name=task_name).select_related("survey").first()
        if task is None:
            raise InvalidInput(f"no classifier task named {task_name!r}", field="task")
        return task
    return ClassifierTask.objects.filter(workflow=workflow).select_related("survey").order_by("pk").first()


def _model_fallback(task, version, survey_id, survey_name, entry) -> str:
    if task is None:
        return "no classifier for this workflow yet: served at random (exploration)"
    if version is None:
        return f"classifier task {task.name} has no active version: served at random (exploration)"
    if survey_id != task.survey_id:
        return (
            f"the active classifier ({task.name} v{version.number}) is trained on survey {task.survey.name}, "
            f"not {survey_name}: served at random (exploration)"
        )
    if not entry:
        return f"not scored by {task.name} v{version.number} yet: served at random (exploration)"
    if entry.get("version_id") != version.pk:
        return (
            f"scored by {task.name} v{entry.get('version')}, not by the active v{version.number}: "
            "served at random (exploration), not by the stale rank"
        )
    return ""


def _number(entry: dict, key: str) -> float:
    value = entry.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else math.nan


def score_table(*, workflow: Workflow, policy, task_name: str) -> ScoreTable:
    """Every open subject of the workflow with its scores under the active model version."""
    task = policy_task(workflow=workflow, task_name=task_name)
    version = active_version(task=task) if task is not None else None
    rows = list(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True, gold=False)
        .order_by("pk")
        .values_list(
            "pk",
            "subject_id",
            "subject__survey_id",
            "subject__survey__name",
            "subject__complexity_percentile",
            "subject__model_scores",
        )
    )
    n = len(rows)
    needs_model = any(policy.weights.get(name, 0) > 0 for name in MODEL_SCORES)
    scores = {name: np.full(n, np.nan) for name in ("entropy", "margin", "bald", "complexity", "novelty")}
    fallbacks = []
    for i, (_, _, survey_id, survey_name, complexity, model_scores) in enumerate(rows):
        entry = (model_scores or {}).get(task.name) if task is not None else None
        reason = _model_fallback(task, version, survey_id, survey_name, entry or {})
        fallbacks.append(reason if needs_model else "")
        if complexity is not None and not (needs_model and reason):
            scores["complexity"][i] = complexity
        if not reason:
            scores["entropy"][i] = _number(entry, "entropy")
            stored_margin = _number(entry, "margin")  # top-1 minus top-2: small is uncertain
            scores["margin"][i] = 1.0 - stored_margin
            scores["bald"][i] = _number(entry, "bald")
    table = ScoreTable(
        status_ids=[r[0] for r in rows],
        subject_ids=[r[1] for r in rows],
        scores=scores,
        features=None,
        fallbacks=fallbacks,
        task=task,
        version=version,
    )
    if version is not None and n:
        _attach_features(table)
    return table


def _attach_features(table: ScoreTable) -> None:
    """Feature rows of the active version (NaN where missing), and novelty over the survey's."""
    table.feature_version = feature_version_of(table.version)
    ids, matrix = feature_matrix(feature_version=table.feature_version)
    if not len(ids):
        table.notes.append(f"no feature vectors of {table.feature_version} yet: no novelty, no diversity step")
        table.feature_version = ""
        return
    novelty = ml.knn_novelty(matrix, k=NOVELTY_NEIGHBOURS) if len(ids) > 1 else np.full(len(ids), np.nan)
    row_of = {cutout_id: i for i, cutout_id in enumerate(ids)}
    features = np.full((len(table), matrix.shape[1]), np.nan, dtype=np.float32)
    for i, subject_id in enumerate(table.subject_ids):
        j = row_of.get(subject_id)
        if j is not None and not table.fallbacks[i]:
            features[i] = matrix[j]
            table.scores["novelty"][i] = novelty[j]
    table.features = features


def _usable_features(table: ScoreTable) -> np.ndarray | None:
    """Features for the diversity step, or None when no ranked row has any."""
    if table.features is None or not np.isfinite(table.features).all(axis=1).any():
        return None
    return table.features


@dataclass
class RankReport:
    workflow: int
    policy: int
    ranked: int
    exploration: int  # subjects with no usable score: served at random
    model_version: int | None
    feature_version: str
    notes: list[str]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def workflow_rank(*, workflow: Workflow, policy_row: AcquisitionPolicy | None = None) -> RankReport | None:
    """Write the queue order the workflow's active policy gives; None without a policy.

    The head (``RGZ_ACQUISITION_DIVERSE_HEAD`` subjects) is thinned for diversity in feature space;
    the rest follows the combined priority; subjects without usable scores get no rank (random).
    """
    policy_row = policy_row or policy_active(workflow=workflow)
    if policy_row is None:
        return None
    policy = ml.policy_from_dict(policy_row.policy)
    table = score_table(workflow=workflow, policy=policy, task_name=policy_row.task_name)
    priority = ml.combined_priority(policy, table.scores) if len(table) else np.zeros(0)
    head_size = min(settings.RGZ_ACQUISITION_DIVERSE_HEAD, int(np.isfinite(priority).sum()))
    values = np.where(np.isfinite(priority), priority * 100.0, np.nan)
    reasons = ["priority" if math.isfinite(v) else (table.fallbacks[i] or "exploration") for i, v in enumerate(values)]
    if head_size:
        head, head_reasons = ml.select_batch(
            ml.policy_without_exploration(policy), table.scores, _usable_features(table), head_size, seed=0
        )
        for position, (i, reason) in enumerate(zip(head, head_reasons, strict=True)):
            values[i] = 100.0 + head_size - position  # above every other rank, in the order picked
            reasons[i] = reason
    model_version = table.version.pk if table.version is not None else None
    kept = set(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, rank_reason=SENT_TO_FRONT).values_list("pk", flat=True)
    )  # an astronomer's choice outranks the policy
    front = (float(np.nanmax(values)) if np.isfinite(values).any() else 0.0) + 1.0
    statuses = []
    for i, status_id in enumerate(table.status_ids):
        if status_id in kept:
            statuses.append(SubjectWorkflowStatus(pk=status_id, priority=front, rank_reason=SENT_TO_FRONT))
            continue
        ranked = math.isfinite(values[i])
        statuses.append(
            SubjectWorkflowStatus(
                pk=status_id,
                priority=float(values[i]) if ranked else UNRANKED,
                rank_model_version=model_version if ranked and not table.fallbacks[i] else None,
                rank_feature_version=table.feature_version if ranked else "",
                rank_reason=reasons[i][:200],
            )
        )
    fields = ["priority", "rank_model_version", "rank_feature_version", "rank_reason"]
    busy = queue_statuses_rewrite(statuses=statuses, fields=fields)
    ranked_count = int(np.isfinite(values).sum())
    notes = table.notes + _fallback_summary(table)
    if busy:
        notes.append(f"{busy} subject(s) were being served throughout: their rank waits for the next re-rank")
    return RankReport(
        workflow=workflow.pk,
        policy=policy_row.pk,
        ranked=ranked_count,
        exploration=len(table) - ranked_count,
        model_version=model_version,
        feature_version=table.feature_version,
        notes=notes,
    )


def workflows_rank_for_task(*, task: ClassifierTask) -> list[RankReport]:
    """Re-rank every workflow whose active policy reads this task's scores (after a scoring)."""
    reports = []
    for policy_row in AcquisitionPolicy.objects.filter(active=True).select_related("workflow"):
        uses = policy_row.task_name == task.name or (
            not policy_row.task_name and policy_task(workflow=policy_row.workflow, task_name="") == task
        )
        if uses:
            reports.append(workflow_rank(workflow=policy_row.workflow, policy_row=policy_row))
    return reports


def _fallback_summary(table: ScoreTable) -> list[str]:
    """One line per distinct fallback reason, with how many subjects it concerns."""
    counts: dict[str, int] = {}
    for reason in table.fallbacks:
        if reason:
            counts[reason] = counts.get(reason, 0) + 1
    return [f"{count} subject(s): {reason}" for reason, count in sorted(counts.items(), key=lambda kv: -kv[1])]


def workflow_rank_job(*, workflow_id: int, policy_id: int, progress) -> JobReport:
    """Rank a workflow's queue by a saved (or rolled-back) policy, off the request. A policy that
    is no longer the active one by the time the job runs ranks nothing: the newer one's job does."""
    policy_row = AcquisitionPolicy.objects.select_related("workflow").filter(pk=policy_id).first()
    if policy_row is None or policy_row.workflow_id != workflow_id:
        raise NotFound(f"policy {policy_id} of workflow {workflow_id} does not exist (any more)")
    report = JobReport()
    progress(0, 1, f"ranking the queue of workflow {workflow_id} by policy {policy_row.number}")
    if not policy_row.active:
        report.skipped = 1
        report.notes.append(f"policy {policy_row.number} is no longer active: the active one ranks the queue")
        progress(1, 1, "nothing to rank: a newer policy is active")
        return report
    rank = workflow_rank(workflow=policy_row.workflow, policy_row=policy_row)
    report.created = 1
    report.notes.extend(rank.notes)
    report.extra = {"rank": rank.as_dict()}
    progress(1, 1, f"{rank.ranked} ranked by the policy, {rank.exploration} at random")
    return report
