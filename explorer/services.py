"""Bulk actions on a selection of cutouts: queue them in a workflow, set their priority, retire them."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction

from annotations import selectors as annotation_selectors
from annotations import services as annotation_services
from annotations.models import Cutout, RetirementReason, SubjectWorkflowStatus
from core.errors import InvalidInput, NotFound

ACTIONS = ("add_to_workflow", "set_priority", "retire")
MAX_SELECTION = 5000


@dataclass
class BulkResult:
    action: str
    selected: int
    changed: int
    skipped: list[str] = field(default_factory=list)  # why some cutouts were left as they were


def _cutouts(ids: list[int]) -> list[Cutout]:
    if not ids:
        raise InvalidInput("select at least one cutout", field="cutouts")
    if len(ids) > MAX_SELECTION:
        raise InvalidInput(f"at most {MAX_SELECTION} cutouts per action, not {len(ids)}", field="cutouts")
    found = list(Cutout.objects.filter(pk__in=set(ids)).order_by("pk"))
    missing = sorted(set(ids) - {c.pk for c in found})
    if missing:
        shown = ", ".join(map(str, missing[:10]))
        raise NotFound(f"cutouts {shown} do not exist", field="cutouts")
    return found


@transaction.atomic
def cutouts_bulk_action(
    *, action: str, cutout_ids: list[int], workflow_id: int | None = None, priority: float | None = None
) -> BulkResult:
    """One action on every selected cutout, all or nothing: an unknown id or workflow changes nothing."""
    if action not in ACTIONS:
        raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}", field="action")
    cutouts = _cutouts(cutout_ids)
    result = BulkResult(action=action, selected=len(cutouts), changed=0)
    if action == "set_priority":
        for cutout in cutouts:
            annotation_services.cutout_set_priority(cutout=cutout, priority=priority)
        result.changed = len(cutouts)
        return result
    if workflow_id is None:
        raise InvalidInput(f"{action} needs a workflow", field="workflow")
    workflow = annotation_selectors.workflow_get(workflow_id=workflow_id)
    if action == "add_to_workflow":
        result.changed = annotation_services.subject_statuses_ensure(
            workflow=workflow, cutouts=Cutout.objects.filter(pk__in=[c.pk for c in cutouts])
        )
        if result.changed < len(cutouts):
            result.skipped.append(f"{len(cutouts) - result.changed} already in {workflow.display_name}")
        return result
    queued = set(
        SubjectWorkflowStatus.objects.filter(workflow=workflow, subject__in=cutouts).values_list(
            "subject_id", flat=True
        )
    )
    already = set(
        SubjectWorkflowStatus.objects.filter(
            workflow=workflow, subject__in=cutouts, retired_at__isnull=False
        ).values_list("subject_id", flat=True)
    )
    for cutout in cutouts:
        if cutout.pk in queued and cutout.pk not in already:
            annotation_services.subject_retire(workflow=workflow, subject=cutout, reason=RetirementReason.HUMAN)
            result.changed += 1
    if len(cutouts) - len(queued):
        result.skipped.append(f"{len(cutouts) - len(queued)} not in {workflow.display_name}")
    if already:
        result.skipped.append(f"{len(already)} already retired")
    return result
