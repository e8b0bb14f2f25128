"""A workflow's acquisition policy (stored, versioned, rolled back) and its gold-standard subjects.

Every save is a new row and exactly one row per workflow is active, so a roll-back re-activates an
earlier row and the history is never rewritten. A workflow without a policy keeps the survey-level
queue ranking (annotations.ranking) unchanged.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from django.db import transaction
from django.db.models import Max, QuerySet

from core.errors import Conflict, InvalidInput, NotFound

from . import ml
from .compiled_query import CompiledQuery
from .consensus import QUESTION_TYPES, chosen_labels
from .models import AcquisitionPolicy, Classification, Cutout, SubjectWorkflowStatus, Workflow

# Asked on every lease: built and compiled to SQL once per process.
_ACTIVE_POLICY = CompiledQuery(
    lambda workflow_id: AcquisitionPolicy.objects.filter(workflow_id=workflow_id, active=True),
    {"workflow_id": -9_200_001},
)


def policy_active(*, workflow: Workflow) -> AcquisitionPolicy | None:
    return _ACTIVE_POLICY.first(workflow_id=workflow.pk)


def policy_history(*, workflow: Workflow) -> QuerySet[AcquisitionPolicy]:
    """Every policy the workflow had, newest first."""
    return AcquisitionPolicy.objects.filter(workflow=workflow).select_related("created_by").order_by("-number")


def policy_clean(values: dict) -> dict:
    """The policy's settings checked and completed with defaults; InvalidInput (400) with the
    library's message when they are not acceptable (negative or all-zero weights, an exploration
    share outside 0-1, ...)."""
    if not isinstance(values, dict):
        raise InvalidInput("a policy is a JSON object", field="policy")
    try:
        return ml.policy_normalise(values)
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidInput(f"invalid acquisition policy: {exc}", field="policy")


@transaction.atomic
def policy_save(
    *, workflow: Workflow, values: dict, task_name: str = "", note: str = "", user=None
) -> AcquisitionPolicy:
    """Store the settings as the workflow's new active policy (a new row; the previous stays)."""
    cleaned = policy_clean(values)
    Workflow.objects.select_for_update().filter(pk=workflow.pk).first()  # one save at a time per workflow
    number = (AcquisitionPolicy.objects.filter(workflow=workflow).aggregate(n=Max("number"))["n"] or 0) + 1
    AcquisitionPolicy.objects.filter(workflow=workflow, active=True).update(active=False)
    return AcquisitionPolicy.objects.create(
        workflow=workflow,
        number=number,
        policy=cleaned,
        task_name=(task_name or "").strip(),
        active=True,
        note=(note or "")[:200],
        created_by=user if user is not None and user.pk else None,
    )


@transaction.atomic
def policy_rollback(*, workflow: Workflow, policy_id) -> AcquisitionPolicy:
    """Make an earlier policy of this workflow the active one again."""
    try:
        policy_id = int(policy_id)
    except (TypeError, ValueError):
        raise InvalidInput(f"policy must be an integer id, not {policy_id!r}", field="policy")
    Workflow.objects.select_for_update().filter(pk=workflow.pk).first()
    target = AcquisitionPolicy.objects.filter(workflow=workflow, pk=policy_id).first()
    if target is None:
        raise NotFound(f"workflow {workflow.pk} has no acquisition policy {policy_id}", field="policy")
    AcquisitionPolicy.objects.filter(workflow=workflow, active=True).exclude(pk=target.pk).update(active=False)
    if not target.active:
        target.active = True
        target.save(update_fields=["active"])
    return target


def policy_gold_rate(policy: AcquisitionPolicy, answered: int) -> float:
    """Share of serves that are gold-standard subjects for a volunteer with ``answered``
    classifications in the policy's workflow."""
    return ml.policy_gold_rate(policy.policy, answered)


@transaction.atomic
def gold_subjects_mark(*, workflow: Workflow, subject_ids: list[int] | None = None) -> int:
    """Flag expert-labelled subjects of the workflow as gold standard (all of them when
    ``subject_ids`` is None); a named subject without an expert answer refuses the request."""
    answered = Classification.objects.filter(workflow=workflow, expert=True, subject__synthetic=False)
    expert = set(answered.values_list("subject_id", flat=True).distinct())
    statuses = SubjectWorkflowStatus.objects.filter(workflow=workflow)
    if subject_ids is None:
        chosen = expert
    else:
        chosen = {int(pk) for pk in subject_ids}
        generated = sorted(Cutout.objects.filter(pk__in=chosen, synthetic=True).values_list("pk", flat=True))
        if generated:
            shown = ", ".join(str(pk) for pk in generated[:10])
            raise InvalidInput(f"generated subjects cannot be gold standard: {shown}", field="subjects")
        missing = sorted(chosen - expert)
        if missing:
            shown = ", ".join(str(pk) for pk in missing[:10])
            raise InvalidInput(f"subjects without an expert answer in this workflow: {shown}", field="subjects")
        unknown = chosen - set(statuses.filter(subject_id__in=chosen).values_list("subject_id", flat=True))
        if unknown:
            raise InvalidInput(f"subjects not in workflow {workflow.pk}: {sorted(unknown)[:10]}", field="subjects")
    return statuses.filter(subject_id__in=chosen, gold=False).update(gold=True)


def gold_feedback(*, classification: Classification) -> dict | None:
    """What the experts answered on a gold-standard subject, beside the volunteer's answer, for
    the questions of this classification; None for a real subject or when the workflow's policy
    turns feedback off."""
    if not classification.gold_standard:
        return None  # answers to real subjects (no query: the submit's own hot path)
    status = SubjectWorkflowStatus.objects.filter(
        workflow_id=classification.workflow_id, subject_id=classification.subject_id, gold=True
    ).first()
    if status is None:
        return None
    policy = policy_active(workflow=classification.workflow)
    if policy is not None and not policy.policy.get("feedback", True):
        return None
    experts = Classification.objects.filter(
        workflow_id=classification.workflow_id, subject_id=classification.subject_id, expert=True
    ).select_related("workflow_version")
    expert_votes: dict[str, Counter] = defaultdict(Counter)
    for row in experts:
        for item in row.annotations or []:
            definition = row.workflow_version.tasks.get(item.get("task"), {})
            if definition.get("type") in QUESTION_TYPES:
                expert_votes[item["task"]].update(
                    chosen_labels(definition, row.workflow_version.strings, item.get("value"))
                )
    version = classification.workflow_version
    questions = []
    for item in classification.annotations or []:
        task = item.get("task")
        definition = version.tasks.get(task, {})
        if definition.get("type") not in QUESTION_TYPES or not expert_votes.get(task):
            continue
        expert = expert_votes[task].most_common(1)[0][0]
        yours = chosen_labels(definition, version.strings, item.get("value"))
        questions.append(
            {
                "task": task,
                "question": version.strings.get(definition.get("question"), definition.get("question", task)),
                "expert": expert,
                "yours": yours,
                "agree": expert in yours,
            }
        )
    if not questions:
        return None
    return {"gold": True, "questions": questions, "agree": all(q["agree"] for q in questions)}


def gold_subjects_count(*, workflow: Workflow) -> int:
    return SubjectWorkflowStatus.objects.filter(workflow=workflow, gold=True).count()


SENT_TO_FRONT = "sent to the front of the queue by an astronomer"


@transaction.atomic
def subject_send_to_front(*, workflow: Workflow, cutout: Cutout) -> SubjectWorkflowStatus:
    """Put a cutout at the head of a workflow's queue (adding it to the workflow when it is not
    in it); a policy re-rank keeps it there. Conflict when it has retired in this workflow."""
    status, _ = SubjectWorkflowStatus.objects.select_for_update().get_or_create(workflow=workflow, subject=cutout)
    if status.retired_at is not None:
        raise Conflict(f"cutout {cutout.pk} has retired in workflow {workflow.pk} ({status.retirement_reason})")
    if status.gold:
        raise Conflict(f"cutout {cutout.pk} is a gold-standard subject of workflow {workflow.pk}")
    top = SubjectWorkflowStatus.objects.filter(workflow=workflow).aggregate(top=Max("priority"))["top"]
    status.priority = max(float(top if top is not None else 0.0), 0.0) + 1.0
    status.rank_reason = SENT_TO_FRONT
    status.save(update_fields=["priority", "rank_reason"])
    return status
