"""Consensus on question tasks: vote counts per subject and answer, fractions, most likely answer,
agreement (the most likely answer's share). Answers are counted by label text, so platform
classifications (answer indices) and imported ones (label text) count together.

Votes may be weighted per volunteer (by the skill that ``skill.py`` measures on gold-standard
subjects); then counts are sums of weights and ``num_votes`` stays the number of classifications."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from .models import Classification, Workflow, WorkflowVersion

QUESTION_TYPES = {"single", "multiple", "tags"}


@dataclass
class QuestionConsensus:
    subject_id: int
    task: str
    counts: Counter  # answer label -> votes (or summed weights when weighted)
    classifications: int = 0  # how many classifications answered the task
    posterior: dict[str, float] | None = None  # answer label -> P(true answer | votes), posterior_consensus.py

    @property
    def num_votes(self) -> int:
        return self.classifications or int(round(sum(self.counts.values())))

    @property
    def most_likely(self) -> str | None:
        if self.posterior:
            return max(self.posterior, key=self.posterior.get)
        return self.counts.most_common(1)[0][0] if self.counts else None

    @property
    def agreement(self) -> float:
        """The most likely answer's share of the votes, or its posterior probability."""
        if self.posterior:
            return max(self.posterior.values())
        total = sum(self.counts.values())
        return self.counts.most_common(1)[0][1] / total if total > 0 else 0.0

    def fractions(self) -> dict[str, float]:
        total = sum(self.counts.values()) or 1
        return {label: n / total for label, n in self.counts.items()}

    def as_dict(self) -> dict:
        return {
            "subject": self.subject_id,
            "task": self.task,
            "num_votes": self.num_votes,
            "counts": dict(self.counts),
            "fractions": self.fractions(),
            "most_likely": self.most_likely,
            "agreement": self.agreement,
            "posterior": self.posterior,
        }


def chosen_labels(task: dict, strings: dict, value) -> list[str]:
    """An answer (indices as the API stores them, or label text as exports do) as label texts."""
    answers = [strings.get(a["label"], a["label"]) for a in task.get("answers", [])]
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        if isinstance(v, bool):
            continue
        if isinstance(v, int) and 0 <= v < len(answers):
            out.append(answers[v])
        elif isinstance(v, str):
            out.append(v)
    return out


def question_consensus(
    *,
    workflow: Workflow,
    subject_ids: list[int] | None = None,
    weights: dict[str, float] | None = None,
    default_weight: float = 1.0,
    include_expert: bool = True,
) -> dict[tuple[int, str], QuestionConsensus]:
    """(subject id, task) -> consensus, over the workflow's classifications.

    ``weights`` maps volunteer keys to vote weights (volunteers not in it weigh ``default_weight``);
    without it every vote counts 1. ``include_expert=False`` leaves expert labels out (they are
    the truth that skill is measured against, not votes).
    """
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    tallies: dict[tuple[int, str], Counter] = defaultdict(Counter)
    answered: Counter = Counter()
    rows = Classification.objects.filter(workflow=workflow)
    if subject_ids is not None:
        rows = rows.filter(subject_id__in=subject_ids)
    if not include_expert:
        rows = rows.filter(expert=False)
    rows = rows.values_list("subject_id", "workflow_version_id", "annotations", "volunteer_key")
    for subject_id, version_id, answers, volunteer_key in rows.iterator(chunk_size=5000):
        version = versions[version_id]
        weight = 1 if weights is None else weights.get(volunteer_key, default_weight)
        for item in answers or []:
            task = version.tasks.get(item.get("task"), {})
            if task.get("type") not in QUESTION_TYPES:
                continue
            key = (subject_id, item["task"])
            answered[key] += 1
            for label in chosen_labels(task, version.strings, item.get("value")):
                tallies[key][label] += weight
    return {
        key: QuestionConsensus(subject_id=key[0], task=key[1], counts=tallies[key], classifications=answered[key])
        for key in answered
    }
