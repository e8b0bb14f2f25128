"""Volunteer skill from gold-standard subjects: a confusion matrix per volunteer and question task.

The truth for a subject is its expert label (the most common expert answer). A volunteer's skill
on a task is the mean over true classes of the share answered correctly (the diagonal of the
row-normalised confusion matrix), as in panoptes_aggregation's user skill reducer (one-to-one
mode, without subject-difficulty weighting). Skill becomes a vote weight once a volunteer has
classified at least ``count_threshold`` gold subjects; the others weigh the mean skill of those
measured (1 when nobody is), so unknown volunteers neither dominate nor vanish.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache

from core.cache import CACHE_DOWN

from .consensus import QUESTION_TYPES, chosen_labels
from .models import Classification, Workflow, WorkflowVersion

logger = logging.getLogger(__name__)

DEFAULT_COUNT_THRESHOLD = 10
DEFAULT_SKILL_THRESHOLD = 0.7


@dataclass
class VolunteerSkill:
    volunteer_key: str
    task: str
    confusion: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # true -> given -> n

    @property
    def count(self) -> int:
        return sum(sum(row.values()) for row in self.confusion.values())

    def per_class(self) -> dict[str, float]:
        return {true: row[true] / sum(row.values()) for true, row in self.confusion.items() if sum(row.values())}

    @property
    def skill(self) -> float:
        recalls = self.per_class()
        return sum(recalls.values()) / len(recalls) if recalls else 0.0

    def as_dict(self, *, skill_threshold: float = DEFAULT_SKILL_THRESHOLD, count_threshold: int = 0) -> dict:
        return {
            "volunteer": self.volunteer_key,
            "task": self.task,
            "gold_classifications": self.count,
            "skill": self.skill,
            "per_class": self.per_class(),
            "confusion": {true: dict(row) for true, row in self.confusion.items()},
            "measured": self.count >= count_threshold,
            "level_up": self.count >= count_threshold and self.skill >= skill_threshold,
        }


def gold_answers(*, workflow: Workflow, task: str) -> dict[int, str]:
    """Subject id -> the expert answer to ``task`` (the most common when experts differ)."""
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    votes: dict[int, Counter] = defaultdict(Counter)
    # a generated subject's "truth" is only the class it was asked for: it never grades volunteers
    rows = Classification.objects.filter(workflow=workflow, expert=True, subject__synthetic=False).values_list(
        "subject_id", "workflow_version_id", "annotations"
    )
    for subject_id, version_id, answers in rows.iterator():
        version = versions[version_id]
        for item in answers or []:
            definition = version.tasks.get(item.get("task"), {})
            if item.get("task") == task and definition.get("type") in QUESTION_TYPES:
                votes[subject_id].update(chosen_labels(definition, version.strings, item.get("value")))
    return {subject_id: counts.most_common(1)[0][0] for subject_id, counts in votes.items() if counts}


def volunteer_skills(*, workflow: Workflow, task: str) -> dict[str, VolunteerSkill]:
    """Volunteer key -> confusion matrix on the gold subjects they classified."""
    truth = gold_answers(workflow=workflow, task=task)
    if not truth:
        return {}
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    skills: dict[str, VolunteerSkill] = {}
    rows = Classification.objects.filter(workflow=workflow, expert=False, subject_id__in=list(truth)).values_list(
        "subject_id", "workflow_version_id", "annotations", "volunteer_key"
    )
    for subject_id, version_id, answers, volunteer_key in rows.iterator(chunk_size=5000):
        version = versions[version_id]
        for item in answers or []:
            definition = version.tasks.get(item.get("task"), {})
            if item.get("task") != task or definition.get("type") not in QUESTION_TYPES:
                continue
            given = chosen_labels(definition, version.strings, item.get("value"))
            record = skills.setdefault(volunteer_key, VolunteerSkill(volunteer_key=volunteer_key, task=task))
            record.confusion[truth[subject_id]][given[0] if given else "(none)"] += 1
    return skills


def skill_weights(
    *, workflow: Workflow, task: str, count_threshold: int = DEFAULT_COUNT_THRESHOLD
) -> tuple[dict[str, float], float]:
    """Vote weights of measured volunteers, and the weight of everyone else."""
    measured = {
        key: record.skill
        for key, record in volunteer_skills(workflow=workflow, task=task).items()
        if record.count >= count_threshold
    }
    default = sum(measured.values()) / len(measured) if measured else 1.0
    return measured, default


SKILL_CACHE_SECONDS = 300


def skill_weights_cached(*, workflow: Workflow, task: str) -> tuple[dict[str, float], float]:
    """``skill_weights`` remembered for a few minutes: skill moves slowly, submissions come fast."""
    key = f"rgz:skill:{workflow.pk}:{task}"
    try:
        found = cache.get(key)
    except CACHE_DOWN as exc:  # the cache is down: measure afresh, the submit goes on
        logger.warning("skill cache unreachable (%s)", exc)
        return skill_weights(workflow=workflow, task=task)
    if found is None:
        found = skill_weights(workflow=workflow, task=task)
        try:
            cache.set(key, found, SKILL_CACHE_SECONDS)
        except CACHE_DOWN as exc:
            logger.warning("skill cache unreachable (%s)", exc)
    return found
