"""Links between a platform workflow and a Zooniverse project, and the claim that runs one sync of a link at a time."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import Workflow
from core.errors import Conflict, InvalidInput, NotFound

from ..client import endpoint_allowed
from ..models import ZooniverseLink, ZooniverseWorkflow

PUSH_JOB = "zooniverse_push"
PULL_JOB = "zooniverse_pull"
LINK_BATCH = 100
UNRANKED_ON_ZOONIVERSE = 1e12  # the #priority of a subject the platform has not ranked: served last
KEEP_PULLS = 3  # downloaded exports kept per link (the newest), for audit


def _noop(done: int, total: int, message: str = "") -> None:
    pass


@transaction.atomic
def link_create(
    *,
    workflow: Workflow,
    project_id: int,
    zooniverse_workflow_id: int,
    endpoint: str | None = None,
    pull_every_minutes: int = 60,
) -> ZooniverseLink:
    """Tie a platform workflow to a Zooniverse project's workflow; imports then land on the platform one."""
    if project_id < 1 or zooniverse_workflow_id < 1:
        raise InvalidInput("project and workflow ids are positive numbers")
    endpoint = (endpoint or settings.ZOONIVERSE_ENDPOINT).rstrip("/")
    if not endpoint_allowed(endpoint):
        raise InvalidInput(
            f"{endpoint} is not a configured Panoptes endpoint; an admin adds it to RGZ_ZOONIVERSE_ALLOWED_ENDPOINTS",
            field="endpoint",
        )
    if ZooniverseLink.objects.filter(workflow=workflow).exists():
        raise Conflict(f"workflow {workflow.pk} is already linked to a Zooniverse project")
    mapped = ZooniverseWorkflow.objects.filter(zooniverse_id=zooniverse_workflow_id).first()
    if mapped and mapped.workflow_id != workflow.pk:
        raise Conflict(
            f"Zooniverse workflow {zooniverse_workflow_id} already feeds platform workflow {mapped.workflow_id}"
        )
    own = ZooniverseWorkflow.objects.filter(workflow=workflow).first()
    if own and own.zooniverse_id != zooniverse_workflow_id:
        raise Conflict(f"workflow {workflow.pk} already stands for Zooniverse workflow {own.zooniverse_id}")
    if not mapped:
        ZooniverseWorkflow.objects.create(
            zooniverse_id=zooniverse_workflow_id, display_name=workflow.display_name, workflow=workflow
        )
    return ZooniverseLink.objects.create(
        workflow=workflow,
        endpoint=endpoint,
        project_id=project_id,
        zooniverse_workflow_id=zooniverse_workflow_id,
        pull_every_minutes=pull_every_minutes,
    )


def link_get(*, link_id) -> ZooniverseLink:
    link = ZooniverseLink.objects.select_related("workflow").filter(pk=link_id).first()
    if link is None:
        raise NotFound(f"Zooniverse link {link_id} does not exist")
    return link


def _stale_before() -> datetime:
    """A push or pull started before this has died without saying so (a killed worker)."""
    return timezone.now() - timedelta(seconds=settings.ZOONIVERSE_EXPORT_TIMEOUT_SECONDS + 3600)


@contextmanager
def _link_busy(link: ZooniverseLink, what: str):
    """Run one push or pull of a link at a time: a claim on its row, released at the end."""
    claimed = (
        ZooniverseLink.objects.filter(pk=link.pk)
        .filter(Q(busy_since__isnull=True) | Q(busy_since__lt=_stale_before()))
        .update(busy_since=timezone.now(), busy_with=what)
    )
    if not claimed:
        current = ZooniverseLink.objects.values_list("busy_with", "busy_since").get(pk=link.pk)
        raise Conflict(f"a {current[0]} of this link is running since {current[1]:%Y-%m-%d %H:%M}; wait for it")
    try:
        yield
    finally:
        ZooniverseLink.objects.filter(pk=link.pk).update(busy_since=None, busy_with="")
