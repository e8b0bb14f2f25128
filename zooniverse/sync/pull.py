"""Pull: a fresh classification export, downloaded and imported as ``import_zooniverse`` does."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.utils import timezone

from annotations.models import WorkflowVersion
from annotations.retirement import retirement_apply
from jobs.reports import JobReport

from ..client import export_download, panoptes_session
from ..importer import import_classifications
from ..models import ZooniverseLink
from .links import (
    KEEP_PULLS,
    _link_busy,
    _noop,
    link_get,
)


def sync_pull(*, link_id: int, progress=_noop) -> JobReport:
    """Download a fresh classification export and import it (only new rows are added)."""
    link = link_get(link_id=link_id)
    with _link_busy(link, "pull"):
        return _pull(link, progress)


def _pull(link: ZooniverseLink, progress) -> JobReport:
    from panoptes_client import Workflow as PanoptesWorkflow

    ZooniverseLink.objects.filter(pk=link.pk).update(last_pull_requested_at=timezone.now())
    folder = Path(settings.MEDIA_ROOT) / "zooniverse" / "pulls"
    destination = folder / f"link-{link.pk}-{timezone.now():%Y%m%dT%H%M%S%f}-classifications.csv"
    with panoptes_session(link.endpoint):
        workflow = PanoptesWorkflow.find(link.zooniverse_workflow_id)
        _ensure_version(link, workflow)
        progress(0, 100, "asked Zooniverse for a classification export")
        export_download(
            workflow,
            "classifications",
            destination,
            on_wait=lambda polls: progress(0, 100, f"waiting for Zooniverse to build the export ({polls} checks)"),
        )
    progress(10, 100, "export downloaded; importing")
    imported = import_classifications(
        classifications=destination,
        progress=lambda done, total, message: progress(10 + int(85 * done / max(total, 1)), 100, message),
    )
    retired = retirement_apply(workflow=link.workflow)
    ZooniverseLink.objects.filter(pk=link.pk).update(last_pull_at=timezone.now())
    _prune_pulls(folder, link, keep=KEEP_PULLS)
    report = JobReport(
        created=imported.imported,
        skipped=imported.already_there,
        failed=imported.bad_count,
        errors=imported.bad_rows,
        notes=[f"export kept at {destination}", *imported.warnings]
        + [f"{len(imported.placeholders)} subjects had no platform cutout (placeholders)"]
        * bool(imported.placeholders),
        extra={"retired_by_rules": len(retired)},
    )
    progress(100, 100, f"{report.created} new classifications, {report.skipped} already there")
    return report


def _prune_pulls(folder: Path, link: ZooniverseLink, *, keep: int) -> None:
    """Each export holds every classification so far: the older downloads are redundant."""
    files = sorted(folder.glob(f"link-{link.pk}-*-classifications.csv"))
    for old in files[:-keep]:
        old.unlink(missing_ok=True)


def _ensure_version(link: ZooniverseLink, workflow) -> None:
    """The Zooniverse workflow's current version exists on the platform, with its tasks and strings,
    so that its answers count in consensus; the platform's own versions are never overwritten."""
    try:
        major, minor = (int(part) for part in str(workflow.raw.get("version", "")).split(".")[:2])
    except ValueError:
        return
    WorkflowVersion.objects.get_or_create(
        workflow=link.workflow,
        major=major,
        minor=minor,
        defaults={
            "tasks": workflow.raw.get("tasks") or {},
            "strings": workflow.raw.get("strings") or {},
            "first_task": workflow.raw.get("first_task") or "T0",
        },
    )
