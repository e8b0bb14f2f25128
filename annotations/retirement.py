"""Retirement rules beyond the classification count, kept in a workflow's ``retirement`` JSON.

Zooniverse's own part (``criteria`` and ``options.count``) stays as it is, so exports keep their
meaning; the platform's early-retirement rules sit beside it under ``rules``::

    {"criteria": "classification_count", "options": {"count": 15},
     "rules": [{"kind": "consensus", "task": "T0", "min_votes": 5, "agreement": 0.8},
               {"kind": "nothing_here", "task": "T0", "answer": "Nothing here", "min_votes": 3,
                "fraction": 0.5},
               {"kind": "drawing_consensus", "task": "T1", "min_votes": 5, "agreement": 0.8}]}

A drawing-consensus rule reads the consensus on marks (mark_consensus.py): on a radio-component
task the share of volunteers who gave the consensus grouping, on a drawing task the share of
volunteers in the largest point cluster.

A consensus rule may set ``"weighted": true`` to count votes by volunteer skill, or
``"method": "posterior"`` (single-answer questions) to retire once the most probable answer under
the crowd's confusion on gold subjects reaches ``agreement`` (posterior_consensus.py): subjects
whose votes are clear retire early, the confusable ones gather more votes. Such a rule decides
nothing until volunteers have classified gold subjects. Rules only ever retire subjects; no
classification is touched when a rule changes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput

from .consensus import QUESTION_TYPES, QuestionConsensus, question_consensus
from .mark_consensus import MARK_TYPES, MarkConsensus, mark_consensus
from .models import RetirementReason, SubjectWorkflowStatus, Workflow
from .posterior_consensus import CONSENSUS_METHODS, crowd_confusion, crowd_confusion_cached, posterior_consensus
from .skill import skill_weights, skill_weights_cached
from .task_definitions import answer_labels

logger = logging.getLogger(__name__)
RULE_KINDS = {
    "consensus": RetirementReason.CONSENSUS,
    "nothing_here": RetirementReason.NOTHING_HERE,
    "drawing_consensus": RetirementReason.CONSENSUS,
}
AGREEMENT_KINDS = {"consensus", "drawing_consensus"}


@dataclass(frozen=True)
class RetirementRule:
    kind: str
    task: str
    min_votes: int
    agreement: float = 0.8  # consensus: the most likely answer's share
    answer: str = ""  # nothing_here: the answer label that means "nothing here"
    fraction: float = 0.5  # nothing_here: the share of votes for that answer
    weighted: bool = False
    method: str = "votes"  # consensus: vote shares, or the posterior under the crowd's gold confusion

    @property
    def reason(self) -> str:
        return RULE_KINDS[self.kind]

    def describe(self) -> str:
        votes = "skill-weighted votes" if self.weighted else "votes"
        if self.kind == "consensus" and self.method == "posterior":
            return (
                f"{self.task}: the most probable answer (crowd's gold confusion) has probability >= "
                f"{self.agreement:g} after at least {self.min_votes} votes"
            )
        if self.kind == "consensus":
            return f"{self.task}: agreement >= {self.agreement:g} after at least {self.min_votes} {votes}"
        if self.kind == "drawing_consensus":
            return f"{self.task}: marks agree (share >= {self.agreement:g}) after at least {self.min_votes} volunteers"
        return f"{self.task}: '{self.answer}' in >= {self.fraction:g} of {votes}, at least {self.min_votes} votes"

    def decides(self, consensus: QuestionConsensus | MarkConsensus) -> bool:
        if consensus.num_votes < self.min_votes:
            return False
        if self.kind in AGREEMENT_KINDS:
            return consensus.agreement >= self.agreement - 1e-12
        return consensus.fractions().get(self.answer, 0.0) >= self.fraction - 1e-12

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "task": self.task, "min_votes": self.min_votes, "weighted": self.weighted}
        if self.kind in AGREEMENT_KINDS:
            data["agreement"] = self.agreement
            if self.method != "votes":
                data["method"] = self.method
        else:
            data.update(answer=self.answer, fraction=self.fraction)
        return data


def retirement_validate(*, workflow: Workflow, retirement: dict) -> dict:
    """Check a retirement definition against the workflow's current tasks; return it normalised."""
    if not isinstance(retirement, dict):
        raise InvalidInput("retirement must be an object", field="retirement")
    criteria = retirement.get("criteria", "classification_count")
    if criteria not in ("classification_count", "never_retire"):
        raise InvalidInput(f"unknown retirement criteria {criteria!r}", field="retirement.criteria")
    normalised: dict = {"criteria": criteria}
    if criteria == "classification_count":
        count = (retirement.get("options") or {}).get("count", settings.RGZ_DEFAULT_RETIREMENT_COUNT)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InvalidInput("options.count must be a whole number of at least 1", field="retirement.options.count")
        normalised["options"] = {"count": count}
    raw_rules = retirement.get("rules", [])
    if not isinstance(raw_rules, list):
        raise InvalidInput("rules must be a list", field="retirement.rules")
    # The workflow's current version: what the retirement page shows (an imported Zooniverse
    # version may number higher but is not the platform's).
    version = workflow.versions.filter(major=workflow.version_major, minor=workflow.version_minor).first()
    tasks = version.tasks if version else {}
    strings = version.strings if version else {}
    rules = [_rule(index, raw, tasks, strings) for index, raw in enumerate(raw_rules)]
    normalised["rules"] = [rule.as_dict() for rule in rules]
    return normalised


def _rule(index: int, raw, tasks: dict, strings: dict) -> RetirementRule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict):
        raise InvalidInput(f"{where} must be an object", field="retirement.rules")
    kind = raw.get("kind")
    if kind not in RULE_KINDS:
        raise InvalidInput(f"{where}: kind must be one of {sorted(RULE_KINDS)}", field="retirement.rules")
    task = raw.get("task")
    if kind == "drawing_consensus":
        return _drawing_rule(where, raw, task, tasks)
    if task not in tasks or tasks[task].get("type") not in QUESTION_TYPES:
        questions = sorted(key for key, value in tasks.items() if value.get("type") in QUESTION_TYPES)
        raise InvalidInput(f"{where}: task must be a question task of the workflow ({questions})")
    min_votes = raw.get("min_votes", 5)
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or min_votes < 1:
        raise InvalidInput(f"{where}: min_votes must be a whole number of at least 1")
    weighted = raw.get("weighted", False)
    if not isinstance(weighted, bool):
        raise InvalidInput(f"{where}: weighted must be true or false")
    method = raw.get("method", "votes")
    if method not in CONSENSUS_METHODS or (method != "votes" and kind != "consensus"):
        allowed = CONSENSUS_METHODS if kind == "consensus" else ("votes",)
        raise InvalidInput(f"{where}: method must be one of {', '.join(allowed)}")
    if method == "posterior" and (weighted or tasks[task].get("type") != "single"):
        raise InvalidInput(f"{where}: posterior consensus needs a single-answer question and no skill weighting")
    if kind == "consensus":
        agreement = _share(raw.get("agreement", 0.8), f"{where}: agreement")
        return RetirementRule(
            kind=kind, task=task, min_votes=min_votes, agreement=agreement, weighted=weighted, method=method
        )
    labels = answer_labels(tasks[task], strings)
    answer = raw.get("answer")
    if isinstance(answer, int) and not isinstance(answer, bool) and 0 <= answer < len(labels):
        answer = labels[answer]
    if answer not in labels:
        raise InvalidInput(f"{where}: answer must be one of the task's answers {labels}")
    fraction = _share(raw.get("fraction", 0.5), f"{where}: fraction")
    return RetirementRule(
        kind=kind, task=task, min_votes=min_votes, answer=answer, fraction=fraction, weighted=weighted
    )


def _drawing_rule(where: str, raw: dict, task, tasks: dict) -> RetirementRule:
    if task not in tasks or tasks[task].get("type") not in MARK_TYPES:
        drawings = sorted(key for key, value in tasks.items() if value.get("type") in MARK_TYPES)
        raise InvalidInput(f"{where}: task must be a drawing or radio-component task of the workflow ({drawings})")
    min_votes = raw.get("min_votes", 5)
    if isinstance(min_votes, bool) or not isinstance(min_votes, int) or min_votes < 1:
        raise InvalidInput(f"{where}: min_votes must be a whole number of at least 1")
    if raw.get("weighted", False) is not False:
        raise InvalidInput(f"{where}: drawing consensus is not weighted by skill")
    agreement = _share(raw.get("agreement", 0.8), f"{where}: agreement")
    return RetirementRule(kind="drawing_consensus", task=task, min_votes=min_votes, agreement=agreement)


def _share(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
        raise InvalidInput(f"{what} must be a number above 0 and at most 1")
    return float(value)


def workflow_rules(workflow: Workflow) -> list[RetirementRule]:
    """The stored rules; one edited by hand into something unreadable is skipped (and logged), so
    that it cannot break every submission to the workflow."""
    rules = []
    for rule in (workflow.retirement or {}).get("rules", []):
        try:
            rules.append(RetirementRule(**rule))
        except TypeError:
            logger.warning("workflow %s: unreadable retirement rule %r skipped", workflow.pk, rule)
    return rules


def _consensus_for(workflow: Workflow, rule: RetirementRule, subject_ids, cache: dict) -> dict:
    if rule.kind == "drawing_consensus":
        if "marks" not in cache:
            cache["marks"] = mark_consensus(workflow=workflow, subject_ids=subject_ids)
        return cache["marks"]
    key = (rule.task, rule.weighted, rule.method)
    if key in cache:
        return cache[key]
    if rule.method == "posterior":
        # One subject (a submission) takes the cached confusion; a whole-workflow pass measures it afresh.
        measure = crowd_confusion_cached if subject_ids is not None else crowd_confusion
        confusion = measure(workflow=workflow, task=rule.task)
        try:
            cache[key] = posterior_consensus(
                workflow=workflow, task=rule.task, subject_ids=subject_ids, confusion=confusion
            )
        except InvalidInput as exc:  # no gold votes yet, or the task changed type: the rule waits
            logger.info("workflow %s: posterior rule on %s decides nothing yet (%s)", workflow.pk, rule.task, exc)
            cache[key] = {}
    else:
        weights, default = None, 1.0
        if rule.weighted:
            # One subject (a submission) takes the cached skill; a whole-workflow pass measures it afresh.
            measure = skill_weights_cached if subject_ids is not None else skill_weights
            weights, default = measure(workflow=workflow, task=rule.task)
        cache[key] = question_consensus(
            workflow=workflow, subject_ids=subject_ids, weights=weights, default_weight=default, include_expert=False
        )
    return cache[key]


def rules_matches(*, workflow: Workflow, rules: list[RetirementRule], subject_ids=None) -> list[dict[int, str]]:
    """Per rule: the open subjects (id -> reason) that it would retire now."""
    # gold subjects measure volunteers: their answers never retire them
    open_ids = SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True, gold=False)
    if subject_ids is not None:
        open_ids = open_ids.filter(subject_id__in=subject_ids)
    open_set = set(open_ids.values_list("subject_id", flat=True))
    cache: dict = {}
    matches = []
    for rule in rules:
        consensus = _consensus_for(workflow, rule, subject_ids, cache)
        matches.append(
            {
                subject_id: rule.reason
                for (subject_id, task), result in consensus.items()
                if task == rule.task and subject_id in open_set and rule.decides(result)
            }
        )
    return matches


def retirement_preview(*, workflow: Workflow, retirement: dict) -> dict:
    """How many open subjects each rule (and the count limit) would retire now, without retiring any."""
    normalised = retirement_validate(workflow=workflow, retirement=retirement)
    rules = [RetirementRule(**rule) for rule in normalised["rules"]]
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True, gold=False)
    by_count: set[int] = set()
    if normalised["criteria"] == "classification_count":
        limit = normalised["options"]["count"]
        by_count = set(statuses.filter(classification_count__gte=limit).values_list("subject_id", flat=True))
    matches = rules_matches(workflow=workflow, rules=rules)
    retired = set(by_count).union(*[set(m) for m in matches]) if matches else set(by_count)
    return {
        "retirement": normalised,
        "open_subjects": statuses.count(),
        "by_count": len(by_count),
        "rules": [
            {"rule": rule.as_dict(), "description": rule.describe(), "would_retire": len(match)}
            for rule, match in zip(rules, matches, strict=True)
        ],
        "would_retire": len(retired),
    }


@transaction.atomic
def workflow_retirement_update(*, workflow: Workflow, retirement: dict, apply_now: bool = False) -> dict:
    """Save new retirement settings; with ``apply_now`` retire the open subjects they decide now."""
    normalised = retirement_validate(workflow=workflow, retirement=retirement)
    Workflow.objects.filter(pk=workflow.pk).update(retirement=normalised)
    workflow.retirement = normalised
    retired = retirement_apply(workflow=workflow) if apply_now else []
    return {"retirement": normalised, "retired_now": len(retired), "retired_subjects": retired[:1000]}


def retirement_apply(*, workflow: Workflow, subject_ids: list[int] | None = None) -> list[int]:
    """Retire the open subjects (all, or the given ones) that the workflow's settings decide now; their ids."""
    rules = workflow_rules(workflow)
    decided: dict[int, str] = {}
    limit = workflow.retirement_limit
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow, retired_at__isnull=True, gold=False)
    if subject_ids is not None:
        statuses = statuses.filter(subject_id__in=subject_ids)
    if limit is not None:
        for subject_id in statuses.filter(classification_count__gte=limit).values_list("subject_id", flat=True):
            decided[subject_id] = RetirementReason.CLASSIFICATION_COUNT
    for match in rules_matches(workflow=workflow, rules=rules, subject_ids=subject_ids):
        for subject_id, reason in match.items():
            decided.setdefault(subject_id, reason)
    now = timezone.now()
    for reason in set(decided.values()):
        ids = [subject_id for subject_id, why in decided.items() if why == reason]
        statuses.filter(subject_id__in=ids).update(retired_at=now, retirement_reason=reason)
    return sorted(decided)
