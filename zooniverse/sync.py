"""Sync with a live Zooniverse project through panoptes-client.

Push: make the subject set, upload each open subject with hidden metadata (``#rgz_cutout_id``,
``#priority``), add them to the set, link the set to the Zooniverse workflow, keep ``#priority``
in step with the platform's ranking and retire on Zooniverse what the platform retired.
Pull: ask for a classification export, wait for it, download it and import it through the same
code path as ``import_zooniverse``.

Every step records its result at once (a subject row right after its creation, the upload and
set membership as flags), so a failure half-way keeps what was done and the next run goes on
from there without making anything twice.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations.models import UNRANKED, SubjectWorkflowStatus, Workflow, WorkflowVersion
from annotations.retirement import retirement_apply
from core.errors import Conflict, InvalidInput, NotFound
from jobs.models import Job
from jobs.reports import JobReport

from .client import ZooniverseUnavailable, endpoint_allowed, export_download, panoptes_session, upload_media
from .importer import import_classifications
from .models import ZooniverseLink, ZooniverseSubject, ZooniverseWorkflow

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


# -- push ------------------------------------------------------------------------------------


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


def sync_push(*, link_id: int, progress=_noop) -> JobReport:
    """Push the workflow's open subjects and their ranking; resumable after any failure."""
    link = link_get(link_id=link_id)
    with _link_busy(link, "push"):
        return _push(link, progress)


def _push(link: ZooniverseLink, progress) -> JobReport:
    report = JobReport()
    with panoptes_session(link.endpoint):
        _ensure_subject_set(link, report)
        pending = _subjects_to_create(link)
        total = len(pending) + 3
        for done, status in enumerate(pending, start=1):
            _create_subject(link, status, report)
            progress(done, total, f"uploaded {done} of {len(pending)} subjects")
        _finish_uploads(link, report)
        _add_to_subject_set(link, report)
        progress(total - 2, total, "subjects in the subject set")
        _link_subject_set(link, report)
        _push_priorities(link, report)
        progress(total - 1, total, "priorities pushed")
        _push_retirements(link, report)
    ZooniverseLink.objects.filter(pk=link.pk).update(last_push_at=timezone.now())
    updated = report.extra.get("priorities_updated", 0)
    progress(total, total, f"{report.created} subjects created, {updated} priorities updated")
    return report


def _ensure_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import SubjectSet

    if link.subject_set_id:
        return
    subject_set = SubjectSet()
    subject_set.links.project = str(link.project_id)
    subject_set.display_name = f"{link.workflow.display_name} (rgzplatform {timezone.now():%Y-%m-%d %H:%M})"
    subject_set.metadata = {"#rgz_workflow_id": link.workflow_id}
    subject_set.save()
    link.subject_set_id = int(subject_set.id)
    ZooniverseLink.objects.filter(pk=link.pk).update(subject_set_id=link.subject_set_id)
    report.notes.append(f"made subject set {subject_set.id}")


def _subjects_to_create(link: ZooniverseLink) -> list[SubjectWorkflowStatus]:
    """Open subjects Zooniverse does not have: neither pushed nor met in an imported export."""
    known = ZooniverseSubject.objects.values_list("cutout_id", flat=True)
    return list(
        SubjectWorkflowStatus.objects.filter(workflow=link.workflow, retired_at__isnull=True)
        .exclude(subject_id__in=known)
        .select_related("subject")
        .order_by("-priority", "subject_id")
    )


def _create_subject(link: ZooniverseLink, status: SubjectWorkflowStatus, report: JobReport) -> None:
    from panoptes_client import Subject

    cutout = status.subject
    subject = Subject()
    subject.links.project = str(link.project_id)
    # The media type alone: the stand-in or Zooniverse answers with an upload URL, which we PUT to
    # ourselves so that a failed upload is seen (the client's own upload runs in the background).
    subject.locations = ["image/png"]
    subject.metadata = _subject_metadata(cutout)
    subject.save()
    upload_url = next(iter(subject.locations[0].values()))
    row = ZooniverseSubject.objects.create(
        zooniverse_id=int(subject.id),
        cutout=cutout,
        link=link,
        metadata=subject.metadata,
        matched_by="pushed",
        upload_url=upload_url,
        uploaded=False,
    )
    report.created += 1
    _upload(row, report)


def _subject_metadata(cutout) -> dict:
    metadata = {"#rgz_cutout_id": cutout.pk, "Filename": f"{cutout.name}.png", "#name": cutout.name}
    if cutout.ra_deg is not None and cutout.dec_deg is not None:
        metadata.update({"#ra": round(cutout.ra_deg, 6), "#dec": round(cutout.dec_deg, 6)})
    return metadata


def _upload(row: ZooniverseSubject, report: JobReport) -> None:
    import requests

    try:
        with row.cutout.image.open("rb") as handle:
            upload_media(row.upload_url, handle.read(), "image/png")
    except requests.RequestException as exc:
        raise ZooniverseUnavailable(f"upload of subject {row.zooniverse_id} failed: {exc}") from exc
    ZooniverseSubject.objects.filter(pk=row.pk).update(uploaded=True, upload_url="")


def _finish_uploads(link: ZooniverseLink, report: JobReport) -> None:
    """Uploads a failed run left behind: their subjects exist, only the image is missing."""
    for row in ZooniverseSubject.objects.filter(link=link, uploaded=False).select_related("cutout"):
        _upload(row, report)
        report.extra["uploads_resumed"] = report.extra.get("uploads_resumed", 0) + 1


def _add_to_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import SubjectSet

    waiting = list(
        ZooniverseSubject.objects.filter(link=link, uploaded=True, in_subject_set=False).values_list(
            "zooniverse_id", flat=True
        )
    )
    if not waiting:
        return
    subject_set = SubjectSet.find(link.subject_set_id)
    for start in range(0, len(waiting), LINK_BATCH):
        batch = waiting[start : start + LINK_BATCH]
        subject_set.links.subjects.add([str(i) for i in batch])
        ZooniverseSubject.objects.filter(zooniverse_id__in=batch).update(in_subject_set=True)
    report.extra["added_to_set"] = len(waiting)


def _link_subject_set(link: ZooniverseLink, report: JobReport) -> None:
    from panoptes_client import Workflow as PanoptesWorkflow

    if link.subject_set_linked:
        return
    workflow = PanoptesWorkflow.find(link.zooniverse_workflow_id)
    workflow.links.subject_sets.add([str(link.subject_set_id)])
    ZooniverseLink.objects.filter(pk=link.pk).update(subject_set_linked=True)
    link.subject_set_linked = True
    report.notes.append(f"linked subject set {link.subject_set_id} to workflow {link.zooniverse_workflow_id}")


def zooniverse_priority(priority: float) -> float:
    """The ``#priority`` for a platform queue priority (a workflow status row's copy).

    Zooniverse serves a prioritized workflow's subjects in ascending ``#priority`` and the platform
    serves the highest priority first, so the sign flips; unranked subjects go last. A subject's
    value depends on its own priority only, so a change moves no other subject.
    """
    if priority <= UNRANKED / 2:
        return UNRANKED_ON_ZOONIVERSE
    return round(-priority, 9)


def platform_priorities(link: ZooniverseLink) -> dict[int, float]:
    """Zooniverse subject id -> the ``#priority`` it should hold, for the pushed subjects still open."""
    rows = dict(ZooniverseSubject.objects.filter(link=link).values_list("cutout_id", "zooniverse_id"))
    statuses = SubjectWorkflowStatus.objects.filter(
        workflow=link.workflow, retired_at__isnull=True, subject_id__in=list(rows)
    ).values_list("subject_id", "priority")
    return {rows[subject_id]: zooniverse_priority(priority) for subject_id, priority in statuses}


def _push_priorities(link: ZooniverseLink, report: JobReport) -> None:
    """Update ``#priority`` on Zooniverse where the platform's priority moved (a GET and a PUT each)."""
    from panoptes_client import Subject

    wanted = platform_priorities(link)
    held = dict(ZooniverseSubject.objects.filter(link=link).values_list("zooniverse_id", "pushed_priority"))
    changed = [zid for zid, value in wanted.items() if held.get(zid) != value]
    for zid in changed:
        subject = Subject.find(zid)
        metadata = dict(subject.metadata or {})
        subject._original_metadata = dict(metadata)  # the client sets it only for new subjects
        metadata["#priority"] = wanted[zid]
        subject.metadata = metadata
        subject.save()
        ZooniverseSubject.objects.filter(zooniverse_id=zid).update(pushed_priority=wanted[zid])
    report.extra["priorities_updated"] = len(changed)


def _push_retirements(link: ZooniverseLink, report: JobReport) -> None:
    """Retire on Zooniverse the pushed subjects that the platform has retired."""
    from panoptes_client import Workflow as PanoptesWorkflow

    retired = dict(
        SubjectWorkflowStatus.objects.filter(workflow=link.workflow, retired_at__isnull=False).values_list(
            "subject_id", "retirement_reason"
        )
    )
    rows = [
        row
        for row in ZooniverseSubject.objects.filter(link=link, retired_on_zooniverse=False, uploaded=True)
        if row.cutout_id in retired
    ]
    if not rows:
        return
    workflow = PanoptesWorkflow(str(link.zooniverse_workflow_id))
    for reason in sorted({retired[row.cutout_id] for row in rows}):
        ids = [row.zooniverse_id for row in rows if retired[row.cutout_id] == reason]
        for start in range(0, len(ids), LINK_BATCH):
            batch = ids[start : start + LINK_BATCH]
            # Panoptes knows the platform's reasons (classification_count, consensus, nothing_here, human...).
            workflow.retire_subjects([str(i) for i in batch], reason=reason or "other")
            ZooniverseSubject.objects.filter(zooniverse_id__in=batch).update(retired_on_zooniverse=True)
    report.extra["retired_on_zooniverse"] = len(rows)


# -- pull ------------------------------------------------------------------------------------


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
        notes=[f"export kept at {destination}"]
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


# -- scheduling ------------------------------------------------------------------------------


def _links_with_live_jobs(kind: str) -> set[int]:
    """Links with a job of this kind queued or running, leaving out jobs too old to be alive."""
    jobs = Job.objects.filter(
        kind=kind, status__in=[Job.Status.QUEUED, Job.Status.RUNNING], created_at__gte=_stale_before()
    )
    return {job.parameters.get("link_id") for job in jobs}


def link_sync_start(*, link: ZooniverseLink, kind: str, user=None) -> Job:
    """Queue a push or a pull, unless one of the same kind is queued or running for the link."""
    from jobs.dispatch import job_start

    if link.pk in _links_with_live_jobs(kind):
        raise Conflict(f"a {kind.removeprefix('zooniverse_')} of this link is already queued or running")
    return job_start(kind=kind, parameters={"link_id": link.pk}, user=user)


def links_due(*, now=None) -> list[ZooniverseLink]:
    """Links whose scheduled pull is due and that have no pull queued or running."""
    now = now or timezone.now()
    busy = _links_with_live_jobs(PULL_JOB)
    due = []
    for link in ZooniverseLink.objects.filter(pull_every_minutes__gt=0):
        last = link.last_pull_requested_at
        if link.pk not in busy and (last is None or now - last >= timedelta(minutes=link.pull_every_minutes)):
            due.append(link)
    return due


def links_with_new_ranking() -> list[ZooniverseLink]:
    """Pushed links where the platform's ranking moved or open subjects wait to be pushed."""
    changed = []
    for link in ZooniverseLink.objects.filter(last_push_at__isnull=False).select_related("workflow"):
        held = dict(ZooniverseSubject.objects.filter(link=link).values_list("zooniverse_id", "pushed_priority"))
        if any(held.get(zid) != value for zid, value in platform_priorities(link).items()) or _subjects_to_create(link):
            changed.append(link)
    return changed


def sync_schedule(*, now=None) -> list[Job]:
    """Start the pulls that are due and the pushes that a ranking change calls for (the beat task's work)."""
    from jobs.dispatch import job_start

    now = now or timezone.now()
    busy_push = _links_with_live_jobs(PUSH_JOB)
    started = []
    for link in links_due(now=now):
        ZooniverseLink.objects.filter(pk=link.pk).update(last_pull_requested_at=now)
        started.append(job_start(kind=PULL_JOB, parameters={"link_id": link.pk}))
    for link in links_with_new_ranking():
        if link.pk not in busy_push:
            started.append(job_start(kind=PUSH_JOB, parameters={"link_id": link.pk}))
    return started
