"""Consensus that reads votes through the crowd's confusion on gold-standard subjects.

Skill weighting (skill.py) scales whole volunteers up or down; it cannot say that "Bent" votes on
true FRI sources are common while "FRI" votes on true Bent sources are rare. The crowd's confusion
on the gold subjects (every volunteer's gold classifications pooled: few volunteers classify enough
gold subjects for a matrix of their own) does: each subject's answer is the one most probable given
its votes, votes independent given the true answer (Dawid & Skene with the confusion measured, not
fitted). On four-class radio morphology with the measured volunteer confusion this cuts the share of
wrong labels from 30 % to 23 % at 5 votes (bench/vote_retirement.py).

Single-answer question tasks only: a classification that picks several answers is not one vote.
"""

from __future__ import annotations

import logging
from collections import Counter

import numpy as np
from django.core.cache import cache

from core.cache import CACHE_DOWN
from core.errors import InvalidInput

from . import ml
from .consensus import QuestionConsensus, question_consensus
from .models import Workflow
from .selectors import workflow_current_version
from .skill import volunteer_skills

logger = logging.getLogger(__name__)
CONSENSUS_METHODS = ("votes", "posterior")  # vote shares, or the posterior under the gold confusion
NO_ANSWER = "(none)"  # skill.py's given answer when a gold classification chose nothing
CONFUSION_CACHE_SECONDS = 300


def crowd_confusion(*, workflow: Workflow, task: str) -> tuple[list[str], np.ndarray]:
    """Answer labels and the (K, K) counts true answer -> given answer over every volunteer's gold
    classifications of ``task``."""
    pooled: dict[str, Counter] = {}
    for record in volunteer_skills(workflow=workflow, task=task).values():
        for true, row in record.confusion.items():
            pooled.setdefault(true, Counter()).update(row)
    labels = sorted({true for true in pooled} | {given for row in pooled.values() for given in row} - {NO_ANSWER})
    counts = np.zeros((len(labels), len(labels)))
    index = {label: i for i, label in enumerate(labels)}
    for true, row in pooled.items():
        for given, n in row.items():
            if true in index and given in index:
                counts[index[true], index[given]] += n
    return labels, counts


def crowd_confusion_cached(*, workflow: Workflow, task: str) -> tuple[list[str], np.ndarray]:
    """``crowd_confusion`` remembered for a few minutes, for checks of one subject at a time."""
    key = f"rgz:crowd-confusion:{workflow.pk}:{task}"
    try:
        found = cache.get(key)
    except CACHE_DOWN as exc:  # the cache is down: measure afresh
        logger.warning("confusion cache unreachable (%s)", exc)
        found = None
    if found is not None:
        return found[0], np.array(found[1], dtype=float).reshape(len(found[0]), len(found[0]))
    labels, counts = crowd_confusion(workflow=workflow, task=task)
    try:
        cache.set(key, (labels, counts.tolist()), CONFUSION_CACHE_SECONDS)
    except CACHE_DOWN as exc:
        logger.warning("confusion cache unreachable (%s)", exc)
    return labels, counts


def posterior_consensus(
    *,
    workflow: Workflow,
    task: str,
    subject_ids: list[int] | None = None,
    confusion: tuple[list[str], np.ndarray] | None = None,
) -> dict[tuple[int, str], QuestionConsensus]:
    """(subject id, task) -> consensus whose ``posterior`` holds P(true answer | votes); experts'
    classifications are the truth the confusion is measured on, so they are not votes here.
    ``confusion``: the crowd's (labels, counts) when already measured."""
    definition = workflow_current_version(workflow=workflow).tasks.get(task, {})
    if definition.get("type") != "single":
        raise InvalidInput(
            f"posterior consensus needs a single-answer question task; {task!r} is {definition.get('type')!r}",
            field="task",
        )
    labels, gold = confusion if confusion is not None else crowd_confusion(workflow=workflow, task=task)
    labels = list(labels)
    if not gold.sum():
        raise InvalidInput(
            f"posterior consensus needs volunteer classifications of gold-standard (expert-labelled) subjects "
            f"on task {task!r}; there are none yet",
            field="method",
        )
    found = question_consensus(workflow=workflow, subject_ids=subject_ids, include_expert=False)
    found = {key: value for key, value in found.items() if key[1] == task}
    # an answer given on real subjects but never on gold: a column of pseudo-votes only
    labels += sorted({label for value in found.values() for label in value.counts} - set(labels))
    counts = np.zeros((len(labels), len(labels)))
    counts[: gold.shape[0], : gold.shape[1]] = gold
    index = {label: i for i, label in enumerate(labels)}
    keys = list(found)
    tallies = np.zeros((len(keys), len(labels)))
    for row, key in enumerate(keys):
        for label, n in found[key].counts.items():
            tallies[row, index[label]] = n
    posterior = ml.votes_posterior(tallies, counts) if keys else np.zeros((0, len(labels)))
    for row, key in enumerate(keys):
        found[key].posterior = {label: float(p) for label, p in zip(labels, posterior[row], strict=True)}
    return found
