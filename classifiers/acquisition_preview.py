"""What a policy (the active one, or one being edited and not saved) would serve next, and why.

The preview draws as the queue serves a volunteer with ``answered`` classifications: each slot is
a gold-standard subject at the policy's gold rate (when the workflow has gold subjects), the rest
is one batch of the policy (exploration share at random, the others by priority, thinned for
diversity). The draw is seeded so the same settings preview the same subjects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from annotations.models import Cutout, SubjectWorkflowStatus, Workflow
from core.errors import InvalidInput

from . import ml
from .acquisition import ScoreTable, _fallback_summary, _usable_features, score_table

REASON_TEXT = {
    "priority": "high combined priority",
    "diversity": "picked for diversity: unlike the higher-ranked subjects already in the batch",
    "exploration": "drawn at random (exploration share)",
    "gold": "gold-standard subject: measures the volunteer, with feedback",
}


@dataclass
class PreviewItem:
    position: int
    subject: Cutout
    reason: str  # exploration / priority / diversity / gold
    explanation: str
    fallback: str = ""  # why this subject has no usable score (it is exploration then)
    breakdown: dict | None = None  # mlcore.active.policy.explain(), None for gold and unscored


@dataclass
class Preview:
    items: list[PreviewItem]
    open_subjects: int
    gold_subjects: int
    gold_rate: float
    model: dict | None
    feature_version: str
    notes: list[str] = field(default_factory=list)


def policy_settings_default() -> dict:
    """The settings of a policy nobody has changed."""
    return ml.policy_default()


def policy_preview(
    *, workflow: Workflow, values: dict, task_name: str, n: int, answered: int = 0, seed: int = 0
) -> Preview:
    """The next ``n`` subjects ``values`` (stored policy settings) would serve; InvalidInput for
    settings the library refuses."""
    try:
        policy = ml.policy_from_dict(values)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"invalid acquisition policy: {exc}", field="policy")
    table = score_table(workflow=workflow, policy=policy, task_name=task_name)
    gold_ids = list(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=True)
        .order_by("pk")
        .values_list("subject_id", flat=True)
    )
    rng = np.random.default_rng(seed)
    rate = ml.gold_rate(policy, answered) if gold_ids else 0.0
    gold_slots = [i for i in range(n) if rng.random() < rate]
    gold_picks = list(rng.permutation(gold_ids)[: len(gold_slots)]) if gold_slots else []
    gold_slots = gold_slots[: len(gold_picks)]
    batch, reasons = (
        ml.select_batch(policy, table.scores, _usable_features(table), n - len(gold_slots), seed=seed)
        if len(table)
        else (np.zeros(0, dtype=int), [])
    )
    subjects = Cutout.objects.select_related("survey").in_bulk([table.subject_ids[i] for i in batch] + gold_picks)
    items: list[PreviewItem] = []
    picks = list(zip(batch, reasons, strict=True))
    golds = list(gold_picks)
    for position in range(len(picks) + len(golds)):
        if golds and (position in gold_slots or not picks):
            items.append(_gold_item(position, subjects[int(golds.pop(0))]))
        else:
            i, reason = picks.pop(0)
            items.append(_policy_item(position, int(i), reason, table, policy, subjects))
    notes = list(table.notes) + _fallback_summary(table)
    if not len(table):
        notes.insert(0, "every subject of this workflow is retired (or gold): nothing left to rank")
    return Preview(
        items=items,
        open_subjects=len(table),
        gold_subjects=len(gold_ids),
        gold_rate=rate,
        model=_model_of(table),
        feature_version=table.feature_version,
        notes=notes,
    )


def _gold_item(position: int, subject: Cutout) -> PreviewItem:
    return PreviewItem(position=position, subject=subject, reason="gold", explanation=REASON_TEXT["gold"])


def _policy_item(position, i, reason, table: ScoreTable, policy, subjects) -> PreviewItem:
    fallback = table.fallbacks[i]
    breakdown = ml.explain_priority(policy, table.scores, i)
    unscored = breakdown.get("priority") is None or not math.isfinite(breakdown["priority"])
    explanation = REASON_TEXT.get(reason, reason)
    if reason == "exploration" and unscored and fallback:
        explanation = fallback
    return PreviewItem(
        position=position,
        subject=subjects[table.subject_ids[i]],
        reason=reason,
        explanation=explanation,
        fallback=fallback,
        breakdown=None if unscored else breakdown,
    )


def _model_of(table: ScoreTable) -> dict | None:
    if table.task is None:
        return None
    version = table.version
    return {
        "task": table.task.name,
        "survey": table.task.survey.name,
        "version": version.number if version is not None else None,
        "version_id": version.pk if version is not None else None,
    }
