"""Consensus on question tasks: vote counts per subject and answer, fractions, most likely answer,
agreement (the most likely answer's share). Answers are counted by label text, so platform
classifications (answer indices) and imported ones (label text) count together."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from .models import Classification, Workflow, WorkflowVersion

QUESTION_TYPES = {"single", "multiple", "tags"}


@dataclass
class QuestionConsensus:
    subject_id: int
    task: str
    counts: Counter

    @property
    def num_votes(self) -> int:
        return sum(self.counts.values())

    @property
    def most_likely(self) -> str | None:
        return self.counts.most_common(1)[0][0] if self.counts else None

    @property
    def agreement(self) -> float:
        return self.counts.most_common(1)[0][1] / self.num_votes if self.counts else 0.0

    def fractions(self) -> dict[str, float]:
        total = self.num_votes or 1
        return {label: n / total for label, n in self.counts.items()}


def _labels(task: dict, strings: dict, value) -> list[str]:
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


def question_consensus(*, workflow: Workflow) -> dict[tuple[int, str], QuestionConsensus]:
    """(subject id, task) -> consensus, over every classification of the workflow."""
    versions = {v.pk: v for v in WorkflowVersion.objects.filter(workflow=workflow)}
    result: dict[tuple[int, str], QuestionConsensus] = {}
    tallies: dict[tuple[int, str], Counter] = defaultdict(Counter)
    rows = Classification.objects.filter(workflow=workflow).values_list(
        "subject_id", "workflow_version_id", "annotations"
    )
    for subject_id, version_id, answers in rows.iterator(chunk_size=5000):
        version = versions[version_id]
        for item in answers or []:
            task = version.tasks.get(item.get("task"), {})
            if task.get("type") not in QUESTION_TYPES:
                continue
            tallies[(subject_id, item["task"])].update(_labels(task, version.strings, item.get("value")))
    for key, counts in tallies.items():
        result[key] = QuestionConsensus(subject_id=key[0], task=key[1], counts=counts)
    return result
